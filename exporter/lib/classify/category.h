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
// The first fix for a stack that `rule` classified: the category's, except for the few
// built-in rules whose stacks need other advice than their category's (followers of a
// singleflight call or of a sync.Once wait for a leader that is the one stuck).
std::string_view StackHint(Category c, std::string_view rule);
bool IsBenign(Category c);                  // idle servers, runtime, ignored
std::optional<Category> ParseCategory(std::string_view name);

}  // namespace gx
