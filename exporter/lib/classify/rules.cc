#include "classify/rules.h"

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <set>

#include "common/hash.h"
#include "common/limits.h"

namespace gx {
namespace {

std::string Where(const std::string& source, const YAML::Node& node) {
  return source + ":" + std::to_string(node.Mark().line + 1);
}

Result<std::shared_ptr<const re2::RE2>> Compile(const YAML::Node& node,
                                                const std::string& source) {
  if (!node.IsScalar()) return Status::Error(Where(source, node) + ": pattern must be a string");
  const std::string& pattern = node.Scalar();
  if (pattern.size() > kMaxPatternBytes) {
    return Status::Error(Where(source, node) + ": pattern longer than " +
                         std::to_string(kMaxPatternBytes) + " bytes");
  }
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kMaxRe2Memory);
  auto re = std::make_shared<const re2::RE2>(pattern, options);
  if (!re->ok()) {
    return Status::Error(Where(source, node) + ": bad pattern '" + pattern + "': " + re->error());
  }
  return std::shared_ptr<const re2::RE2>(re);
}

Result<Rule> ParseRule(const YAML::Node& node, const std::string& source, bool ignore_list,
                       int index) {
  if (!node.IsMap()) return Status::Error(Where(source, node) + ": a rule must be a mapping");
  static const std::set<std::string> kKeys = {"name",         "category",   "top_function",
                                              "leaf_function", "any_function", "blocked_in",
                                              "created_by",   "state",      "label"};
  Rule rule;
  rule.category = ignore_list ? Category::kIgnored : Category::kUnknown;
  rule.name = (ignore_list ? "ignore-" : "rule-") + std::to_string(index + 1);
  bool has_category = ignore_list;
  bool has_condition = false;
  for (const auto& entry : node) {
    const std::string key = entry.first.as<std::string>();
    const YAML::Node& value = entry.second;
    if (!kKeys.count(key) || (ignore_list && key == "category")) {
      return Status::Error(Where(source, entry.first) + ": unknown key '" + key + "' in rule");
    }
    if (key == "name") {
      if (!value.IsScalar() || value.Scalar().size() > kMaxRuleNameBytes) {
        return Status::Error(Where(source, value) + ": a rule name is a string of at most " +
                             std::to_string(kMaxRuleNameBytes) + " bytes");
      }
      rule.name = value.Scalar();
    } else if (key == "category") {
      auto category = ParseCategory(value.as<std::string>());
      if (!category) {
        return Status::Error(Where(source, value) + ": unknown category '" +
                             value.as<std::string>() + "'");
      }
      rule.category = *category;
      has_category = true;
    } else if (key == "any_function" || key == "blocked_in") {
      std::vector<YAML::Node> patterns;
      if (value.IsSequence()) {
        if (value.size() > kMaxPatternsPerRule) {
          return Status::Error(Where(source, value) + ": more than " +
                               std::to_string(kMaxPatternsPerRule) + " patterns in a rule");
        }
        for (const auto& p : value) patterns.push_back(p);
      } else {
        patterns.push_back(value);
      }
      for (const auto& p : patterns) {
        auto re = Compile(p, source);
        if (!re.ok()) return re.status();
        (key == "any_function" ? rule.any_function : rule.blocked_in).push_back(re.value());
      }
      has_condition = true;
    } else if (key == "label") {
      if (!value.IsMap() || value.size() > kMaxPatternsPerRule) {
        return Status::Error(Where(source, value) + ": label must map keys to patterns (at most " +
                             std::to_string(kMaxPatternsPerRule) + ")");
      }
      for (const auto& kv : value) {
        auto re = Compile(kv.second, source);
        if (!re.ok()) return re.status();
        rule.labels.emplace_back(kv.first.as<std::string>(), re.value());
      }
      has_condition = true;
    } else {
      auto re = Compile(value, source);
      if (!re.ok()) return re.status();
      if (key == "top_function") rule.top_function = re.value();
      if (key == "leaf_function") rule.leaf_function = re.value();
      if (key == "created_by") rule.created_by = re.value();
      if (key == "state") rule.state = re.value();
      has_condition = true;
    }
  }
  if (!has_category) return Status::Error(Where(source, node) + ": rule has no category");
  if (!has_condition) {
    return Status::Error(Where(source, node) + ": rule '" + rule.name + "' has no condition");
  }
  return rule;
}

}  // namespace

