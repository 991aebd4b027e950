// The exporter's shared state: the loaded configuration (swapped atomically on reload), the
// prober, the history and the self metrics, and the one probe path that /probe and watch mode
// both use. Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "common/limits.h"
#include "config/exporter_config.h"
#include "config/web_config.h"
#include "expose/self_metrics.h"
#include "history/history_store.h"
#include "probe/prober.h"

namespace gx {

struct AppFlags {
  std::string config_file;  // empty: DefaultConfig()
  std::string web_config_file;
  std::chrono::milliseconds timeout_offset{500};
  std::size_t memory_budget_bytes = kDefaultMemoryBudgetBytes;
};

class App {
 public:
  App(AppFlags flags, std::string version, std::string revision);
  // Loads the configuration files; on failure keeps the previous ones (if any).
  Status Reload();
  std::shared_ptr<const Config> config() const;
  std::shared_ptr<const WebConfig> web_config() const;

  // Probes target with module; records the result in history and metrics.
  std::shared_ptr<const ProbeResult> RunProbe(
      const std::string& target, const Module& module, std::chrono::milliseconds budget,
      const std::map<std::string, std::string>& labels = {},
      std::shared_ptr<const ConnectPolicy> connect_policy = nullptr);

  Prober& prober() { return prober_; }
  HistoryStore& history() { return history_; }
  SelfMetrics& metrics() { return metrics_; }
  const AppFlags& flags() const { return flags_; }
  const std::string& version() const { return version_; }
  void set_ready(bool r) { ready_ = r; }
  bool ready() const { return ready_; }

 private:
  const AppFlags flags_;
  const std::string version_;
  Prober prober_;
  HistoryStore history_;
  SelfMetrics metrics_;
  mutable std::mutex mu_;
  std::shared_ptr<const Config> config_;      // GUARDED_BY(mu_)
  std::shared_ptr<const WebConfig> web_config_;  // GUARDED_BY(mu_)
  bool loaded_once_ = false;                     // GUARDED_BY(mu_): the start-up load is done
  std::atomic<bool> ready_{false};
};

}  // namespace gx
