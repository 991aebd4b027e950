// Reading YAML config documents with yaml-cpp: typed values in bounds, unknown and duplicate
// keys rejected, every message naming the file and line. One per document; not thread-safe.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/duration.h"
#include "common/limits.h"
#include "common/status.h"
#include "config/config_values.h"

namespace gx {

// Turns a yaml-cpp exception into "source:line: message".
inline std::string YamlErrorMessage(const std::string& source, const YAML::Exception& e) {
  if (e.mark.is_null()) return source + ": " + e.msg;
  return source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg;
}

// Reads typed values out of one document's nodes; holds the document's name for messages and
// the count of bytes copied out of it (aliases can make a 1 MiB document repeat a 1 MiB
// string a million times: past kMaxYamlBytesRead, reading fails).
class YamlReader {
 public:
  explicit YamlReader(std::string source) : source_(std::move(source)) {}

  const std::string& source() const { return source_; }

  std::string Where(const YAML::Node& node) const {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null()) return source_;
    return source_ + ":" + std::to_string(mark.line + 1);
  }
  Status Error(const YAML::Node& node, const std::string& message) const {
    return Status::Error(Where(node) + ": " + message);
  }

  // Counts `bytes` more copied out of the document; an error once that is too much.
  Status Charge(const YAML::Node& node, std::size_t bytes) const {
    bytes_read_ += bytes;
    if (bytes_read_ <= kMaxYamlBytesRead) return Status::Ok();
    return Error(node, "the document's values add up to more than " +
                           std::to_string(kMaxYamlBytesRead >> 20) +
                           " MiB (YAML aliases repeating text?)");
  }

  // Calls fn(key, key_node, value_node) for each entry of a mapping (null = no entries),
  // rejecting duplicate keys and keys outside `known` (empty `known`: any key, as in a map of
  // user names).
  template <typename F>
  Status ForEachEntry(const YAML::Node& map, const YAML::Node& where, const std::string& what,
                      const std::set<std::string>& known, F&& fn) const {
    if (!map.IsDefined() || map.IsNull()) return Status::Ok();
    if (!map.IsMap()) return Error(where, what + " must be a mapping");
    std::set<std::string> seen;
    for (const auto& entry : map) {
      if (!entry.first.IsScalar()) {
        return Error(entry.first, "keys in " + what + " must be strings");
      }
      Status charged = Charge(entry.first, entry.first.Scalar().size());
      if (!charged.ok()) return charged;
      const std::string key = entry.first.Scalar();
      if (!known.empty() && !known.count(key)) {
        return Error(entry.first, "unknown key '" + key + "' in " + what);
      }
      if (!seen.insert(key).second) {
        return Error(entry.first, "duplicate key '" + key + "' in " + what);
      }
      Status st = fn(key, entry.first, entry.second);
      if (!st.ok()) return st;
    }
    return Status::Ok();
  }

  Result<std::string> String(const YAML::Node& key, const YAML::Node& value) const {
    if (!value.IsScalar()) return Error(key, key.Scalar() + " must be a string");
    Status charged = Charge(value, value.Scalar().size());
    if (!charged.ok()) return charged;
    return value.Scalar();
  }

  Result<bool> Bool(const YAML::Node& key, const YAML::Node& value) const {
    bool b = false;
    if (!value.IsScalar() || !YAML::convert<bool>::decode(value, b)) {
      return Error(key, key.Scalar() + " must be true or false");
    }
    return b;
  }

  Result<int64_t> Int(const YAML::Node& key, const YAML::Node& value, int64_t lo,
                      int64_t hi) const {
    int64_t v = 0;
    if (!value.IsScalar() || !YAML::convert<int64_t>::decode(value, v)) {
      return Error(key, key.Scalar() + " must be an integer");
    }
    if (v < lo || v > hi) {
      return Error(key, key.Scalar() + " must be between " + std::to_string(lo) + " and " +
                            std::to_string(hi) + ", got " + std::to_string(v));
    }
    return v;
  }