Result<std::vector<Rule>> ParseRules(const YAML::Node& sequence, const std::string& source,
                                     bool ignore_list) {
  std::vector<Rule> rules;
  try {
    if (!sequence.IsDefined() || sequence.IsNull()) return rules;
    if (!sequence.IsSequence()) {
      return Status::Error(Where(source, sequence) + ": expected a list of rules");
    }
    if (sequence.size() > kMaxRules) {
      return Status::Error(Where(source, sequence) + ": more than " + std::to_string(kMaxRules) +
                           " rules");
    }
    int index = 0;
    for (const auto& node : sequence) {
      auto rule = ParseRule(node, source, ignore_list, index++);
      if (!rule.ok()) return rule.status();
      rules.push_back(std::move(rule.value()));
    }
  } catch (const YAML::Exception& e) {
    return Status::Error(source + ": " + e.what());
  }
  return rules;
}

Result<std::vector<Rule>> ParseRulesDocument(const std::string& yaml_text,
                                             const std::string& source) {
  try {
    YAML::Node doc = YAML::Load(yaml_text);
    if (doc.IsNull()) return std::vector<Rule>();
    if (!doc.IsMap()) return Status::Error(source + ": expected a mapping with rules/ignore");
    for (const auto& entry : doc) {
      std::string key = entry.first.as<std::string>();
      if (key != "rules" && key != "ignore") {
        return Status::Error(Where(source, entry.first) + ": unknown key '" + key + "'");
      }
    }
    // Ignore-lists win over rules, as goleak's IgnoreTopFunction does.
    auto ignores = ParseRules(doc["ignore"], source, true);
    if (!ignores.ok()) return ignores.status();
    auto rules = ParseRules(doc["rules"], source, false);
    if (!rules.ok()) return rules.status();
    std::vector<Rule> all = std::move(ignores.value());
    for (auto& r : rules.value()) all.push_back(std::move(r));
    return all;
  } catch (const YAML::Exception& e) {
    return Status::Error(source + ": " + e.what());
  }
}

const std::vector<Rule>& BuiltinRules() {
  static const std::vector<Rule> rules = [] {
    auto parsed = ParseRulesDocument(BuiltinRulesYaml(), "builtin_rules.yaml");
    // The built-in file is part of the binary and covered by tests; failing here is a bug.
    if (!parsed.ok()) std::abort();
    return std::move(parsed.value());
  }();
  return rules;
}

uint64_t RulesFingerprint(const std::vector<Rule>& rules) {
  uint64_t h = HashMix(rules.size(), 0x52554c4553ULL);
  auto add = [&h](std::string_view s) { h = HashMix(h, HashBytes(s)); };
  auto add_re = [&](const std::shared_ptr<const re2::RE2>& re) {
    add(re ? std::string_view(re->pattern()) : std::string_view("\x00none"));
  };
  for (const Rule& r : rules) {
    add(r.name);
    h = HashMix(h, static_cast<uint64_t>(r.category));
    add_re(r.top_function);
    add_re(r.leaf_function);
    h = HashMix(h, r.any_function.size());
    for (const auto& re : r.any_function) add_re(re);
    h = HashMix(h, r.blocked_in.size());
    for (const auto& re : r.blocked_in) add_re(re);
    add_re(r.created_by);
    add_re(r.state);
    h = HashMix(h, r.labels.size());
    for (const auto& [key, re] : r.labels) {
      add(key);
      add_re(re);
    }
  }
  return h;
}

}  // namespace gx
