// JSON views of snapshots and diffs, shared by the CLI (--output json) and the HTTP API.
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "aggregate/diff.h"
#include "aggregate/snapshot.h"

namespace gx {

nlohmann::json StackToJson(const StackSummary& stack, bool with_frames);
// top_k <= 0 means all stacks; without include_benign, benign stacks are left out before
// counting top_k (as the text report does without --all).
nlohmann::json SnapshotToJson(const Snapshot& snapshot, int top_k, bool with_frames,
                              bool include_benign = true);
nlohmann::json DiffToJson(const SnapshotDiff& diff, int top_k, bool with_frames,
                          bool include_benign = true);

// The JSON text of `value`; `indent` < 0 for one line. Strings from profiles can hold any
// bytes: invalid UTF-8 becomes U+FFFD instead of the exception nlohmann::json throws.
std::string JsonText(const nlohmann::json& value, int indent = -1);

}  // namespace gx