  // A byte size (config_values.h ParseByteSize) in [lo, hi].
  Result<int64_t> Bytes(const YAML::Node& key, const YAML::Node& value, int64_t lo,
                        int64_t hi) const {
    std::optional<int64_t> v;
    if (value.IsScalar()) v = ParseByteSize(value.Scalar());
    if (!v) {
      return Error(key, key.Scalar() + ": bad size '" +
                            (value.IsScalar() ? value.Scalar() : std::string()) +
                            "' (use bytes or e.g. 512KiB, 16MiB)");
    }
    if (*v < lo || *v > hi) {
      return Error(key, key.Scalar() + " must be between " + std::to_string(lo) + " and " +
                            std::to_string(hi) + " bytes, got " + value.Scalar());
    }
    return *v;
  }

  Result<double> Double(const YAML::Node& key, const YAML::Node& value, double lo,
                        double hi) const {
    double v = 0;
    if (!value.IsScalar() || !YAML::convert<double>::decode(value, v) || !std::isfinite(v)) {
      return Error(key, key.Scalar() + " must be a number");
    }
    if (v < lo || v > hi) {
      char range[64];
      std::snprintf(range, sizeof(range), " must be between %g and %g", lo, hi);
      return Error(key, key.Scalar() + range + ", got " + value.Scalar());
    }
    return v;
  }

  // A duration in [lo, hi]; lo_exclusive makes the lower bound strict (e.g. "> 0").
  Result<std::chrono::milliseconds> Duration(const YAML::Node& key, const YAML::Node& value,
                                             std::chrono::milliseconds lo,
                                             std::chrono::milliseconds hi,
                                             bool lo_exclusive = false) const {
    std::optional<std::chrono::milliseconds> d;
    if (value.IsScalar()) d = ParseDuration(value.Scalar());
    if (!d) {
      return Error(key, key.Scalar() + ": bad duration '" +
                            (value.IsScalar() ? value.Scalar() : std::string()) +
                            "' (use e.g. 500ms, 30s, 10m, 1h)");
    }
    if ((lo_exclusive ? *d <= lo : *d < lo) || *d > hi) {
      return Error(key, key.Scalar() + " must be " + (lo_exclusive ? "> " : ">= ") +
                            FormatDuration(lo) + " and <= " + FormatDuration(hi) + ", got " +
                            value.Scalar());
    }
    return *d;
  }

  Result<std::vector<std::string>> StringList(const YAML::Node& key,
                                              const YAML::Node& value) const {
    std::vector<std::string> out;
    if (value.IsNull()) return out;
    if (!value.IsSequence()) return Error(key, key.Scalar() + " must be a list of strings");
    for (const auto& item : value) {
      if (!item.IsScalar()) return Error(item, key.Scalar() + " must be a list of strings");
      Status charged = Charge(item, item.Scalar().size());
      if (!charged.ok()) return charged;
      out.push_back(item.Scalar());
    }
    return out;
  }

  Result<std::map<std::string, std::string>> StringMap(const YAML::Node& key,
                                                       const YAML::Node& value) const {
    std::map<std::string, std::string> out;
    if (value.IsNull()) return out;
    if (!value.IsMap()) return Error(key, key.Scalar() + " must map strings to strings");
    for (const auto& entry : value) {
      if (!entry.first.IsScalar() || !entry.second.IsScalar()) {
        return Error(entry.first, key.Scalar() + " must map strings to strings");
      }
      Status charged =
          Charge(entry.first, entry.first.Scalar().size() + entry.second.Scalar().size());
      if (!charged.ok()) return charged;
      if (!out.emplace(entry.first.Scalar(), entry.second.Scalar()).second) {
        return Error(entry.first,
                     "duplicate key '" + entry.first.Scalar() + "' in " + key.Scalar());
      }
    }
    return out;
  }

 private:
  std::string source_;
  mutable std::size_t bytes_read_ = 0;
};

}  // namespace gx

// Assigns the value of a Result to lhs, or returns its error status from the enclosing function.
#define GX_ASSIGN_OR_RETURN(lhs, expr)                  \
  do {                                                  \
    auto gx_result_ = (expr);                           \
    if (!gx_result_.ok()) return gx_result_.status();   \
    lhs = std::move(gx_result_.value());                \
  } while (0)
