// Watch mode: polls the configured targets (static and file_sd) in the background with a
// fixed pool of workers (bounded concurrency, no thread per target), per-target deadlines
// and jitter, and keeps the latest result of each. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "daemon/app.h"

namespace gx {

struct WatchedResult {
  WatchTarget target;
  std::shared_ptr<const ProbeResult> latest;
};

class Watcher {
 public:
  explicit Watcher(App* app);
  ~Watcher();
  void Start();
  void Stop();  // returns after in-flight probes finish (each is bounded by its deadline)
  std::vector<WatchedResult> Latest() const;
  std::string target_label() const;

 private:
  struct Slot {
    WatchTarget target;
    int64_t next_run_ms = 0;
    bool running = false;
    std::shared_ptr<const ProbeResult> latest;
  };
  void SchedulerLoop();
  void WorkerLoop();
  // Logs a target that starts failing (or fails differently) and one that recovers.
  static void LogChange(const WatchTarget& target, const ProbeResult* previous,
                        const ProbeResult& result);
  // Every configured target; reads the file_sd files, so it runs without mu_ held (a slow
  // disk must not block /metrics).
  // Keeps each file_sd file's last good targets in file_sd_memory_ (scheduler thread only).
  std::vector<WatchTarget> CollectTargets(const Config& config);
  // Replaces the slots with `targets`, keeping the state of targets already watched.
  void ApplyTargets(std::vector<WatchTarget> targets, int64_t interval,
                    int64_t now_ms);  // REQUIRES(mu_)

  App* app_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                     // GUARDED_BY(mu_)
  std::map<std::string, Slot> slots_;         // GUARDED_BY(mu_), key: module|address
  std::deque<std::string> queue_;             // GUARDED_BY(mu_)
  std::shared_ptr<const Config> config_;      // GUARDED_BY(mu_), the one slots_ came from
  int64_t next_sd_refresh_ms_ = 0;            // GUARDED_BY(mu_)
  std::size_t warned_target_count_ = 0;       // GUARDED_BY(mu_), last warned about
  // One per file_sd config, by position (a reload that reorders them only loses what is kept).
  std::vector<FileSdMemory> file_sd_memory_;  // scheduler thread only
  std::thread scheduler_;
  std::vector<std::thread> workers_;
};

}  // namespace gx
