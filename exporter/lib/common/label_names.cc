#include "common/label_names.h"

#include <array>

namespace gx {

bool IsExporterLabelName(std::string_view name) {
  static constexpr std::array<std::string_view, 11> kNames = {
      "stack_id", "category", "function", "created_by", "profile", "debug",
      "reason",   "benign",   "hint",     "le",         "quantile"};
  for (std::string_view n : kNames) {
    if (n == name) return true;
  }
  return false;
}

std::string SanitizeLabelName(std::string_view name) {
  if (name.empty()) return "_";
  std::string out(name);
  for (std::size_t i = 0; i < out.size(); ++i) {
    char c = out[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) out[i] = '_';
  }
  return out;
}

}  // namespace gx
