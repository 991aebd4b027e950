// The closed set of leak categories, their label values, first-fix hints and benign flags.
// Constant data; thread-safe.
#pragma once

#include <optional>
#include <string_view>

namespace gx {

enum class Category {
  kChanSend,
  kChanReceive,
  kNilChan,
  kSelect,
  kSelectNoCases,
  kHttpClient,
  kNetworkIo,
  kWaitGroup,
  kSemaphore,
  kMutex,
  kCond,
  kTimer,
  kSyscall,
  kSubprocess,
  kCoroutine,
  kRunning,
  kIdleServer,
  kRuntime,
  kIgnored,
  kUnknown,
};
inline constexpr int kCategoryCount = static_cast<int>(Category::kUnknown) + 1;

std::string_view CategoryName(Category c);  // label value, e.g. "chan_send"
std::string_view CategoryHint(Category c);  // the first fix to try
bool IsBenign(Category c);                  // idle servers, runtime, ignored
std::optional<Category> ParseCategory(std::string_view name);

}  // namespace gx
