#include "config/exporter_config.h"


#include <arpa/inet.h>
#include <glob.h>
#include <netinet/in.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sys/stat.h>

#include "common/duration.h"
#include "common/files.h"
#include "common/limits.h"

namespace gx {
namespace {

using std::chrono::milliseconds;

// The caps on what a config or file_sd file may make us hold are in common/limits.h.

// --- small helpers -----------------------------------------------------------------------

std::string FormatDuration(milliseconds d) {
  int64_t ms = d.count();
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

bool IsLabelName(const std::string& s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
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
  if (s.empty() || s.size() > 256) return false;
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

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

// Shell-style glob: '*' matches any run of characters (dots included), '?' one character.
// Case-insensitive. Greedy with single backtrack point: O(len(pattern) * len(text)).
bool GlobMatch(const std::string& pattern, const std::string& text) {
  std::size_t p = 0, t = 0;
  std::size_t star = std::string::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || Lower(pattern[p]) == Lower(text[t]))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_t = t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// An IP address in network byte order: 4 bytes for IPv4, 16 for IPv6.
struct IpAddress {
  int family = 0;
  unsigned char bytes[16] = {};
};

// IPv6 literals via inet_pton. IPv4 via inet_aton, which also takes the short and numeric
// forms ("127.1", "0x7f000001") that the resolver would connect to as addresses, so they
// cannot slip past the CIDR list as "names".
std::optional<IpAddress> ParseIp(const std::string& text) {
  if (text.empty() || HasSpaceOrControl(text)) return std::nullopt;
  IpAddress ip;
  if (inet_pton(AF_INET6, text.c_str(), ip.bytes) == 1) {
    ip.family = AF_INET6;
    return ip;
  }
  struct in_addr v4;
  if (inet_aton(text.c_str(), &v4) != 0) {
    ip.family = AF_INET;
    std::memcpy(ip.bytes, &v4.s_addr, 4);
    return ip;
  }
  return std::nullopt;
}

struct Cidr {
  IpAddress base;
  int prefix = 0;
};

// "10.0.0.0/8", "::1/128"; a bare address means a single host. Host bits may be set
// (masked off, as Go's net.ParseCIDR does). The address part must be a canonical literal.
std::optional<Cidr> ParseCidr(const std::string& text) {
  if (text.empty() || text.size() > 64 || HasSpaceOrControl(text)) return std::nullopt;
  std::string addr = text;
  int prefix = -1;
  auto slash = text.find('/');
  if (slash != std::string::npos) {
    addr = text.substr(0, slash);
    std::string digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    prefix = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      prefix = prefix * 10 + (c - '0');
    }
  }
  Cidr cidr;
  if (inet_pton(AF_INET6, addr.c_str(), cidr.base.bytes) == 1) {
    cidr.base.family = AF_INET6;
    if (prefix < 0) prefix = 128;
    if (prefix > 128) return std::nullopt;
  } else if (inet_pton(AF_INET, addr.c_str(), cidr.base.bytes) == 1) {
    cidr.base.family = AF_INET;
    if (prefix < 0) prefix = 32;
    if (prefix > 32) return std::nullopt;
  } else {
    return std::nullopt;
  }
  cidr.prefix = prefix;
  return cidr;
}

bool PrefixMatches(const unsigned char* a, const unsigned char* b, int prefix) {
  int full = prefix / 8;
  if (std::memcmp(a, b, full) != 0) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

bool CidrContains(const Cidr& cidr, const IpAddress& ip) {
  if (cidr.base.family == ip.family) return PrefixMatches(cidr.base.bytes, ip.bytes, cidr.prefix);
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) reaches the IPv4 host: match IPv4 ranges too.
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (cidr.base.family == AF_INET && ip.family == AF_INET6 &&
      std::memcmp(ip.bytes, kMapped, 12) == 0) {
    return PrefixMatches(cidr.base.bytes, ip.bytes + 12, cidr.prefix);
  }
  return false;
}

// Allowed characters of a host glob: DNS name characters plus the two wildcards.
bool IsHostGlob(const std::string& s) {
  if (s.empty() || s.size() > kMaxHostNameBytes) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_' || c == '*' || c == '?';
    if (!ok) return false;
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


// Turns a yaml-cpp exception into "source:line: message".
std::string YamlErrorMessage(const std::string& source, const YAML::Exception& e) {
  if (e.mark.is_null()) return source + ": " + e.msg;
  return source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg;
}

// --- YAML access with messages naming the line ------------------------------------------

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

  // Calls fn(key, key_node, value_node) for each entry of a mapping (null = no entries),
  // rejecting keys outside `known` and duplicate keys.
  template <typename F>
  Status ForEachEntry(const YAML::Node& map, const YAML::Node& where, const std::string& what,
                      const std::set<std::string>& known, F&& fn) const {
    if (!map.IsDefined() || map.IsNull()) return Status::Ok();
    if (!map.IsMap()) return Error(where, what + " must be a mapping");
    std::set<std::string> seen;
    for (const auto& entry : map) {
      if (!entry.first.IsScalar()) return Error(entry.first, "keys in " + what + " must be strings");
      const std::string key = entry.first.Scalar();
      if (!known.count(key)) return Error(entry.first, "unknown key '" + key + "' in " + what);
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
  Result<milliseconds> Duration(const YAML::Node& key, const YAML::Node& value, milliseconds lo,
                                milliseconds hi, bool lo_exclusive = false) const {
    std::optional<milliseconds> d;
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
      if (!out.emplace(entry.first.Scalar(), entry.second.Scalar()).second) {
        return Error(entry.first,
                     "duplicate key '" + entry.first.Scalar() + "' in " + key.Scalar());
      }
    }
    return out;
  }

 private:
  std::string source_;
};

#define GX_ASSIGN_OR_RETURN(lhs, expr)     \
  do {                                     \
    auto gx_result_ = (expr);              \
    if (!gx_result_.ok()) return gx_result_.status(); \
    lhs = std::move(gx_result_.value());   \
  } while (0)

// Target labels (static_configs and file_sd): Prometheus label names, not reserved.
Status CheckTargetLabels(const std::map<std::string, std::string>& labels,
                         const std::function<Status(const std::string&)>& fail) {
  for (const auto& [name, value] : labels) {
    if (!IsLabelName(name)) return fail("invalid label name '" + name + "'");
    if (name.rfind("__", 0) == 0) return fail("label name '" + name + "' is reserved");
    if (value.size() > kMaxTargetLabelValueBytes) {
      return fail("value of label '" + name + "' longer than " +
                  std::to_string(kMaxTargetLabelValueBytes) + " bytes");
    }
  }
  return Status::Ok();
}

Status CheckTarget(const std::string& target,
                   const std::function<Status(const std::string&)>& fail) {
  if (target.empty()) return fail("empty target");
  if (target.size() > kMaxTargetBytes) {
    return fail("target longer than " + std::to_string(kMaxTargetBytes) + " bytes");
  }
  if (HasSpaceOrControl(target)) return fail("target '" + target + "' contains whitespace");
  return Status::Ok();
}

// --- the config file -----------------------------------------------------------------------

class ConfigParser {
 public:
  explicit ConfigParser(const std::string& source) : y_(source.empty() ? "<config>" : source) {}

  Status Parse(const YAML::Node& doc, Config* config) {
    if (doc.IsDefined() && !doc.IsNull() && !doc.IsMap()) {
      return y_.Error(doc, "the config must be a mapping with modules, probe and watch");
    }
    YAML::Node modules, probe, watch;
    YAML::Node modules_key, probe_key, watch_key;
    Status st = y_.ForEachEntry(doc, doc, "the config", {"modules", "probe", "watch"},
                                [&](const std::string& key, const YAML::Node& k,
                                    const YAML::Node& v) {
                                  if (key == "modules") modules = v, modules_key = k;
                                  if (key == "probe") probe = v, probe_key = k;
                                  if (key == "watch") watch = v, watch_key = k;
                                  return Status::Ok();
                                });
    if (!st.ok()) return st;
    if (modules.IsDefined()) {
      st = ParseModules(modules_key, modules, config);
      if (!st.ok()) return st;
    }
    if (!config->modules.count("default")) {
      Module m;
      m.name = "default";
      config->modules.emplace("default", std::move(m));
    }
    if (probe.IsDefined()) {
      st = ParseProbe(probe_key, probe, &config->allowlist);
      if (!st.ok()) return st;
    }
    if (watch.IsDefined()) {
      st = ParseWatch(watch_key, watch, *config, &config->watch);
      if (!st.ok()) return st;
    }
    return Status::Ok();
  }

 private:
  Status ParseModules(const YAML::Node& key, const YAML::Node& node, Config* config) {
    if (node.IsNull()) return Status::Ok();
    if (!node.IsMap()) return y_.Error(key, "modules must map module names to modules");
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) return y_.Error(entry.first, "module names must be strings");
      const std::string name = entry.first.Scalar();
      if (!IsModuleName(name)) {
        return y_.Error(entry.first, "invalid module name '" + name +
                                         "' (letters, digits, '_', '-', '.'; at most " +
                                         std::to_string(kMaxModuleNameBytes) + " bytes)");
      }
      if (config->modules.count(name)) {
        return y_.Error(entry.first, "duplicate module '" + name + "'");
      }
      Module module;
      module.name = name;
      Status st = ParseModule(entry.first, entry.second, &module);
      if (!st.ok()) return st;
      config->modules.emplace(name, std::move(module));
    }
    return Status::Ok();
  }

  Status ParsePolicy(const YAML::Node& key, const YAML::Node& node, const std::string& what,
                     ExpensiveFetchPolicy* policy) {
    return y_.ForEachEntry(
        node, key, what, {"enabled", "max_goroutines", "min_interval"},
        [&](const std::string& name, const YAML::Node& k, const YAML::Node& v) -> Status {
          if (name == "enabled") {
            GX_ASSIGN_OR_RETURN(policy->enabled, y_.Bool(k, v));
          } else if (name == "max_goroutines") {
            GX_ASSIGN_OR_RETURN(policy->max_goroutines, y_.Int(k, v, 0, 100'000'000));
          } else if (name == "min_interval") {
            GX_ASSIGN_OR_RETURN(policy->min_interval,
                                y_.Duration(k, v, milliseconds(0), kMaxInterval));
          }
          return Status::Ok();
        });
  }

  Status CheckPath(const YAML::Node& k, const std::string& path) {
    if (path.empty() || path[0] != '/') {
      return y_.Error(k, k.Scalar() + " must start with '/', got '" + path + "'");
    }
    if (path.size() > kMaxProfilePathBytes) {
      return y_.Error(k, k.Scalar() + " longer than " + std::to_string(kMaxProfilePathBytes) + " bytes");
    }
    if (HasSpaceOrControl(path)) return y_.Error(k, k.Scalar() + " contains whitespace");
    if (path.find_first_of("?#") != std::string::npos) {
      return y_.Error(k, k.Scalar() + " must not contain a query or fragment");
    }
    return Status::Ok();
  }

  Status ParseModule(const YAML::Node& module_key, const YAML::Node& node, Module* m) {
    if (node.IsDefined() && !node.IsNull() && !node.IsMap()) {
      return y_.Error(module_key, "module '" + m->name + "' must be a mapping");
    }
    static const std::set<std::string> kKeys = {
        "scheme",         "path",        "leak_path",  "timeout",
        "max_response_bytes", "min_interval", "debug2",   "goroutineleak",
        "tls_config",     "bearer_token_file", "basic_auth", "headers",
        "label_keys",     "top_k",       "top_k_growth", "max_label_values",
        "rules",          "ignore"};
    const std::string what = "module '" + m->name + "'";
    std::vector<Rule> rules, ignores;
    bool has_basic_auth = false;
    YAML::Node headers_key;
    Status st = y_.ForEachEntry(
        node, module_key, what, kKeys,
        [&](const std::string& key, const YAML::Node& k, const YAML::Node& v) -> Status {
          if (key == "scheme") {
            GX_ASSIGN_OR_RETURN(m->scheme, y_.String(k, v));
            if (m->scheme != "http" && m->scheme != "https") {
              return y_.Error(k, "scheme must be http or https, got '" + m->scheme + "'");
            }
          } else if (key == "path" || key == "leak_path") {
            std::string path;
            GX_ASSIGN_OR_RETURN(path, y_.String(k, v));
            Status ps = CheckPath(k, path);
            if (!ps.ok()) return ps;
            (key == "path" ? m->path : m->leak_path) = path;
          } else if (key == "timeout") {
            GX_ASSIGN_OR_RETURN(m->timeout,
                                y_.Duration(k, v, milliseconds(0), kMaxProbeTimeout, true));
          } else if (key == "max_response_bytes") {
            int64_t n = 0;
            GX_ASSIGN_OR_RETURN(n, y_.Int(k, v, 1 << 10, int64_t{256} << 20));
            m->max_response_bytes = static_cast<std::size_t>(n);
          } else if (key == "min_interval") {
            GX_ASSIGN_OR_RETURN(m->min_interval,
                                y_.Duration(k, v, milliseconds(0), kMaxInterval));
          } else if (key == "debug2") {
            return ParsePolicy(k, v, what + " debug2", &m->debug2);
          } else if (key == "goroutineleak") {
            return ParsePolicy(k, v, what + " goroutineleak", &m->goroutineleak);
          } else if (key == "tls_config") {
            return ParseTls(k, v, what, &m->tls);
          } else if (key == "bearer_token_file") {
            GX_ASSIGN_OR_RETURN(m->bearer_token_file, y_.String(k, v));
            if (m->bearer_token_file.empty()) return y_.Error(k, "bearer_token_file is empty");
          } else if (key == "basic_auth") {
            has_basic_auth = true;
            return ParseBasicAuth(k, v, what, m);
          } else if (key == "headers") {
            headers_key = k;
            GX_ASSIGN_OR_RETURN(m->headers, y_.StringMap(k, v));
            for (const auto& [name, value] : m->headers) {
              if (!IsHeaderName(name)) return y_.Error(k, "invalid header name '" + name + "'");
              if (!IsHeaderValue(value)) {
                return y_.Error(k, "header '" + name + "' has control characters or is too long");
              }
            }
          } else if (key == "label_keys") {
            GX_ASSIGN_OR_RETURN(m->label_keys, y_.StringList(k, v));
            if (m->label_keys.size() > kMaxLabelKeys) {
              return y_.Error(k, "more than " + std::to_string(kMaxLabelKeys) + " label_keys");
            }
            std::set<std::string> seen;
            for (const auto& lk : m->label_keys) {
              if (lk.empty() || lk.size() > kMaxLabelKeyBytes) {
                return y_.Error(k, "label key '" + lk + "' must be 1 to " +
                                       std::to_string(kMaxLabelKeyBytes) + " bytes");
              }
              if (!seen.insert(lk).second) return y_.Error(k, "duplicate label key '" + lk + "'");
            }
          } else if (key == "top_k") {
            GX_ASSIGN_OR_RETURN(m->top_k, y_.Int(k, v, 1, 1000));
          } else if (key == "top_k_growth") {
            GX_ASSIGN_OR_RETURN(m->top_k_growth, y_.Int(k, v, 0, 1000));
          } else if (key == "max_label_values") {
            GX_ASSIGN_OR_RETURN(m->max_label_values, y_.Int(k, v, 1, 1000));
          } else if (key == "rules") {
            GX_ASSIGN_OR_RETURN(rules, ParseRules(v, y_.source(), false));
          } else if (key == "ignore") {
            GX_ASSIGN_OR_RETURN(ignores, ParseRules(v, y_.source(), true));
          }
          return Status::Ok();
        });
    if (!st.ok()) return st;
    if (has_basic_auth && !m->bearer_token_file.empty()) {
      return y_.Error(module_key, what + ": at most one of basic_auth and bearer_token_file");
    }
    if (has_basic_auth || !m->bearer_token_file.empty()) {
      for (const auto& [name, value] : m->headers) {
        if (EqualsIgnoreCase(name, "Authorization")) {
          return y_.Error(headers_key,
                          what + ": an Authorization header conflicts with " +
                              (has_basic_auth ? "basic_auth" : "bearer_token_file"));
        }
      }
    }
    // Ignore-lists win over rules, as in a rules document.
    m->rules = std::move(ignores);
    for (auto& r : rules) m->rules.push_back(std::move(r));
    return Status::Ok();
  }

  Status ParseTls(const YAML::Node& key, const YAML::Node& node, const std::string& what,
                  TlsOptions* tls) {
    Status st = y_.ForEachEntry(
        node, key, what + " tls_config", {"ca_file", "cert_file", "key_file", "insecure_skip_verify"},
        [&](const std::string& name, const YAML::Node& k, const YAML::Node& v) -> Status {
          if (name == "insecure_skip_verify") {
            GX_ASSIGN_OR_RETURN(tls->insecure_skip_verify, y_.Bool(k, v));
            return Status::Ok();
          }
          std::string file;
          GX_ASSIGN_OR_RETURN(file, y_.String(k, v));
          if (file.empty()) return y_.Error(k, name + " is empty");
          if (name == "ca_file") tls->ca_file = file;
          if (name == "cert_file") tls->cert_file = file;
          if (name == "key_file") tls->key_file = file;
          return Status::Ok();
        });
    if (!st.ok()) return st;
    if (tls->cert_file.empty() != tls->key_file.empty()) {
      return y_.Error(key, what + " tls_config: cert_file and key_file go together");
    }
    return Status::Ok();
  }

  Status ParseBasicAuth(const YAML::Node& key, const YAML::Node& node, const std::string& what,
                        Module* m) {
    Status st = y_.ForEachEntry(
        node, key, what + " basic_auth", {"username", "password_file"},
        [&](const std::string& name, const YAML::Node& k, const YAML::Node& v) -> Status {
          if (name == "username") {
            GX_ASSIGN_OR_RETURN(m->basic_auth_username, y_.String(k, v));
            if (m->basic_auth_username.find(':') != std::string::npos) {
              return y_.Error(k, "basic_auth username must not contain ':'");
            }
            if (!IsHeaderValue(m->basic_auth_username)) {
              return y_.Error(k, "basic_auth username has control characters");
            }
          } else {
            GX_ASSIGN_OR_RETURN(m->basic_auth_password_file, y_.String(k, v));
            if (m->basic_auth_password_file.empty()) return y_.Error(k, "password_file is empty");
          }
          return Status::Ok();
        });
    if (!st.ok()) return st;
    if (m->basic_auth_username.empty()) {
      return y_.Error(key, what + " basic_auth needs a username");
    }
    return Status::Ok();
  }

  Status ParseProbe(const YAML::Node& key, const YAML::Node& node, TargetAllowlist* allow) {
    return y_.ForEachEntry(
        node, key, "probe", {"allowed_targets"},
        [&](const std::string&, const YAML::Node& k, const YAML::Node& v) -> Status {
          // Present, even empty: only what is listed may be probed.
          allow->allow_any = false;
          return y_.ForEachEntry(
              v, k, "probe allowed_targets", {"hosts", "cidrs"},
              [&](const std::string& name, const YAML::Node& lk, const YAML::Node& lv) -> Status {
                std::vector<std::string> list;
                GX_ASSIGN_OR_RETURN(list, y_.StringList(lk, lv));
                for (const auto& item : list) {
                  if (name == "hosts") {
                    if (ParseIp(item)) {
                      return y_.Error(lk, "host '" + item +
                                              "' is an IP address: list it under cidrs");
                    }
                    if (!IsHostGlob(item)) {
                      return y_.Error(lk, "invalid host pattern '" + item +
                                              "' (DNS name characters, '*' and '?')");
                    }
                  } else if (!ParseCidr(item)) {
                    return y_.Error(lk, "invalid CIDR '" + item + "'");
                  }
                }
                (name == "hosts" ? allow->host_globs : allow->cidrs) = std::move(list);
                return Status::Ok();
              });
        });
  }

  Status CheckModuleRef(const YAML::Node& k, const std::string& module, const Config& config) {
    if (!config.modules.count(module)) return y_.Error(k, "unknown module '" + module + "'");
    return Status::Ok();
  }

  Status ParseWatch(const YAML::Node& key, const YAML::Node& node, const Config& config,
                    WatchConfig* w) {
    static const std::set<std::string> kKeys = {"interval",       "timeout",      "concurrency",
                                                "jitter",         "target_label", "history",
                                                "static_configs", "file_sd_configs"};
    std::size_t static_targets = 0;
    YAML::Node timeout_key;
    Status st = y_.ForEachEntry(
        node, key, "watch", kKeys,
        [&](const std::string& name, const YAML::Node& k, const YAML::Node& v) -> Status {
          if (name == "interval") {
            GX_ASSIGN_OR_RETURN(w->interval,
                                y_.Duration(k, v, std::chrono::seconds(1), kMaxInterval));
          } else if (name == "timeout") {
            timeout_key = k;
            GX_ASSIGN_OR_RETURN(w->timeout, y_.Duration(k, v, milliseconds(0), kMaxProbeTimeout, true));
          } else if (name == "concurrency") {
            GX_ASSIGN_OR_RETURN(w->concurrency, y_.Int(k, v, 1, 256));
          } else if (name == "jitter") {
            GX_ASSIGN_OR_RETURN(w->jitter, y_.Double(k, v, 0.0, 1.0));
          } else if (name == "target_label") {
            GX_ASSIGN_OR_RETURN(w->target_label, y_.String(k, v));
            if (!IsLabelName(w->target_label) || w->target_label.rfind("__", 0) == 0) {
              return y_.Error(k, "invalid target_label '" + w->target_label + "'");
            }
          } else if (name == "history") {
            return y_.ForEachEntry(
                v, k, "watch history", {"max_snapshots", "max_age"},
                [&](const std::string& hn, const YAML::Node& hk, const YAML::Node& hv) -> Status {
                  if (hn == "max_snapshots") {
                    GX_ASSIGN_OR_RETURN(w->history_max_snapshots, y_.Int(hk, hv, 1, 10000));
                  } else {
                    GX_ASSIGN_OR_RETURN(w->history_max_age, y_.Duration(hk, hv, milliseconds(0),
                                                                        kMaxHistoryAge, true));
                  }
                  return Status::Ok();
                });
          } else if (name == "static_configs") {
            if (v.IsNull()) return Status::Ok();
            if (!v.IsSequence()) return y_.Error(k, "static_configs must be a list");
            for (const auto& item : v) {
              StaticTargetGroup group;
              Status gs = ParseStaticGroup(item, config, &group, &static_targets);
              if (!gs.ok()) return gs;
              w->static_configs.push_back(std::move(group));
            }
          } else if (name == "file_sd_configs") {
            if (v.IsNull()) return Status::Ok();
            if (!v.IsSequence()) return y_.Error(k, "file_sd_configs must be a list");
            for (const auto& item : v) {
              FileSdConfig sd;
              Status ss = ParseFileSd(item, config, &sd);
              if (!ss.ok()) return ss;
              w->file_sd_configs.push_back(std::move(sd));
            }
          }
          return Status::Ok();
        });
    if (!st.ok()) return st;
    if (w->timeout > w->interval) {
      return y_.Error(timeout_key.IsDefined() ? timeout_key : key,
                      "watch timeout " + FormatDuration(w->timeout) + " exceeds the interval " +
                          FormatDuration(w->interval));
    }
    for (const auto& group : w->static_configs) {
      if (group.labels.count(w->target_label)) {
        return y_.Error(key, "static_configs label '" + w->target_label +
                                 "' conflicts with watch target_label");
      }
    }
    return Status::Ok();
  }

  Status ParseStaticGroup(const YAML::Node& node, const Config& config, StaticTargetGroup* g,
                          std::size_t* total) {
    if (!node.IsMap()) return y_.Error(node, "a static_configs entry must be a mapping");
    bool has_targets = false;
    Status st = y_.ForEachEntry(
        node, node, "static_configs entry", {"targets", "module", "labels"},
        [&](const std::string& name, const YAML::Node& k, const YAML::Node& v) -> Status {
          auto fail = [&](const std::string& msg) { return y_.Error(k, msg); };
          if (name == "targets") {
            has_targets = true;
            GX_ASSIGN_OR_RETURN(g->targets, y_.StringList(k, v));
            for (const auto& t : g->targets) {
              Status ts = CheckTarget(t, fail);
              if (!ts.ok()) return ts;
            }
            *total += g->targets.size();
            if (*total > kMaxStaticTargets) {
              return y_.Error(k, "more than " + std::to_string(kMaxStaticTargets) +
                                     " static targets");
            }
          } else if (name == "module") {
            GX_ASSIGN_OR_RETURN(g->module, y_.String(k, v));
            return CheckModuleRef(k, g->module, config);
          } else if (name == "labels") {
            GX_ASSIGN_OR_RETURN(g->labels, y_.StringMap(k, v));
            return CheckTargetLabels(g->labels, fail);
          }
          return Status::Ok();
        });
    if (!st.ok()) return st;
    if (!has_targets || g->targets.empty()) {
      return y_.Error(node, "a static_configs entry needs targets");
    }
    return Status::Ok();
  }

  Status ParseFileSd(const YAML::Node& node, const Config& config, FileSdConfig* sd) {
    if (!node.IsMap()) return y_.Error(node, "a file_sd_configs entry must be a mapping");
    Status st = y_.ForEachEntry(
        node, node, "file_sd_configs entry", {"files", "refresh_interval", "module"},
        [&](const std::string& name, const YAML::Node& k, const YAML::Node& v) -> Status {
          if (name == "files") {
            GX_ASSIGN_OR_RETURN(sd->files, y_.StringList(k, v));
            for (const auto& f : sd->files) {
              if (f.empty()) return y_.Error(k, "empty file pattern");
            }
          } else if (name == "refresh_interval") {
            GX_ASSIGN_OR_RETURN(sd->refresh_interval,
                                y_.Duration(k, v, std::chrono::seconds(1), kMaxInterval));
          } else if (name == "module") {
            GX_ASSIGN_OR_RETURN(sd->module, y_.String(k, v));
            return CheckModuleRef(k, sd->module, config);
          }
          return Status::Ok();
        });
    if (!st.ok()) return st;
    if (sd->files.empty()) return y_.Error(node, "a file_sd_configs entry needs files");
    return Status::Ok();
  }

  YamlReader y_;
};

// --- file_sd ----------------------------------------------------------------------------

struct Group {
  std::vector<std::string> targets;
  std::map<std::string, std::string> labels;
};

// Parses a JSON file_sd document; `budget` is how many targets may still be added.
Status ParseJsonGroups(const std::string& path, const std::string& text, std::size_t budget,
                       std::vector<Group>* out) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::Error(path + ": invalid JSON");
  if (!doc.is_array()) return Status::Error(path + ": expected a list of target groups");
  std::size_t count = 0;
  std::size_t index = 0;
  for (const auto& item : doc) {
    ++index;
    auto fail = [&](const std::string& msg) {
      return Status::Error(path + ": group " + std::to_string(index) + ": " + msg);
    };
    if (!item.is_object()) return fail("must be an object");
    Group g;
    for (auto it = item.begin(); it != item.end(); ++it) {
      if (it.key() == "targets") {
        if (!it.value().is_array()) return fail("targets must be a list of strings");
        for (const auto& t : it.value()) {
          if (!t.is_string()) return fail("targets must be a list of strings");
          Status st = CheckTarget(t.get<std::string>(), fail);
          if (!st.ok()) return st;
          if (++count > budget) {
            return Status::Error(path + ": more than " + std::to_string(kMaxFileSdTargets) +
                                 " targets in total");
          }
          g.targets.push_back(t.get<std::string>());
        }
      } else if (it.key() == "labels") {
        if (it.value().is_null()) continue;
        if (!it.value().is_object()) return fail("labels must map strings to strings");
        for (auto l = it.value().begin(); l != it.value().end(); ++l) {
          if (!l.value().is_string()) return fail("labels must map strings to strings");
          g.labels[l.key()] = l.value().get<std::string>();
        }
        Status st = CheckTargetLabels(g.labels, fail);
        if (!st.ok()) return st;
      } else {
        return fail("unknown key '" + it.key() + "'");
      }
    }
    out->push_back(std::move(g));
  }
  return Status::Ok();
}

Status ParseYamlGroups(const std::string& path, const std::string& text, std::size_t budget,
                       std::vector<Group>* out) {
  YamlReader y(path);
  try {
    YAML::Node doc = YAML::Load(text);
    if (doc.IsNull()) return Status::Ok();
    if (!doc.IsSequence()) return y.Error(doc, "expected a list of target groups");
    std::size_t count = 0;
    for (const auto& item : doc) {
      if (!item.IsMap()) return y.Error(item, "a target group must be a mapping");
      Group g;
      Status st = y.ForEachEntry(
          item, item, "target group", {"targets", "labels"},
          [&](const std::string& name, const YAML::Node& k, const YAML::Node& v) -> Status {
            auto fail = [&](const std::string& msg) { return y.Error(k, msg); };
            if (name == "targets") {
              if (!v.IsSequence()) return fail("targets must be a list of strings");
              for (const auto& t : v) {
                if (!t.IsScalar()) return y.Error(t, "targets must be a list of strings");
                Status ts = CheckTarget(t.Scalar(), fail);
                if (!ts.ok()) return ts;
                if (++count > budget) {
                  return y.Error(t, "more than " + std::to_string(kMaxFileSdTargets) +
                                        " targets in total");
                }
                g.targets.push_back(t.Scalar());
              }
            } else {
              GX_ASSIGN_OR_RETURN(g.labels, y.StringMap(k, v));
              return CheckTargetLabels(g.labels, fail);
            }
            return Status::Ok();
          });
      if (!st.ok()) return st;
      out->push_back(std::move(g));
    }
  } catch (const YAML::Exception& e) {
    return Status::Error(YamlErrorMessage(path, e));
  }
  return Status::Ok();
}

}  // namespace

