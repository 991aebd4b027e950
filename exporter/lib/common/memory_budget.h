// Bounds the memory that the captures in progress hold together, so that many large or
// hostile targets probed at once cannot grow the exporter past its container's limit (each
// capture alone is bounded by Limits; these bound the sum). Every capture gets a small free
// allowance (kFreeCaptureBytes) that is never refused; beyond it, what it says it holds is
// taken from one process-wide budget, and a capture that does not fit is cut (a clear error,
// or a partial result that says so) instead of waiting.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/limits.h"

namespace gx {

// The process-wide pool. Thread-safe (atomics).
class MemoryBudget {
 public:
  explicit MemoryBudget(std::size_t limit_bytes) : limit_(limit_bytes) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // Takes `bytes` if they fit under the limit; false (nothing taken) otherwise.
  bool TryTake(std::size_t bytes);
  void Give(std::size_t bytes);
  void CountRefusedCapture() { refusals_.fetch_add(1, std::memory_order_relaxed); }

  std::size_t limit() const { return limit_; }
  std::size_t in_use() const { return in_use_.load(std::memory_order_relaxed); }
  uint64_t refusals() const { return refusals_.load(std::memory_order_relaxed); }  // captures

 private:
  const std::size_t limit_;
  std::atomic<std::size_t> in_use_{0};
  std::atomic<uint64_t> refusals_{0};
};

// One capture's account: the bytes its decoder and aggregator say they hold, taken from the
// budget beyond the free allowance and given back when the capture ends. Without a budget
// (the CLI, tests) it only counts. Not thread-safe; one per capture.
class MemoryCharge {
 public:
  // `free_bytes`: what it may hold without asking the budget (tests make it small).
  explicit MemoryCharge(MemoryBudget* budget = nullptr, std::size_t free_bytes = kFreeCaptureBytes)
      : budget_(budget), free_bytes_(free_bytes) {}
  ~MemoryCharge();
  MemoryCharge(const MemoryCharge&) = delete;
  MemoryCharge& operator=(const MemoryCharge&) = delete;

  // Records `bytes` more held by the capture; false when the budget cannot cover them (the
  // caller then does without them; nothing is recorded).
  bool Add(std::size_t bytes);
  // Records `bytes` (of those added) freed before the capture ends; what the budget lent for
  // them goes back at once.
  void Release(std::size_t bytes);

  std::size_t charged() const { return charged_; }
  std::size_t peak() const { return peak_; }  // the most charged at any time
  // Why the first refused Add was refused (as things stood then), for errors and notes.
  const std::string& RefusalReason() const { return refusal_; }

 private:
  MemoryBudget* budget_;
  const std::size_t free_bytes_;
  std::size_t charged_ = 0;
  std::size_t peak_ = 0;
  std::size_t taken_ = 0;  // from the budget: what charged_ holds beyond the allowance
  std::string refusal_;    // empty until an Add is refused
};

}  // namespace gx
