// A record sink for the benchmarks that drops every record. It takes the decoder's views
// (OnRecordView), so no RawRecord is built for it: "decode only" is the decoder's own work.
// Not thread-safe.
#pragma once

#include <cstdint>

#include "decode/raw_record.h"

namespace gx::bench {

class DropSink : public RecordSink {
 public:
  void OnRecord(RawRecord&& record) override { records += record.count; }
  bool OnRecordView(const RecordView& record) override {
    records += record.count;
    return true;
  }
  int64_t records = 0;
};

}  // namespace gx::bench