// --- public API --------------------------------------------------------------------------

bool TargetAllowlist::Allows(const std::string& host) const {
  if (allow_any) return true;
  std::string h = host;
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty() || h.size() > kMaxHostNameBytes || HasSpaceOrControl(h)) return false;
  if (auto ip = ParseIp(h)) {
    for (const auto& text : cidrs) {
      auto cidr = ParseCidr(text);
      if (cidr && CidrContains(*cidr, *ip)) return true;
    }
    return false;  // an address never matches a host pattern
  }
  for (const auto& glob : host_globs) {
    if (GlobMatch(glob, h)) return true;
  }
  return false;
}

const Module* Config::FindModule(const std::string& name) const {
  auto it = modules.find(name);
  return it == modules.end() ? nullptr : &it->second;
}

std::shared_ptr<const Config> DefaultConfig() {
  static const std::shared_ptr<const Config> config = [] {
    auto c = std::make_shared<Config>();
    Module m;
    m.name = "default";
    m.classifier = std::make_shared<const Classifier>();
    c->modules.emplace("default", std::move(m));
    return std::shared_ptr<const Config>(std::move(c));
  }();
  return config;
}

Result<std::shared_ptr<const Config>> ParseConfig(const std::string& yaml_text,
                                                  const std::string& source) {
  const std::string where = source.empty() ? "<config>" : source;
  if (yaml_text.size() > kMaxConfigBytes) {
    return Status::Error(where + ": larger than " + std::to_string(kMaxConfigBytes) + " bytes");
  }
  auto config = std::make_shared<Config>();
  config->source = source;
  config->checksum = Checksum(yaml_text);
  try {
    YAML::Node doc = YAML::Load(yaml_text);
    ConfigParser parser(source);
    Status st = parser.Parse(doc, config.get());
    if (!st.ok()) return st;
  } catch (const YAML::Exception& e) {
    return Status::Error(YamlErrorMessage(where, e));
  }
  for (auto& [name, module] : config->modules) {
    module.classifier = std::make_shared<const Classifier>(module.rules);
  }
  return std::shared_ptr<const Config>(std::move(config));
}

