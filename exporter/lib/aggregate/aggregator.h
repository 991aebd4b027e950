// Turns decoded records into a Snapshot: groups goroutines into buckets as they stream in
// (memory grows with distinct stacks, not goroutines), then classifies each bucket once and
// merges buckets into stacks by stable id. Not thread-safe; one per capture.
#pragma once

#include <string>
#include <vector>

#include "aggregate/function_table.h"
#include "aggregate/intern_table.h"
#include "aggregate/snapshot.h"
#include "aggregate/stack_shape_cache.h"
#include "classify/classifier.h"
#include "common/limits.h"
#include "common/memory_budget.h"
#include "decode/raw_record.h"

namespace gx {

class Aggregator : public RecordSink {
 public:
  // `shapes` (may be null) shares stack shapes with other captures; see stack_shape_cache.h.
  // `charge` (may be null) is told what new buckets and shapes hold; what it refuses is
  // counted in totals only (buckets) or kept to one frame (shapes), and the snapshot says so.
  Aggregator(const Classifier* classifier, const Limits& limits,
             StackShapeCache* shapes = nullptr, MemoryCharge* charge = nullptr);
  // The pprof label keys that split series (the module's label_keys): past the label text a
  // snapshot keeps (Limits::max_snapshot_label_bytes), label sets keep only these.
  void KeepLabelKeys(std::vector<std::string> keys) { keep_label_keys_ = std::move(keys); }
  void OnRecord(RawRecord&& record) override;
  bool OnRecordView(const RecordView& record) override;
  // Builds the snapshot. `info` is the decoder's view of the same body.
  Snapshot Finalize(const DecodeInfo& info);

 private:
  // Goroutines with the same frames (by function name), state, creator and labels. Frames
  // are kept as interned ids until Finalize builds the snapshot's strings.
  struct Bucket {
    uint32_t frames_begin = 0;  // into frame_functions_ and frame_details_
    uint32_t frame_count = 0;
    bool frames_elided = false;
    std::string state;
    std::string created_by;
    std::string created_at;
    LabelSet labels;
    uint64_t hash = 0;
    int64_t count = 0;
    int64_t leaked = 0;
    int64_t locked = 0;
    WaitStats wait;
  };
  struct FrameDetail {
    uint32_t file = 0;  // in files_
    bool inlined = false;
    int64_t line = 0;
    int64_t start_line = 0;
  };
  // What a decoder's function key stands for, once seen.
  struct KeyTarget {
    uint32_t function = FunctionTable::kNone;
    uint32_t file = InternTable::kNone;
  };

  // The id of a function name, or kNone: through recent_names_, else the function table.
  uint32_t QuickFind(std::string_view name);
  uint64_t KeyHash(const RecordView& record) const;
  bool SameKey(const Bucket& b, const RecordView& record) const;
  Bucket* FindBucket(uint64_t hash, const RecordView& record);
  void AddBucket(const RecordView& record);
  void IndexBucket(uint32_t index);
  // The bucket's frames, names and first application frame: the cached shape when one
  // matches, else a new one (added to the cache). Past the snapshot's text budget
  // (shape_text_left_), a new shape holds only the first application frame (*brief is set).
  std::shared_ptr<const StackShape> ShapeOf(const Bucket& b, std::vector<uint32_t>* kept,
                                            bool* brief);
  bool SameShape(const Bucket& b, const StackShape& shape) const;
  // Every bucket's identity hash (normalize/stack_identity.h), by bucket index.
  std::vector<uint64_t> IdentityHashes(std::vector<uint32_t>* scratch) const;

  const Classifier* classifier_;
  Limits limits_;
  StackShapeCache* shapes_;
  MemoryCharge* charge_;
  std::vector<std::string> keep_label_keys_;
  FunctionTable functions_;
  InternTable files_;
  std::vector<KeyTarget> keys_;  // by the decoder's function key
  std::vector<Bucket> buckets_;
  std::vector<uint32_t> frame_functions_;  // every bucket's frames, by function id
  std::vector<FrameDetail> frame_details_;
  std::vector<uint32_t> slots_;  // bucket index by key hash, open addressing
  std::vector<uint32_t> ids_;    // scratch: the current record's function ids
  // Function ids of names seen recently, direct-mapped by a cheap hash of the name (QuickFind):
  // text dumps name the same few hundred functions over and over.
  static constexpr std::size_t kRecentNames = 1024;
  std::vector<uint32_t> recent_names_ = std::vector<uint32_t>(kRecentNames, FunctionTable::kNone);
  std::size_t last_bucket_ = SIZE_MAX;    // the bucket of the last record that found one
  std::vector<FrameView> frame_views_;  // scratch: RawRecord frames as views
  std::size_t shape_text_left_ = 0;  // Limits::max_shape_text_bytes, less what Finalize used
  std::size_t label_text_left_ = 0;  // Limits::max_label_text_bytes, less what buckets hold
  int64_t labels_dropped_ = 0;       // goroutines counted without labels past that
  int64_t self_excluded_ = 0;
  int64_t overflow_ = 0;     // goroutines past max_buckets or max_bucket_frames
  int64_t over_budget_ = 0;  // goroutines whose new bucket the memory charge refused
  int64_t shapes_over_budget_ = 0;
};

// Decodes and aggregates a whole body in one call.
Result<Snapshot> AnalyzeBody(std::string_view body, const Classifier& classifier,
                             const Limits& limits, const std::string& source,
                             StackShapeCache* shapes = nullptr, MemoryCharge* charge = nullptr);

}  // namespace gx
