// Hands decoded records to a sink: as views when the sink takes them (no copies), else as a
// RawRecord filled in place. The RawRecord is reused: when the sink did not keep it, its
// strings and frames keep their capacity, so steady-state decoding does not allocate.
// Not thread-safe; one per decoder.
#pragma once

#include <vector>

#include "decode/raw_record.h"

namespace gx {

class RecordEmitter {
 public:
  explicit RecordEmitter(RecordSink* sink) : sink_(sink) {}
  void Emit(const RecordView& record);

 private:
  RecordSink* sink_;
  RawRecord record_;
  std::vector<RawFrame> spare_;  // frames beyond the current record's, kept for their capacity
};

}  // namespace gx
