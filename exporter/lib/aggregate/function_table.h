// Interns the function names of one capture (InternTable) and works out, once per distinct
// name, what identity, display and classification rules need to know about it
// (normalize/stack_identity.h), so aggregation compares ids and finalization reads flags
// instead of re-parsing names frame by frame. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "aggregate/intern_table.h"
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

  uint32_t Find(std::string_view name) const { return names_.Find(name); }
  uint32_t Insert(std::string_view name);
  std::string_view name(uint32_t id) const { return names_[id]; }
  uint64_t name_hash(uint32_t id) const { return names_.hash(id); }
  const Traits& traits(uint32_t id) const { return traits_[id]; }
  std::size_t size() const { return names_.size(); }

  // The frames that mark the goroutine serving the profile request (FORMATS.md §1).
  static bool IsSelfSampleFunction(std::string_view name);

 private:
  InternTable names_;
  std::vector<Traits> traits_;
};

}  // namespace gx
