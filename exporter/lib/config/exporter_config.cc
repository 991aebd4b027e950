#include "config/exporter_config.h"

#include <yaml-cpp/yaml.h>

#include <set>

#include "common/duration.h"
#include "common/files.h"
#include "common/label_names.h"
#include "common/limits.h"
#include "config/config_values.h"
#include "config/host_match.h"
#include "config/yaml_reader.h"

namespace gx {
namespace {

using std::chrono::milliseconds;

// The ConnectPolicy of probe.allowed_targets.resolved_cidrs (ranges already validated); null
// for an empty list, which sets no policy.
std::shared_ptr<const ConnectPolicy> ResolvedAddressPolicy(const std::vector<std::string>& list) {
  if (list.empty()) return nullptr;
  std::vector<Cidr> ranges;
  std::string key;
  for (const std::string& text : list) {
    if (auto cidr = ParseCidr(text)) ranges.push_back(*cidr);
    key += (key.empty() ? "" : ",") + text;
  }
  auto policy = std::make_shared<ConnectPolicy>();
  policy->name = "probe.allowed_targets.resolved_cidrs";
  policy->key = std::move(key);
  policy->allows = [ranges = std::move(ranges)](const std::string& address) {
    const auto ip = ParseIp(address);
    if (!ip) return false;
    for (const Cidr& range : ranges) {
      if (CidrContains(range, *ip)) return true;
    }
    return false;
  };
  return policy;
}

// Fills a Config from one parsed document, strictly; holds only the reader that names the
// source in messages. One per document; not thread-safe.
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
    if (node.size() > kMaxModules) {
      return y_.Error(key, "more than " + std::to_string(kMaxModules) + " modules");
    }
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
            GX_ASSIGN_OR_RETURN(n, y_.Bytes(k, v, 1 << 10, int64_t{256} << 20));
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
            // Keys become label names as sanitized; two keys that sanitize alike, or one that
            // is already a label of the exporter's series, would put a name twice on a series.
            std::set<std::string> seen;
            for (const auto& lk : m->label_keys) {
              if (lk.empty() || lk.size() > kMaxLabelKeyBytes) {
                return y_.Error(k, "label key '" + lk + "' must be 1 to " +
                                       std::to_string(kMaxLabelKeyBytes) + " bytes");
              }
              const std::string name = LabelNameOfKey(lk);
              if (!seen.insert(name).second) {
                return y_.Error(k, "label key '" + lk + "' gives the label name '" + name +
                                       "' of another key");
              }
              if (IsExporterLabelName(name) || name.rfind("__", 0) == 0) {
                return y_.Error(k, "label key '" + lk + "' gives the label name '" + name +
                                       "', which the exporter's series already carry");
              }
            }
          } else if (key == "top_k") {
            GX_ASSIGN_OR_RETURN(m->top_k, y_.Int(k, v, 1, 1000));
          } else if (key == "top_k_growth") {
            GX_ASSIGN_OR_RETURN(m->top_k_growth, y_.Int(k, v, 0, 1000));
          } else if (key == "max_label_values") {
            GX_ASSIGN_OR_RETURN(m->max_label_values, y_.Int(k, v, 1, 1000));
          } else if (key == "rules" || key == "ignore") {
            auto& list = key == "rules" ? rules : ignores;
            GX_ASSIGN_OR_RETURN(list, ParseRules(v, y_.source(), key == "ignore"));
            rules_total_ += list.size();
            if (rules_total_ > kMaxRules) {
              return y_.Error(k, "more than " + std::to_string(kMaxRules) +
                                     " rules and ignore entries in all modules together");
            }
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
              v, k, "probe allowed_targets", {"hosts", "cidrs", "resolved_cidrs"},
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
                if (name == "resolved_cidrs") {
                  allow->connect_policy = ResolvedAddressPolicy(list);
                  allow->resolved_cidrs = std::move(list);
                } else {
                  (name == "hosts" ? allow->host_globs : allow->cidrs) = std::move(list);
                }
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
    bool timeout_set = false;  // (a default-constructed Node is "defined": a null node)
    Status st = y_.ForEachEntry(
        node, key, "watch", kKeys,
        [&](const std::string& name, const YAML::Node& k, const YAML::Node& v) -> Status {
          if (name == "interval") {
            GX_ASSIGN_OR_RETURN(w->interval,
                                y_.Duration(k, v, std::chrono::seconds(1), kMaxInterval));
          } else if (name == "timeout") {
            timeout_key = k;
            timeout_set = true;
            GX_ASSIGN_OR_RETURN(w->timeout, y_.Duration(k, v, milliseconds(0), kMaxProbeTimeout, true));
          } else if (name == "concurrency") {
            GX_ASSIGN_OR_RETURN(w->concurrency, y_.Int(k, v, 1, 256));
          } else if (name == "jitter") {
            GX_ASSIGN_OR_RETURN(w->jitter, y_.Double(k, v, 0.0, 1.0));
          } else if (name == "target_label") {
            GX_ASSIGN_OR_RETURN(w->target_label, y_.String(k, v));
            if (!IsLabelName(w->target_label) || w->target_label.rfind("__", 0) == 0 ||
                IsExporterLabelName(w->target_label)) {
              return y_.Error(k, "invalid target_label '" + w->target_label + "'");
            }
          } else if (name == "history") {
            return y_.ForEachEntry(
                v, k, "watch history", {"max_snapshots", "max_age", "max_targets"},
                [&](const std::string& hn, const YAML::Node& hk, const YAML::Node& hv) -> Status {
                  if (hn == "max_snapshots") {
                    GX_ASSIGN_OR_RETURN(w->history_max_snapshots, y_.Int(hk, hv, 1, 10000));
                  } else if (hn == "max_targets") {
                    GX_ASSIGN_OR_RETURN(
                        w->history_max_targets,
                        y_.Int(hk, hv, 1, static_cast<int64_t>(kMaxTrackedTargets)));
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
      // The default timeout follows a shorter interval; one set by hand must fit in it.
      if (!timeout_set) {
        w->timeout = w->interval;
      } else {
        return y_.Error(timeout_key, "watch timeout " + FormatDuration(w->timeout) +
                                         " exceeds the interval " + FormatDuration(w->interval));
      }
    }
    for (const auto& group : w->static_configs) {
      if (group.labels.count(w->target_label)) {
        return y_.Error(key, "static_configs label '" + w->target_label +
                                 "' conflicts with watch target_label");
      }
    }
    // Watched series carry the target label next to their module's pprof label keys.
    if (!w->static_configs.empty() || !w->file_sd_configs.empty()) {
      for (const auto& [name, module] : config.modules) {
        for (const std::string& lk : module.label_keys) {
          if (LabelNameOfKey(lk) == w->target_label) {
            return y_.Error(key, "label key '" + lk + "' of module '" + name +
                                     "' gives the label name of watch target_label '" +
                                     w->target_label + "'");
          }
        }
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
  std::size_t rules_total_ = 0;  // rules and ignore entries of every module so far
};

}  // namespace

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

}  // namespace gx
