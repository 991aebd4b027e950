// Compact human-readable triage reports (the runbook's steps 2-3) for terminals.
// Pure functions; thread-safe.
#pragma once

#include <string>

#include "aggregate/diff.h"
#include "aggregate/snapshot.h"

namespace gx {

struct TextReportOptions {
  int top_k = 10;
  bool frames = false;     // print every frame of each listed stack
  bool show_benign = false;  // list benign stacks among the top ones
  // How to see the stacks beyond top_k, said after the list when some are left out.
  std::string more_hint = "--top 0 lists all";
  // How to see benign stacks, said after a diff's growing stacks when benign ones grew.
  std::string benign_hint = "--all lists them";
};

std::string RenderSnapshotText(const Snapshot& snapshot, const TextReportOptions& options);
std::string RenderDiffText(const SnapshotDiff& diff, const std::string& before_name,
                           const std::string& after_name, const TextReportOptions& options);

}  // namespace gx
