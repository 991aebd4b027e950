#include "aggregate/function_table.h"

#include "classify/classifier.h"
#include "decode/text_util.h"

namespace gx {

bool FunctionTable::IsSelfSampleFunction(std::string_view f) {
  return StartsWith(f, "runtime/pprof.write") ||
         f == "runtime/pprof.runtime_goroutineProfileWithLabels" ||
         f == "runtime.goroutineProfileWithLabels";
}

uint32_t FunctionTable::Insert(std::string_view recorded) {
  bool added = false;
  uint32_t id = names_.Insert(recorded, &added);
  if (added) {
    Canonical& c = canonical_.emplace_back(Canonical{names_[id], names_.hash(id)});
    if (CanonicalFunctionName(recorded, &scratch_)) {
      c.name = rewritten_.Append(scratch_);
      c.hash = InternTable::HashOf(c.name);
    }
    const std::string_view name = c.name;
    Traits& t = traits_.emplace_back();
    t.identity = TraitsOf(name);
    t.self_sample = IsSelfSampleFunction(name);
    t.chan_op = IsChanOpFunction(name);
  }
  return id;
}

}  // namespace gx
