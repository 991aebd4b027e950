// Bounded per-target history of probe results: the latest full result, plus compact points
// (per-stack counts) limited in number and age, and a catalog of stack details. Feeds the
// diff and the JSON API. Thread-safe (one mutex; readers get copies or shared pointers).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "aggregate/diff.h"
#include "probe/prober.h"

namespace gx {

struct HistoryLimits {
  int max_points = 60;
  std::chrono::milliseconds max_age = std::chrono::hours(2);
  std::size_t max_targets = 2000;         // least recently probed targets are dropped
  std::size_t max_catalog_stacks = 2000;  // stack details kept per target
};

struct HistoryPoint {
  int64_t time_ms = 0;
  int64_t total = 0;
  std::array<int64_t, kCategoryCount> categories{};
  std::vector<std::pair<uint64_t, int64_t>> stacks;  // (stack hash, goroutines), by hash
};

struct TargetView {
  std::string target;
  std::string module;
  std::map<std::string, std::string> labels;
  std::shared_ptr<const ProbeResult> latest;  // last probe, successful or not
  std::size_t points = 0;
  int64_t oldest_point_ms = 0;
};

class HistoryStore {
 public:
  explicit HistoryStore(const HistoryLimits& limits);
  void SetLimits(const HistoryLimits& limits);
  void Record(const std::shared_ptr<const ProbeResult>& result,
              const std::map<std::string, std::string>& labels = {});
  std::vector<TargetView> Targets() const;
  std::optional<TargetView> Target(const std::string& target, const std::string& module) const;
  // Compares the point nearest before or at from_ms with the one nearest before or at to_ms
  // (to_ms <= 0: the latest). Fails when the target is unknown or has a single point.
  Result<SnapshotDiff> Diff(const std::string& target, const std::string& module, int64_t from_ms,
                            int64_t to_ms) const;
  void Forget(const std::string& target, const std::string& module);
  std::size_t total_points() const;

 private:
  struct Entry {
    TargetView view;
    std::deque<HistoryPoint> points;
    std::unordered_map<uint64_t, StackSummary> catalog;
    int64_t last_used_ms = 0;
  };
  static std::string Key(const std::string& target, const std::string& module);
  Snapshot Rebuild(const Entry& e, const HistoryPoint& p) const;
  void Trim(Entry* e, int64_t now_ms) const;

  mutable std::mutex mu_;
  HistoryLimits limits_;                           // GUARDED_BY(mu_)
  std::unordered_map<std::string, Entry> entries_;  // GUARDED_BY(mu_)
};

}  // namespace gx
