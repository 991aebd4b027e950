// Turns decoded records into a Snapshot: groups goroutines into buckets as they stream in
// (memory grows with distinct stacks, not goroutines), then classifies each bucket once and
// merges buckets into stacks by stable id. Not thread-safe; one per capture.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "aggregate/snapshot.h"
#include "classify/classifier.h"
#include "common/limits.h"
#include "decode/raw_record.h"

namespace gx {

class Aggregator : public RecordSink {
 public:
  Aggregator(const Classifier* classifier, const Limits& limits);
  void OnRecord(RawRecord&& record) override;
  // Builds the snapshot. `info` is the decoder's view of the same body.
  Snapshot Finalize(const DecodeInfo& info);

 private:
  struct Bucket {
    RawRecord sample;  // first record seen (frames, state, creator, labels)
    int64_t count = 0;
    int64_t leaked = 0;
    int64_t locked = 0;
    WaitStats wait;
  };
  static bool IsSelfSample(const RawRecord& record);

  const Classifier* classifier_;
  Limits limits_;
  std::unordered_map<std::string, std::size_t> index_;
  std::vector<Bucket> buckets_;
  std::string key_;  // reused scratch buffer
  int64_t self_excluded_ = 0;
  int64_t overflow_ = 0;
};

// Decodes and aggregates a whole body in one call.
Result<Snapshot> AnalyzeBody(std::string_view body, const Classifier& classifier,
                             const Limits& limits, const std::string& source);

}  // namespace gx
