#include "config/config_values.h"

#include <cstdio>
#include <cstring>

#include "common/label_names.h"
#include "common/limits.h"
#include "common/utf8.h"

namespace gx {

std::optional<int64_t> ParseByteSize(const std::string& text) {
  std::size_t i = 0;
  int64_t value = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    value = value * 10 + (text[i] - '0');
    if (value > (int64_t{1} << 40)) return std::nullopt;
    ++i;
  }
  if (i == 0) return std::nullopt;
  const std::string unit = text.substr(i);
  int shift = 0;
  if (unit.empty() || unit == "B") shift = 0;
  else if (unit == "KB" || unit == "KiB") shift = 10;
  else if (unit == "MB" || unit == "MiB") shift = 20;
  else if (unit == "GB" || unit == "GiB") shift = 30;
  else return std::nullopt;
  if (value > ((int64_t{1} << 40) >> shift)) return std::nullopt;
  return value << shift;
}

bool IsModuleName(const std::string& s) {
  if (s.empty() || s.size() > kMaxModuleNameBytes) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// RFC 9110 token characters (header field names).
bool IsHeaderName(const std::string& s) {
  if (s.empty() || s.size() > kMaxHeaderNameBytes) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
    if (!ok || c == '\0') return false;
  }
  return true;
}

// No CR, LF, NUL or other control bytes (tab allowed): values go verbatim into a request.
bool IsHeaderValue(const std::string& s) {
  if (s.size() > kMaxHeaderValueBytes) return false;
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

bool HasSpaceOrControl(const std::string& s) {
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

std::string Checksum(const std::string& text) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// Target labels (static_configs and file_sd): Prometheus label names, not reserved.
Status CheckTargetLabels(const std::map<std::string, std::string>& labels,
                         const FailFn& fail) {
  if (labels.size() > kMaxTargetLabels) {
    return fail("more than " + std::to_string(kMaxTargetLabels) + " labels");
  }
  std::size_t bytes = 0;
  for (const auto& [name, value] : labels) bytes += name.size() + value.size();
  if (bytes > kMaxTargetLabelsBytes) {
    return fail("labels longer than " + std::to_string(kMaxTargetLabelsBytes) +
                " bytes in all (each target carries a copy)");
  }
  for (const auto& [name, value] : labels) {
    if (!IsLabelName(name)) return fail("invalid label name '" + name + "'");
    if (name.rfind("__", 0) == 0) return fail("label name '" + name + "' is reserved");
    if (IsExporterLabelName(name)) {
      return fail("label name '" + name + "' is a label of the exporter's own series");
    }
    if (value.size() > kMaxTargetLabelValueBytes) {
      return fail("value of label '" + name + "' longer than " +
                  std::to_string(kMaxTargetLabelValueBytes) + " bytes");
    }
    // Prometheus refuses a scrape with one label value that is not UTF-8.
    if (!IsValidUtf8(value)) return fail("value of label '" + name + "' is not valid UTF-8");
  }
  return Status::Ok();
}

Status CheckTarget(const std::string& target,
                   const FailFn& fail) {
  if (target.empty()) return fail("empty target");
  if (target.size() > kMaxTargetBytes) {
    return fail("target longer than " + std::to_string(kMaxTargetBytes) + " bytes");
  }
  if (HasSpaceOrControl(target)) return fail("target '" + target + "' contains whitespace");
  return Status::Ok();
}

}  // namespace gx
