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
  std::size_t max_catalog_stacks = 2000;  // details kept per target of stacks gone since
};

// One probe in the history: per-category and per-stack counts, packed (a few bytes per
// stack: stacks are numbered per target, see HistoryStore::Entry).
struct HistoryPoint {
  int64_t time_ms = 0;
  int64_t total = 0;
  std::string packed;  // varints: the category counts, then (stack number delta, count) pairs
};

struct TargetView {
  std::string target;
  std::string module;
  std::map<std::string, std::string> labels;
  std::shared_ptr<const ProbeResult> latest;     // last probe, successful or not
  std::shared_ptr<const ProbeResult> last_good;  // last successful probe that fetched
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
  // The modules `target` has results for, sorted.
  std::vector<std::string> ModulesOf(const std::string& target) const;
  // Compares the point nearest before or at from_ms with the one nearest before or at to_ms
  // (to_ms <= 0: the latest). Fails when the target is unknown or has a single point. Its
  // notes say when the history starts after from_ms or the last probe failed.
  Result<SnapshotDiff> Diff(const std::string& target, const std::string& module, int64_t from_ms,
                            int64_t to_ms) const;
  // The per-stack counts a result of the target probed at now_ms ranks its growth against
  // (top_k_growth): its latest point at least kGrowthWindow old, else its oldest; null
  // without points. Ranked over ten minutes or more rather than since the previous scrape,
  // since a slow leak (a goroutine every few minutes) seldom grows between two scrapes 15 s
  // apart: its stack would be exported only now and then, and its series would have gaps
  // just where deriv() and the growth alerts need it. Read from the points the history keeps
  // anyway, so it costs no memory of its own.
  static constexpr std::chrono::minutes kGrowthWindow{10};
  std::shared_ptr<const StackCounts> GrowthBase(const std::string& target,
                                                const std::string& module, int64_t now_ms) const;
  void Forget(const std::string& target, const std::string& module);
  std::size_t total_points() const;

 private:
  // Stack details come from the last successful result while a stack is in it, and from
  // `vanished` (copied when it drops out) afterwards, so a target that keeps its stacks
  // holds no second copy of them.
  struct Entry {
    TargetView view;  // view.last_good: the last successful, uncached result
    std::deque<HistoryPoint> points;
    std::vector<uint64_t> stack_ids;                  // stack number -> id as a number
    std::unordered_map<uint64_t, uint32_t> stack_numbers;  // and back
    struct Vanished {
      StackSummary stack;
      int64_t since_ms = 0;  // time of the first result without it
    };
    std::unordered_map<uint64_t, Vanished> vanished;
    // Creators learned from debug=2 (debug=0 has none), kept while the stack is in a point.
    std::unordered_map<uint64_t, std::pair<std::string, std::string>> creators;
    int64_t last_used_ms = 0;
    std::size_t compact_at = 256;  // stack numbers that trigger the next Compact
  };
  struct UnpackedPoint {
    std::array<int64_t, kCategoryCount> categories{};
    std::vector<std::pair<uint64_t, int64_t>> stacks;  // (id as a number, goroutines)
  };
  static std::string Key(const std::string& target, const std::string& module);
  // Packs counts (stacks by id as a number), numbering stacks not seen before.
  static std::string Pack(Entry* e, const std::array<int64_t, kCategoryCount>& categories,
                          const std::vector<std::pair<uint64_t, int64_t>>& stacks);
  static UnpackedPoint Unpack(const Entry& e, const HistoryPoint& p);
  // Details of a stack for a diff row: from the last result or the vanished ones.
  static StackSummary Details(const Entry& e, uint64_t id);
  Snapshot Rebuild(const Entry& e, const HistoryPoint& p) const;
  // The snapshots of the points Diff compares, rebuilt under mu_, and what the caller should
  // know about the choice of points.
  Status RebuildPair(const std::string& target, const std::string& module, int64_t from_ms,
                     int64_t to_ms, Snapshot* before, Snapshot* after,
                     std::vector<std::string>* notes) const;
  void Trim(Entry* e, int64_t now_ms);
  // Renumbers the stacks still in some point and forgets the others.
  static void Compact(Entry* e);
  // Makes room in a full catalog of vanished stacks: the quarter that vanished longest ago
  // goes (recent diffs need the recent ones, and thinned points keep old stacks counted).
  static void DropOldestVanished(Entry* e);

  mutable std::mutex mu_;
  HistoryLimits limits_;                           // GUARDED_BY(mu_)
  std::unordered_map<std::string, Entry> entries_;  // GUARDED_BY(mu_)
  std::size_t total_points_ = 0;                    // GUARDED_BY(mu_)
};

}  // namespace gx
