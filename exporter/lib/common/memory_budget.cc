#include "common/memory_budget.h"

#include <algorithm>

namespace gx {

bool MemoryBudget::TryTake(std::size_t bytes) {
  std::size_t used = in_use_.load(std::memory_order_relaxed);
  do {
    if (bytes > limit_ || used > limit_ - bytes) return false;
  } while (!in_use_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
  return true;
}

void MemoryBudget::Give(std::size_t bytes) { in_use_.fetch_sub(bytes, std::memory_order_relaxed); }

MemoryCharge::~MemoryCharge() {
  if (budget_ && taken_ > 0) budget_->Give(taken_);
}

bool MemoryCharge::Add(std::size_t bytes) {
  const std::size_t charged = charged_ + std::min(bytes, SIZE_MAX - charged_);
  const std::size_t beyond = charged > free_bytes_ ? charged - free_bytes_ : 0;
  if (budget_ && beyond > taken_) {
    if (!budget_->TryTake(beyond - taken_)) {
      if (refusal_.empty()) {
        budget_->CountRefusedCapture();
        refusal_ = "the exporter's memory budget for captures in progress "
                   "(--probe.memory-budget, " + std::to_string(budget_->limit() >> 20) +
                   " MiB; " + std::to_string(budget_->in_use() >> 20) +
                   " MiB in use) could not cover this capture past " +
                   std::to_string(charged_ >> 20) + " MiB";
      }
      return false;
    }
    taken_ = beyond;
  }
  charged_ = charged;
  peak_ = std::max(peak_, charged_);
  return true;
}

void MemoryCharge::Release(std::size_t bytes) {
  charged_ -= std::min(bytes, charged_);
  const std::size_t beyond = charged_ > free_bytes_ ? charged_ - free_bytes_ : 0;
  if (budget_ && taken_ > beyond) {
    budget_->Give(taken_ - beyond);
    taken_ = beyond;
  }
}

}  // namespace gx
