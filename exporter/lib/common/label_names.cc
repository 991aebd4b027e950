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

namespace {

bool IsLabelNameChar(char c, std::size_t position) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         (position > 0 && c >= '0' && c <= '9');
}

}  // namespace

bool IsLabelName(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!IsLabelNameChar(name[i], i)) return false;
  }
  return true;
}

std::string SanitizeLabelName(std::string_view name) {
  if (name.empty()) return "_";
  std::string out(name);
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (!IsLabelNameChar(out[i], i)) out[i] = '_';
  }
  return out;
}

std::string LabelNameOfKey(std::string_view key) {
  std::string name = SanitizeLabelName(key);
  if (name == "job" || name == "instance") name.insert(0, "pprof_");
  return name;
}

}  // namespace gx
