// Interns the function names of one capture (InternTable) and works out, once per distinct
// name, its canonical spelling (generic shapes as "[...]", CanonicalFunctionName) and what
// identity, display and classification rules need to know about it
// (normalize/stack_identity.h), so aggregation compares ids and finalization reads flags
// instead of re-parsing names frame by frame. Ids are per name as recorded; name() is the
// canonical one. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "aggregate/intern_table.h"
#include "decode/string_arena.h"
#include "normalize/stack_identity.h"

namespace gx {

class FunctionTable {
 public:
  static constexpr uint32_t kNone = InternTable::kNone;

  struct Traits {
    FunctionTraits identity;
    bool self_sample = false;    // a frame of the goroutine serving the profile request
    bool chan_op = false;        // runtime.chansend or runtime.chanrecv (nil-channel check)
  };

  // By the name as the decoder recorded it.
  uint32_t Find(std::string_view recorded) const { return names_.Find(recorded); }
  uint32_t Insert(std::string_view recorded);
  std::string_view recorded_name(uint32_t id) const { return names_[id]; }
  // The canonical name: what stack ids hash, rules match and reports show.
  std::string_view name(uint32_t id) const { return canonical_[id].name; }
  uint64_t name_hash(uint32_t id) const { return canonical_[id].hash; }  // HashOf(name(id))
  const Traits& traits(uint32_t id) const { return traits_[id]; }
  std::size_t size() const { return names_.size(); }

  // The frames that mark the goroutine serving the profile request (FORMATS.md §1).
  static bool IsSelfSampleFunction(std::string_view name);

 private:
  struct Canonical {
    std::string_view name;  // into names_ or, for rewritten generic names, rewritten_
    uint64_t hash;
  };
  InternTable names_;
  std::vector<Canonical> canonical_;
  std::vector<Traits> traits_;
  StringArena rewritten_;
  std::string scratch_;
};

}  // namespace gx
