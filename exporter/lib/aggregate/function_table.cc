#include "aggregate/function_table.h"

#include "classify/classifier.h"
#include "decode/text_util.h"

namespace gx {

bool FunctionTable::IsSelfSampleFunction(std::string_view f) {
  return StartsWith(f, "runtime/pprof.write") ||
         f == "runtime/pprof.runtime_goroutineProfileWithLabels" ||
         f == "runtime.goroutineProfileWithLabels";
}

uint32_t FunctionTable::Insert(std::string_view name) {
  bool added = false;
  uint32_t id = names_.Insert(name, &added);
  if (added) {
    Traits& t = traits_.emplace_back();
    t.identity = TraitsOf(name);
    t.self_sample = IsSelfSampleFunction(name);
    t.chan_op = IsChanOpFunction(name);
  }
  return id;
}

}  // namespace gx
