#include "decode/record_emitter.h"

namespace gx {
namespace {

void Assign(std::string* out, std::string_view s) { out->assign(s.data(), s.size()); }

}  // namespace

void RecordEmitter::Emit(const RecordView& v) {
  if (sink_->OnRecordView(v)) return;
  RawRecord& r = record_;
  // Every field is set: the sink may have moved the previous record away.
  std::vector<RawFrame>& frames = r.frames;
  while (frames.size() > v.frames.size()) {
    spare_.push_back(std::move(frames.back()));
    frames.pop_back();
  }
  if (frames.capacity() < v.frames.size()) frames.reserve(v.frames.size());
  while (frames.size() < v.frames.size()) {
    if (spare_.empty()) {
      frames.emplace_back();
    } else {
      frames.push_back(std::move(spare_.back()));
      spare_.pop_back();
    }
  }
  for (std::size_t i = 0; i < v.frames.size(); ++i) {
    const FrameView& from = v.frames[i];
    RawFrame& to = frames[i];
    Assign(&to.function, from.function);
    Assign(&to.file, from.file);
    to.line = from.line;
    to.start_line = from.start_line;
    to.inlined = from.inlined;
  }
  r.count = v.count;
  if (v.labels) {
    r.labels = *v.labels;
  } else {
    r.labels.clear();
  }
  Assign(&r.state, v.state);
  r.wait_minutes = v.wait_minutes;
  r.leaked = v.leaked;
  r.locked_to_thread = v.locked_to_thread;
  r.frames_elided = v.frames_elided;
  Assign(&r.created_by, v.created_by);
  Assign(&r.created_at, v.created_at);
  r.goroutine_id = v.goroutine_id;
  r.creator_goroutine_id = v.creator_goroutine_id;
  sink_->OnRecord(std::move(r));
}

}  // namespace gx
