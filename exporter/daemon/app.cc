#include "daemon/app.h"

#include "common/logger.h"

namespace gx {

App::App(AppFlags flags, std::string version, std::string revision)
    : flags_(std::move(flags)),
      version_(std::move(version)),
      prober_(Limits(), flags_.memory_budget_bytes),
      history_(HistoryLimits()),
      metrics_(version_, revision),
      config_(DefaultConfig()),
      web_config_(std::make_shared<const WebConfig>()) {}

std::shared_ptr<const Config> App::config() const {
  std::lock_guard<std::mutex> lock(mu_);
  return config_;
}

std::shared_ptr<const WebConfig> App::web_config() const {
  std::lock_guard<std::mutex> lock(mu_);
  return web_config_;
}

Status App::Reload() {
  bool reloading;
  {
    std::lock_guard<std::mutex> lock(mu_);
    reloading = loaded_once_;
  }
  // At start (and under --config.check) there is no previous configuration to keep.
  const char* kept = reloading ? ", keeping the previous one" : "";
  std::shared_ptr<const Config> config = DefaultConfig();
  if (!flags_.config_file.empty()) {
    auto loaded = LoadConfigFile(flags_.config_file);
    if (!loaded.ok()) {
      metrics_.ReloadDone(false);
      Log().Error(std::string("error loading config") + kept,
                  {{"file", flags_.config_file}, {"err", loaded.status().message()}});
      return loaded.status();
    }
    config = loaded.value();
  }
  std::shared_ptr<const WebConfig> web = std::make_shared<const WebConfig>();
  if (!flags_.web_config_file.empty()) {
    auto loaded = LoadWebConfigFile(flags_.web_config_file);
    if (!loaded.ok()) {
      metrics_.ReloadDone(false);
      Log().Error(std::string("error loading web config") + kept,
                  {{"file", flags_.web_config_file}, {"err", loaded.status().message()}});
      return loaded.status();
    }
    web = loaded.value();
  }
  HistoryLimits limits;
  limits.max_points = config->watch.history_max_snapshots;
  limits.max_age = config->watch.history_max_age;
  limits.max_targets = static_cast<std::size_t>(config->watch.history_max_targets);
  history_.SetLimits(limits);
  {
    std::lock_guard<std::mutex> lock(mu_);
    // The listener is built once: rotated files at the same paths are picked up at the next
    // handshake (daemon/tls_reloader.h), other paths or TLS on/off only at a restart.
    const bool tls_changed = web_config_->tls_cert_file != web->tls_cert_file ||
                             web_config_->tls_key_file != web->tls_key_file ||
                             web_config_->tls_client_ca_file != web->tls_client_ca_file;
    if (loaded_once_ && tls_changed) {
      Log().Warn("TLS settings of the web config changed; they take effect at the next restart",
                 {{"file", flags_.web_config_file}});
    }
    config_ = config;
    web_config_ = web;
    loaded_once_ = true;
  }
  metrics_.ReloadDone(true);
  Log().Info("loaded config", {{"file", flags_.config_file.empty() ? "(defaults)" : flags_.config_file},
                               {"modules", std::to_string(config->modules.size())}});
  return Status::Ok();
}

std::shared_ptr<const ProbeResult> App::RunProbe(
    const std::string& target, const Module& module, std::chrono::milliseconds budget,
    const std::map<std::string, std::string>& labels,
    std::shared_ptr<const ConnectPolicy> connect_policy) {
  auto result = prober_.Probe(target, module, budget, std::move(connect_policy));
  // A result shared with a concurrent probe was counted and recorded by the probe that ran
  // the fetch; counting it again would double fetch errors and history points.
  metrics_.ProbeDone(result->success, result->cached || (result->shared && result->success));
  if (!result->cached && !result->shared) {
    for (const FetchRecord& f : result->fetches) {
      if (f.performed && f.failed && f.skipped != SkipReason::kUnsupported) {
        metrics_.FetchError(FetchErrorReason(f.error_kind));
      }
    }
  }
  if (!result->success) {
    Log().Debug("probe failed", {{"target", target}, {"module", module.name}, {"err", result->error}});
  }
  if (!result->shared) history_.Record(result, labels);
  metrics_.SetHistoryPoints(static_cast<double>(history_.total_points()));
  return result;
}

}  // namespace gx
