#include "decode/profile_decoder.h"

#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "decode/debug1_parser.h"
#include "decode/debug2_parser.h"
#include "decode/pprof_decoder.h"
#include "decode/text_util.h"

namespace gx {
namespace {

// A quote of s for terminals and logs: cut to max bytes, anything but printable ASCII as '?'.
std::string PrintableQuote(std::string_view s, std::size_t max) {
  std::string quoted = Bounded(s.substr(0, max), max);
  for (char& c : quoted) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  return quoted;
}

// One libdeflate decompressor per thread (it holds about 10 KB of tables, and is not
// thread-safe); freed when the thread ends.
libdeflate_decompressor* ThreadDecompressor() {
  struct Holder {
    libdeflate_decompressor* d = libdeflate_alloc_decompressor();
    ~Holder() {
      if (d) libdeflate_free_decompressor(d);
    }
  };
  thread_local Holder holder;
  return holder.d;
}

// The gzip trailer's ISIZE: the uncompressed size mod 2^32 of the last member.
std::size_t TrailerSize(std::string_view body) {
  const auto* tail = reinterpret_cast<const unsigned char*>(body.data() + body.size() - 4);
  return tail[0] | (tail[1] << 8) | (tail[2] << 16) | (static_cast<std::size_t>(tail[3]) << 24);
}

}  // namespace

const char* FormatName(ProfileFormat format) {
  switch (format) {
    case ProfileFormat::kProto: return "debug=0";
    case ProfileFormat::kDebug1: return "debug=1";
    case ProfileFormat::kDebug2: return "debug=2";
    case ProfileFormat::kUnknown: break;
  }
  return "unknown";
}

const char* KindName(ProfileKind kind) {
  return kind == ProfileKind::kGoroutineLeak ? "goroutineleak" : "goroutine";
}

// Holds the gzip stream and whichever format parser the content selected.
class ProfileDecoder::Impl {
 public:
  ~Impl() {
    if (inflating) inflateEnd(&zs);
  }
  bool sniffed_gzip = false;
  bool buffering = false;  // gzip body kept whole so far, for InflateWhole
  bool inflating = false;  // zlib stream started
  bool stream_ended = false;
  // After a member ended: the first bytes that follow, until two tell whether another member
  // starts (its magic can be split over two chunks), then the count of ignored bytes.
  std::string after_end;
  std::size_t ignored_after_end = 0;
  z_stream zs{};
  std::string compressed;  // the gzip body while buffering
  std::string head;   // bytes kept until the format is known
  std::string proto;  // whole decompressed protobuf (its string table comes last)
  // The gzip trailer's size of the uncompressed data, read from the first chunk: when the
  // body arrives whole, the protobuf buffer is allocated once at its final size.
  std::size_t proto_size_hint = 0;
  std::optional<Debug1Parser> debug1;
  std::optional<Debug2Parser> debug2;
};

ProfileDecoder::ProfileDecoder(RecordSink* sink, const Limits& limits, MemoryCharge* charge)
    : sink_(sink), limits_(limits), charge_(charge), impl_(std::make_unique<Impl>()) {}

bool ProfileDecoder::ChargeProto(std::size_t capacity) {
  if (!charge_ || capacity <= proto_charged_) return true;
  if (!charge_->Add(capacity - proto_charged_)) return false;
  proto_charged_ = capacity;
  return true;
}

ProfileDecoder::~ProfileDecoder() = default;

Status ProfileDecoder::Feed(std::string_view chunk) {
  if (!error_.ok()) return error_;
  info_.input_bytes += chunk.size();
  Impl& s = *impl_;
  if (!s.sniffed_gzip) {
    // Need two bytes to recognise the gzip magic; keep a lone first byte in head.
    s.head.append(chunk);
    if (s.head.size() < 2) return Status::Ok();
    s.sniffed_gzip = true;
    std::string first = std::move(s.head);
    s.head.clear();
    if (static_cast<unsigned char>(first[0]) == 0x1f &&
        static_cast<unsigned char>(first[1]) == 0x8b) {
      info_.compressed = true;
      s.buffering = true;
    }
    info_.input_bytes -= first.size();  // counted again by the call below
    return Feed(first);
  }
  if (!info_.compressed) return error_ = FeedDecoded(chunk);
  if (s.buffering) {
    const std::size_t whole_limit = std::min(kWholeGzipBytes, limits_.max_compressed_bytes);
    if (s.compressed.size() + chunk.size() <= whole_limit) {
      s.compressed.append(chunk);
      return Status::Ok();
    }
    // Too big to inflate in one go: stream from here on.
    s.buffering = false;
    std::string buffered = std::move(s.compressed);
    s.compressed.clear();
    Status st = StartInflate(buffered.empty() ? chunk : buffered);
    if (st.ok() && !buffered.empty()) st = Inflate(buffered);
    if (!st.ok()) return error_ = st;
  }
  return error_ = Inflate(chunk);
}

Status ProfileDecoder::StartInflate(std::string_view first) {
  Impl& s = *impl_;
  if (inflateInit2(&s.zs, 16 + MAX_WBITS) != Z_OK) {
    return Status::Error("zlib initialisation failed");
  }
  s.inflating = true;
  if (first.size() >= 18) {  // the smallest gzip member: header and trailer
    std::size_t isize = TrailerSize(first);
    // A cut or streamed body ends elsewhere and its "trailer" is noise: never trust it
    // beyond what deflate can expand these bytes to (1032:1), nor beyond the cap.
    if (isize <= first.size() * 1032 && isize <= limits_.max_proto_bytes) {
      s.proto_size_hint = isize;
    }
  }
  return Status::Ok();
}

// Inflates a whole single-member gzip body in one call. False (nothing consumed) when
// libdeflate cannot: several members, a cut or lying trailer, corrupt data, an output beyond
// the caps. The streaming path then reads the same bytes and reports what is wrong exactly as
// it always did.
bool ProfileDecoder::InflateWhole() {
  Impl& s = *impl_;
  const std::string_view body = s.compressed;
  if (body.size() < 18) return false;
  const std::size_t isize = TrailerSize(body);
  if (isize == 0 || isize > body.size() * kWholeGzipMaxRatio || isize > limits_.max_proto_bytes) {
    return false;
  }
  libdeflate_decompressor* d = ThreadDecompressor();
  if (!d) return false;
  if (!ChargeProto(isize)) {
    error_ = Status::Error(charge_->RefusalReason());
    return true;
  }
  std::string out(isize, '\0');
  std::size_t in_used = 0, out_used = 0;
  if (libdeflate_gzip_decompress_ex(d, body.data(), body.size(), out.data(), out.size(),
                                    &in_used, &out_used) != LIBDEFLATE_SUCCESS ||
      in_used != body.size() || out_used != isize) {
    return false;
  }
  s.stream_ended = true;
  std::string().swap(s.compressed);
  // The format is detected on a first piece, as the streaming path would; a protobuf then
  // takes the whole buffer instead of copying it.
  const std::size_t first = std::min<std::size_t>(out.size(), 64 * 1024);
  Status st = FeedDecoded(std::string_view(out).substr(0, first));
  if (st.ok() && info_.format == ProfileFormat::kProto && s.proto.size() == first) {
    info_.decoded_bytes += out.size() - first;
    s.proto.swap(out);
  } else if (st.ok()) {
    st = FeedDecoded(std::string_view(out).substr(first));
  }
  if (!st.ok()) error_ = st;
  return true;
}

Status ProfileDecoder::Inflate(std::string_view chunk) {
  Impl& s = *impl_;
  if (info_.input_bytes > limits_.max_compressed_bytes && info_.format != ProfileFormat::kDebug2 &&
      info_.format != ProfileFormat::kDebug1) {
    return Status::Error("compressed body exceeds " +
                         std::to_string(limits_.max_compressed_bytes) + " bytes");
  }
  while (!chunk.empty()) {
    if (!s.stream_ended) {
      Status st = InflateMember(&chunk);
      if (!st.ok()) return st;
      if (!s.stream_ended) break;  // the chunk is used up (or zlib takes no more of it)
      continue;
    }
    // Concatenated gzip members are legal; anything else after the end is ignored, counted.
    if (s.ignored_after_end > 0) {
      s.ignored_after_end += chunk.size();
      break;
    }
    while (!chunk.empty() && s.after_end.size() < 2) {
      s.after_end.push_back(chunk.front());
      chunk.remove_prefix(1);
    }
    if (s.after_end.size() < 2) break;
    if (s.after_end != "\x1f\x8b" || inflateReset(&s.zs) != Z_OK) {
      s.ignored_after_end = s.after_end.size() + chunk.size();
      s.after_end.clear();
      break;
    }
    s.stream_ended = false;
    std::string_view magic = s.after_end;
    Status st = InflateMember(&magic);
    s.after_end.clear();
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

// Inflates from *input until it is used up or the gzip member ends (stream_ended); *input is
// left with what follows the member.
Status ProfileDecoder::InflateMember(std::string_view* input) {
  Impl& s = *impl_;
  // Output goes out in steps of kStep bytes. Once the body is known to be a protobuf, each
  // step inflates straight into the protobuf buffer instead of being copied there; the steps
  // stay the same, so caps trip at the same byte counts.
  constexpr std::size_t kStep = 64 * 1024;
  char out[kStep];
  s.zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input->data()));
  s.zs.avail_in = static_cast<uInt>(input->size());
  // Leaves *input with what zlib did not take, however the loop ends.
  struct Unread {
    std::string_view* input;
    const z_stream& zs;
    ~Unread() { *input = input->substr(input->size() - zs.avail_in); }
  } unread{input, s.zs};
  while (s.zs.avail_in > 0) {
    const bool direct = info_.format == ProfileFormat::kProto;
    std::size_t used = s.proto.size();
    char* target = out;
    if (direct) {
      if (s.proto.capacity() < used + kStep) {
        const std::size_t capacity = std::max(
            used + kStep, std::min(2 * s.proto.capacity(), limits_.max_proto_bytes + kStep));
        if (!ChargeProto(capacity)) return error_ = Status::Error(charge_->RefusalReason());
        s.proto.reserve(capacity);
      }
      s.proto.resize(used + kStep);
      target = s.proto.data() + used;
    }
    s.zs.next_out = reinterpret_cast<Bytef*>(target);
    s.zs.avail_out = kStep;
    // Z_FINISH behaves like Z_NO_FLUSH except that a stream ending within this call needs
    // no sliding window (a 32 KiB allocation and a copy of the output): the common case of
    // a small body arriving whole. Unfinished, it returns Z_BUF_ERROR instead of Z_OK.
    int rc = inflate(&s.zs, Z_FINISH);
    std::size_t produced = kStep - s.zs.avail_out;
    if (direct) {
      s.proto.resize(used + produced);
      info_.decoded_bytes += produced;
      if (s.proto.size() > limits_.max_proto_bytes) {
        return error_ = ProtoTooLarge();
      }
    } else if (produced > 0) {
      Status st = FeedDecoded(std::string_view(out, produced));
      if (!st.ok()) return error_ = st;
    }
    if (rc == Z_STREAM_END) {
      s.stream_ended = true;
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return error_ = Status::Error(std::string("gzip: ") + (s.zs.msg ? s.zs.msg : "corrupt data"));
    }
    if (rc == Z_BUF_ERROR && produced == 0) break;
  }
  return Status::Ok();
}

Status ProfileDecoder::FeedDecoded(std::string_view chunk) {
  Impl& s = *impl_;
  info_.decoded_bytes += chunk.size();
  if (info_.format == ProfileFormat::kUnknown) {
    s.head.append(chunk);
    Status st = Detect(false);
    if (!st.ok() || info_.format == ProfileFormat::kUnknown) return st;
    chunk = std::string_view();
    std::string head = std::move(s.head);
    s.head.clear();
    info_.decoded_bytes -= head.size();
    return FeedDecoded(head);
  }
  switch (info_.format) {
    case ProfileFormat::kProto:
      if (s.proto.size() + chunk.size() > limits_.max_proto_bytes) return ProtoTooLarge();
      if (s.proto.empty() && s.proto_size_hint > chunk.size()) {
        const std::size_t capacity = s.proto_size_hint + 64 * 1024;  // and the last step
        if (!ChargeProto(capacity)) return Status::Error(charge_->RefusalReason());
        s.proto.reserve(capacity);
      }
      if (s.proto.size() + chunk.size() > s.proto.capacity()) {
        // What std::string grows to: at least double.
        const std::size_t capacity = std::max(s.proto.size() + chunk.size(), 2 * s.proto.capacity());
        if (!ChargeProto(capacity)) return Status::Error(charge_->RefusalReason());
        s.proto.reserve(capacity);
      }
      s.proto.append(chunk);
      break;
    case ProfileFormat::kDebug1:
    case ProfileFormat::kDebug2:
      if (info_.decoded_bytes > limits_.max_text_bytes) {
        info_.truncated = true;
        return Status::Error("text profile exceeds " + std::to_string(limits_.max_text_bytes) +
                             " bytes");
      }
      if (s.debug1) s.debug1->Feed(chunk);
      if (s.debug2) s.debug2->Feed(chunk);
      break;
    case ProfileFormat::kUnknown:
      break;
  }
  return Status::Ok();
}

Status ProfileDecoder::ProtoTooLarge() const {
  return Status::Error("decompressed protobuf exceeds " +
                       std::to_string(limits_.max_proto_bytes) + " bytes");
}

Status ProfileDecoder::Detect(bool at_end) {
  Impl& s = *impl_;
  std::string_view head = s.head;
  std::size_t nl = head.find('\n');
  if (nl == std::string_view::npos && !at_end && head.size() < limits_.max_line_bytes) {
    // Text formats are recognised from their first line; wait for it unless the bytes are
    // clearly binary.
    bool printable = true;
    for (char c : head.substr(0, 64)) {
      if (static_cast<unsigned char>(c) < 0x09) printable = false;
    }
    if (printable) return Status::Ok();
  }
  std::string_view first = head.substr(0, nl);
  RawRecord probe;
  if (StartsWith(first, "goroutine ") && ParseGoroutineHeader(first, limits_, &probe)) {
    info_.format = ProfileFormat::kDebug2;
    s.debug2.emplace(sink_, &info_, limits_);
  } else if (const std::size_t at = first.find(" profile: total ");
             at != std::string_view::npos) {
    // Every pprof profile has this text form: only the goroutine ones are ours.
    const std::string_view name = first.substr(0, at);
    if (name != "goroutine" && name != "goroutineleak") {
      return Status::Error("debug=1 profile of type '" + PrintableQuote(name, 64) +
                           "', not a goroutine profile");
    }
    info_.format = ProfileFormat::kDebug1;
    s.debug1.emplace(sink_, &info_, limits_);
  } else if (!head.empty() && head[0] == 0x0a) {
    // Field 1 (sample_type), wire type 2: how every Go-written profile starts... but the
    // runtime writes period_type first (field 11 = 0x5a), so accept both below.
    info_.format = ProfileFormat::kProto;
  } else if (!head.empty() && (static_cast<unsigned char>(head[0]) == 0x5a ||
                               static_cast<unsigned char>(head[0]) == 0x12 ||
                               static_cast<unsigned char>(head[0]) == 0x22)) {
    info_.format = ProfileFormat::kProto;
  } else if (head.empty()) {
    return Status::Ok();
  } else {
    return Status::Error("not a goroutine profile: first line is '" +
                         PrintableQuote(first, 80) + "'");
  }
  return Status::Ok();
}

Status ProfileDecoder::Finish() {
  if (!error_.ok()) return error_;
  Impl& s = *impl_;
  if (!s.sniffed_gzip && !s.head.empty()) {
    // A single-byte body.
    s.sniffed_gzip = true;
    std::string head = std::move(s.head);
    s.head.clear();
    info_.input_bytes -= head.size();
    Status st = Feed(head);
    if (!st.ok()) return st;
  }
  if (s.buffering) {
    s.buffering = false;
    if (InflateWhole()) {
      if (!error_.ok()) return error_;
    } else {
      std::string buffered = std::move(s.compressed);
      s.compressed.clear();
      Status st = StartInflate(buffered);
      if (st.ok()) st = Inflate(buffered);
      if (!st.ok()) return error_ = st;
    }
  }
  if (s.inflating && s.zs.total_in > 0 && info_.decoded_bytes == 0) {
    return error_ = Status::Error("gzip stream produced no data");
  }
  if (info_.format == ProfileFormat::kUnknown) {
    if (s.head.empty()) return error_ = Status::Error("empty body");
    Status st = Detect(true);
    if (!st.ok()) return error_ = st;
    std::string head = std::move(s.head);
    s.head.clear();
    info_.decoded_bytes -= head.size();
    st = FeedDecoded(head);
    if (!st.ok()) return error_ = st;
  }
  if (s.ignored_after_end > 0 || !s.after_end.empty()) {
    info_.warnings.push_back("gzip: " + std::to_string(s.ignored_after_end + s.after_end.size()) +
                             " bytes after the end of the compressed data ignored");
  }
  if (s.inflating && !s.stream_ended) {
    // A gzip stream without its end marker means the body was cut.
    info_.truncated = true;
    info_.warnings.push_back("gzip stream ends early: body was cut");
  }
  switch (info_.format) {
    case ProfileFormat::kProto: {
      if (info_.truncated) {
        return error_ = Status::Error("protobuf body was cut before its end");
      }
      Status st = DecodePprofProto(s.proto, limits_, sink_, &info_, charge_);
      std::string().swap(s.proto);
      if (charge_) charge_->Release(proto_charged_);
      proto_charged_ = 0;
      if (!st.ok()) return error_ = st;
      break;
    }
    case ProfileFormat::kDebug1:
      s.debug1->Finish();
      break;
    case ProfileFormat::kDebug2:
      s.debug2->Finish();
      // debug=2 has no total line; the record count is the total (a lower bound if cut).
      info_.stated_total = info_.records;
      break;
    case ProfileFormat::kUnknown:
      break;
  }
  if (info_.labels_cut_records > 0) {
    info_.warnings.push_back(std::to_string(info_.labels_cut_records) +
                             " records carried more than " +
                             std::to_string(limits_.max_labels_per_goroutine) +
                             " pprof labels; the labels past that many were dropped");
  }
  // A goroutineleak profile of a healthy target is legitimately empty ("total 0"). A goroutine
  // profile never is: it always holds the goroutine that served the request.
  const bool empty_leak_profile = info_.kind == ProfileKind::kGoroutineLeak &&
                                  info_.unknown_lines == 0 && info_.stated_total == 0 &&
                                  info_.format != ProfileFormat::kDebug2;
  if (info_.records == 0 && !empty_leak_profile) {
    return error_ = Status::Error(std::string("no goroutine records found in ") +
                                  FormatName(info_.format) + " body (" +
                                  std::to_string(info_.unknown_lines) + " lines not understood)");
  }
  return Status::Ok();
}

Result<DecodeInfo> DecodeProfile(std::string_view body, RecordSink* sink, const Limits& limits,
                                 MemoryCharge* charge) {
  ProfileDecoder decoder(sink, limits, charge);
  Status st = decoder.Feed(body);
  if (st.ok()) st = decoder.Finish();
  if (!st.ok()) return st;
  return decoder.info();
}

}  // namespace gx
