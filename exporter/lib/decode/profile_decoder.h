// Decodes any goroutine profile body: debug=0 protobuf, debug=1 or debug=2 text, from the
// goroutine or goroutineleak endpoint, gzip-compressed or not. The format is detected from
// the content. Input is pushed in chunks as it arrives, so text dumps stream through with
// bounded memory. Not thread-safe; one decoder per body.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/limits.h"
#include "common/memory_budget.h"
#include "common/status.h"
#include "decode/raw_record.h"

namespace gx {

class ProfileDecoder {
 public:
  // `charge` (may be null) is told what the decoder's buffers hold as they grow.
  ProfileDecoder(RecordSink* sink, const Limits& limits, MemoryCharge* charge = nullptr);
  ~ProfileDecoder();
  ProfileDecoder(const ProfileDecoder&) = delete;
  ProfileDecoder& operator=(const ProfileDecoder&) = delete;

  // Consumes the next chunk. After an error, further input is ignored.
  Status Feed(std::string_view chunk);
  // Ends the input. The returned status is an error when nothing usable was decoded; a
  // partial but usable result (truncated dump, skipped lines) is OK with info() saying so.
  Status Finish();
  const DecodeInfo& info() const { return info_; }

 private:
  class Impl;
  Status StartInflate(std::string_view first);
  Status Inflate(std::string_view chunk);
  Status InflateMember(std::string_view* input);
  bool InflateWhole();
  Status FeedDecoded(std::string_view chunk);
  Status Detect(bool at_end);
  Status ProtoTooLarge() const;
  // Charges the protobuf buffer growing to `capacity` bytes; false when refused.
  bool ChargeProto(std::size_t capacity);

  RecordSink* sink_;
  Limits limits_;
  MemoryCharge* charge_;
  std::size_t proto_charged_ = 0;
  DecodeInfo info_;
  Status error_;
  std::unique_ptr<Impl> impl_;
};

// Convenience: decodes a whole in-memory body.
Result<DecodeInfo> DecodeProfile(std::string_view body, RecordSink* sink, const Limits& limits,
                                 MemoryCharge* charge = nullptr);

}  // namespace gx
