// Decodes an uncompressed pprof Profile message (debug=0 body after gunzip, FORMATS.md §1)
// into records, one per sample. Stateless; thread-safe.
#pragma once

#include <string_view>

#include "common/limits.h"
#include "common/status.h"
#include "decode/raw_record.h"

namespace gx {

Status DecodePprofProto(std::string_view message, const Limits& limits, RecordSink* sink,
                        DecodeInfo* info);

}  // namespace gx
