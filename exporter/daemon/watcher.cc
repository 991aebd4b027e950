#include "daemon/watcher.h"

#include <random>

#include "common/clock.h"
#include "common/limits.h"
#include "common/logger.h"

namespace gx {

Watcher::Watcher(App* app) : app_(app) {}

Watcher::~Watcher() { Stop(); }

std::string Watcher::target_label() const {
  std::lock_guard<std::mutex> lock(mu_);
  return config_ ? config_->watch.target_label : "target";
}

void Watcher::Start() {
  auto config = app_->config();
  int workers = std::min(config->watch.concurrency, kMaxWatchWorkers);
  scheduler_ = std::thread([this] { SchedulerLoop(); });
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

void Watcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
}

std::vector<WatchedResult> Watcher::Latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<WatchedResult> out;
  for (const auto& [key, slot] : slots_) {
    if (slot.latest) out.push_back({slot.target, slot.latest});
  }
  return out;
}

std::vector<WatchTarget> Watcher::CollectTargets(const Config& config) {
  std::vector<WatchTarget> targets;
  for (const StaticTargetGroup& g : config.watch.static_configs) {
    for (const std::string& t : g.targets) targets.push_back({t, g.module, g.labels});
  }
  file_sd_memory_.resize(config.watch.file_sd_configs.size());
  for (std::size_t i = 0; i < config.watch.file_sd_configs.size(); ++i) {
    std::vector<std::string> errors;
    for (WatchTarget& t : ResolveFileSd(config.watch.file_sd_configs[i], &errors, &file_sd_memory_[i])) {
      targets.push_back(std::move(t));
    }
    for (const std::string& e : errors) Log().Warn("file_sd", {{"err", e}});
  }
  return targets;
}

void Watcher::ApplyTargets(std::vector<WatchTarget> targets, int64_t interval, int64_t now_ms) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  // Series carry the address, not the module: one address under two modules would give two
  // targets the same series, which Prometheus drops. The first listing wins.
  std::map<std::string, std::string> module_of;
  std::map<std::string, Slot> next;
  for (WatchTarget& t : targets) {
    auto [listed, first] = module_of.emplace(t.address, t.module);
    if (!first) {
      Log().Warn("target listed twice; watched once, with the first module",
                 {{"target", t.address}, {"module", listed->second}, {"ignored_module", t.module}});
      continue;
    }
    std::string key = t.module + "\x1f" + t.address;
    auto old = slots_.find(key);
    if (old != slots_.end()) {
      Slot s = old->second;
      s.target = std::move(t);
      next.emplace(key, std::move(s));
      continue;
    }
    Slot s;
    s.target = std::move(t);
    // Spread first polls over one interval so targets are not probed in lockstep.
    s.next_run_ms = now_ms + static_cast<int64_t>(rng() % static_cast<uint64_t>(std::max<int64_t>(interval, 1)));
    next.emplace(key, std::move(s));
  }
  for (const auto& [key, slot] : slots_) {
    if (!next.count(key)) app_->history().Forget(slot.target.address, slot.target.module);
  }
  slots_ = std::move(next);
  app_->metrics().SetWatchTargets(static_cast<double>(slots_.size()));
}

void Watcher::SchedulerLoop() {
  std::mt19937_64 rng(std::random_device{}());
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    const int64_t now = NowUnixMs();
    auto config = app_->config();
    if (config != config_ || now >= next_sd_refresh_ms_) {
      lock.unlock();
      std::vector<WatchTarget> targets = CollectTargets(*config);
      lock.lock();
      if (stopping_) break;
      config_ = config;
      ApplyTargets(std::move(targets), config->watch.interval.count(), now);
      const std::size_t history_targets = static_cast<std::size_t>(config->watch.history_max_targets);
      if (slots_.size() > history_targets && slots_.size() != warned_target_count_) {
        // Polled in turn, each target would be dropped from the history before its next
        // poll: no diff, no report.
        Log().Warn("more watched targets than history.max_targets: targets lose their history",
                   {{"targets", std::to_string(slots_.size())},
                    {"history_max_targets", std::to_string(history_targets)}});
        warned_target_count_ = slots_.size();
      }
      int64_t refresh = 30000;
      for (const FileSdConfig& sd : config->watch.file_sd_configs) {
        refresh = std::min<int64_t>(refresh, sd.refresh_interval.count());
      }
      next_sd_refresh_ms_ = now + refresh;
    }
    const int64_t interval = config_->watch.interval.count();
    const double jitter = config_->watch.jitter;
    for (auto& [key, slot] : slots_) {
      if (slot.running || slot.next_run_ms > now) continue;
      slot.running = true;
      double j = jitter > 0 ? (static_cast<double>(rng() % 2001) / 1000.0 - 1.0) * jitter : 0.0;
      slot.next_run_ms = now + static_cast<int64_t>(interval * (1.0 + j));
      queue_.push_back(key);
    }
    cv_.notify_all();
    cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stopping_; });
  }
}

void Watcher::LogChange(const WatchTarget& target, const ProbeResult* previous,
                        const ProbeResult& result) {
  // Once per change, not per poll: a dead target polled every 15 s would flood the log.
  // (A reload that changes the target's slot starts it afresh: it is logged once more.)
  if (!result.success &&
      (!previous || previous->success || previous->error_kind != result.error_kind)) {
    Log().Warn("watched target failing",
               {{"target", target.address}, {"module", target.module}, {"err", result.error}});
  } else if (result.success && previous && !previous->success) {
    Log().Info("watched target recovered", {{"target", target.address}, {"module", target.module}});
  }
}

void Watcher::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    std::string key = queue_.front();
    queue_.pop_front();
    auto it = slots_.find(key);
    if (it == slots_.end()) continue;
    WatchTarget target = it->second.target;
    std::shared_ptr<const ProbeResult> previous = it->second.latest;
    auto config = config_;
    lock.unlock();
    std::shared_ptr<const ProbeResult> result;
    if (const Module* module = config->FindModule(target.module)) {
      result = app_->RunProbe(target.address, *module, config->watch.timeout, target.labels);
    }
    if (result) LogChange(target, previous.get(), *result);
    lock.lock();
    it = slots_.find(key);
    if (it != slots_.end()) {
      it->second.running = false;
      if (result) it->second.latest = result;
    }
  }
}

}  // namespace gx