Result<std::shared_ptr<const Config>> LoadConfigFile(const std::string& path) {
  std::string text;
  Status st = ReadBounded(path, kMaxConfigBytes, &text);
  if (!st.ok()) return st;
  return ParseConfig(text, path);
}

std::vector<WatchTarget> ResolveFileSd(const FileSdConfig& sd, std::vector<std::string>* errors) {
  auto report = [&](const std::string& message) {
    if (errors != nullptr) errors->push_back(message);
  };
  std::vector<std::string> files;
  for (const auto& pattern : sd.files) {
    glob_t g{};
    int rc = glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g);
    if (rc == 0) {
      for (std::size_t i = 0; i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
    } else if (rc != GLOB_NOMATCH) {
      report(pattern + ": " + (rc == GLOB_NOSPACE ? "out of memory" : "read error") +
             " while expanding the pattern");
    }
    globfree(&g);
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  if (files.size() > kMaxFileSdFiles) {
    report("file_sd: " + std::to_string(files.size()) + " files matched, only the first " +
           std::to_string(kMaxFileSdFiles) + " are read");
    files.resize(kMaxFileSdFiles);
  }

  std::vector<WatchTarget> targets;
  for (const auto& file : files) {
    std::string text;
    Status st = ReadBounded(file, kMaxFileSdBytes, &text);
    std::vector<Group> groups;
    if (st.ok()) {
      std::size_t budget = kMaxFileSdTargets - targets.size();
      auto first = text.find_first_not_of(" \t\r\n");
      if (first != std::string::npos && text[first] == '[') {
        st = ParseJsonGroups(file, text, budget, &groups);
      } else {
        st = ParseYamlGroups(file, text, budget, &groups);
      }
    }
    if (!st.ok()) {
      report(st.message());
      continue;
    }
    for (auto& g : groups) {
      for (auto& t : g.targets) {
        targets.push_back(WatchTarget{std::move(t), sd.module, g.labels});
      }
    }
  }
  return targets;
}

}  // namespace gx
