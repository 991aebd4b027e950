// Prometheus file_sd files for watch mode: JSON or YAML lists of target groups
// (ResolveFileSd in config/exporter_config.h).
#include <glob.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/limits.h"
#include "config/config_values.h"
#include "config/exporter_config.h"
#include "config/yaml_reader.h"

namespace gx {
namespace {

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

std::vector<WatchTarget> ResolveFileSd(const FileSdConfig& sd, std::vector<std::string>* errors,
                                       FileSdMemory* memory) {
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
  FileSdMemory next;  // what each file gave this time, good or kept
  for (const auto& file : files) {
    std::string text;
    Status st = ReadBounded(file, kMaxFileSdBytes, &text);
    std::vector<Group> groups;
    const std::size_t budget = kMaxFileSdTargets - targets.size();
    if (st.ok()) {
      auto first = text.find_first_not_of(" \t\r\n");
      if (first != std::string::npos && text[first] == '[') {
        st = ParseJsonGroups(file, text, budget, &groups);
      } else {
        st = ParseYamlGroups(file, text, budget, &groups);
      }
    }
    std::vector<WatchTarget> from_file;
    if (st.ok()) {
      for (auto& g : groups) {
        for (auto& t : g.targets) from_file.push_back(WatchTarget{std::move(t), sd.module, g.labels});
      }
    } else {
      const std::vector<WatchTarget>* last = nullptr;
      if (memory) {
        auto it = memory->by_file.find(file);
        if (it != memory->by_file.end()) last = &it->second;
      }
      if (!last) {
        report(st.message());
        continue;
      }
      from_file = *last;
      for (WatchTarget& t : from_file) t.module = sd.module;  // the config may have changed
      if (from_file.size() > budget) from_file.resize(budget);
      report(st.message() + "; keeping the " + std::to_string(from_file.size()) +
             " targets it last gave");
    }
    if (memory) next.by_file[file] = from_file;
    for (auto& t : from_file) targets.push_back(std::move(t));
  }
  if (memory) *memory = std::move(next);
  return targets;
}

}  // namespace gx
