// Decodes an uncompressed pprof Profile message (debug=0 body after gunzip, FORMATS.md §1)
// into records, one per sample. Stateless; thread-safe.
#pragma once

#include <string_view>

#include "common/limits.h"
#include "common/memory_budget.h"
#include "common/status.h"
#include "decode/raw_record.h"

namespace gx {

// `charge` (may be null) is told what the tables hold before they are allocated.
Status DecodePprofProto(std::string_view message, const Limits& limits, RecordSink* sink,
                        DecodeInfo* info, MemoryCharge* charge = nullptr);

}  // namespace gx
