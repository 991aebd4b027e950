// A bounds-checked reader of the protobuf wire format over one in-memory buffer: varints,
// fixed-size values, length-delimited payloads and unknown fields (groups included). Every
// length read from the input is checked against the bytes that are really there, and a
// failed read leaves the reader failed: callers test ok() once instead of after every call.
// It accepts exactly what libprotobuf's parser accepts for the same bytes (tag and size
// encodings, 10-byte varints, group nesting), so replacing libprotobuf with it changes no
// verdict on any body. Not thread-safe; cheap to copy (a view and a position).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace gx {

enum class WireType : uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

class ProtoReader {
 public:
  // `depth_budget` is how many more messages and groups may nest inside this one
  // (libprotobuf's recursion limit).
  explicit ProtoReader(std::string_view data, int depth_budget)
      : p_(reinterpret_cast<const uint8_t*>(data.data())), end_(p_ + data.size()),
        depth_budget_(depth_budget) {}

  bool ok() const { return ok_; }
  bool done() const { return p_ == end_ || !ok_; }
  int depth_budget() const { return depth_budget_; }
  // The bytes not read yet.
  std::string_view remaining() const {
    return std::string_view(reinterpret_cast<const char*>(p_), end_ - p_);
  }

  // Reads the next tag. False at the end of the data or on an invalid tag (then ok() is
  // false too): tag 0, field number 0, an end-group outside a group, wire types 6 and 7.
  bool NextField(uint32_t* field, WireType* type) {
    if (p_ == end_) return false;
    uint32_t tag;
    if (*p_ < 0x80) {
      tag = *p_++;
    } else if (!ReadTag(&tag)) {
      return Fail();
    }
    uint32_t wire = tag & 7;
    *field = tag >> 3;
    if (*field == 0 || wire > 5 || wire == static_cast<uint32_t>(WireType::kEndGroup)) {
      return Fail();
    }
    *type = static_cast<WireType>(wire);
    return true;
  }

  uint64_t ReadVarint() {
    // Most values (ids, indexes, counts below 128) are one byte.
    if (p_ != end_ && *p_ < 0x80) return *p_++;
    return ReadVarintSlow();
  }

  // A length-delimited payload: the size is at most 5 bytes and below 2 GiB (libprotobuf's
  // ReadSize), and must fit in what is left.
  std::string_view ReadBytes() {
    uint32_t size;
    if (p_ != end_ && *p_ < 0x80) {
      size = *p_++;
    } else if (!ReadSize(&size)) {
      return Fail(), std::string_view();
    }
    if (size > static_cast<std::size_t>(end_ - p_)) return Fail(), std::string_view();
    std::string_view out(reinterpret_cast<const char*>(p_), size);
    p_ += size;
    return out;
  }

  // A nested message: its payload, with one less level of nesting allowed.
  ProtoReader ReadMessage() {
    std::string_view payload = ReadBytes();
    ProtoReader sub(payload, depth_budget_ - 1);
    if (!ok_ || depth_budget_ <= 0) {
      Fail();
      sub.Fail();
    }
    return sub;
  }

  // Calls add(value) for a packed run of varints (wire type 2) or a single one (wire type 0).
  // A packed run must consist of whole varints.
  template <typename Add>
  void ReadRepeatedVarint(WireType type, Add&& add) {
    if (type == WireType::kVarint) {
      uint64_t v = ReadVarint();
      if (ok_) add(v);
      return;
    }
    ProtoReader packed(ReadBytes(), depth_budget_);
    if (!ok_) return;
    while (!packed.done()) {
      uint64_t v = packed.ReadVarint();
      if (!packed.ok()) {
        Fail();
        return;
      }
      add(v);
    }
  }

  // Skips a field this reader does not interpret.
  void Skip(uint32_t field, WireType type) {
    switch (type) {
      case WireType::kVarint: ReadVarint(); return;
      case WireType::kFixed64: Advance(8); return;
      case WireType::kFixed32: Advance(4); return;
      case WireType::kLengthDelimited: ReadBytes(); return;
      case WireType::kStartGroup: SkipGroup(field); return;
      case WireType::kEndGroup: Fail(); return;
    }
  }

  // A failed reader stays at its end, so every later read fails without extra checks.
  bool Fail() {
    ok_ = false;
    p_ = end_;
    return false;
  }

 private:
  // Up to 10 bytes; bits beyond 64 are dropped, as libprotobuf does.
  uint64_t ReadVarintSlow() {
    uint64_t v = 0;
    if (end_ - p_ >= 10) {
      for (int i = 0; i < 10; ++i) {
        uint8_t b = *p_++;
        v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
        if (b < 0x80) return v;
      }
      return Fail(), 0;
    }
    for (int i = 0; i < 10; ++i) {
      if (p_ == end_) return Fail(), 0;
      uint8_t b = *p_++;
      v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if (b < 0x80) return v;
    }
    return Fail(), 0;
  }

  // libprotobuf reads a tag as a varint of at most 5 bytes, truncated to 32 bits.
  bool ReadTag(uint32_t* tag) {
    uint32_t v = 0;
    for (int i = 0; i < 5; ++i) {
      if (p_ == end_) return false;
      uint8_t b = *p_++;
      v |= static_cast<uint32_t>(b & 0x7f) << (7 * i);
      if (b < 0x80) {
        *tag = v;
        return true;
      }
    }
    return false;
  }

  bool ReadSize(uint32_t* size) {
    uint32_t v = 0;
    for (int i = 0; i < 5; ++i) {
      if (p_ == end_) return false;
      uint8_t b = *p_++;
      if (i == 4 && b >= 8) return false;  // 2 GiB or more
      v |= static_cast<uint32_t>(b & 0x7f) << (7 * i);
      if (b < 0x80) {
        // libprotobuf keeps 16 bytes of headroom below INT32_MAX.
        if (v > INT32_MAX - 16) return false;
        *size = v;
        return true;
      }
    }
    return false;
  }

  void Advance(std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n) {
      Fail();
      return;
    }
    p_ += n;
  }

  // A group runs until the end-group tag of the same field; groups nest, each level using
  // one unit of the depth budget. Iterative, so hostile nesting cannot exhaust the stack.
  void SkipGroup(uint32_t field) {
    std::vector<uint32_t> open;  // field numbers of the groups still open, innermost last
    open.push_back(field);
    if (depth_budget_ - 1 < 0) {
      Fail();
      return;
    }
    while (!open.empty()) {
      uint32_t tag;
      if (p_ == end_ || !ReadTag(&tag)) {
        Fail();
        return;
      }
      uint32_t number = tag >> 3;
      uint32_t wire = tag & 7;
      if (tag == 0 || wire > 5) {
        Fail();
        return;
      }
      if (wire == static_cast<uint32_t>(WireType::kEndGroup)) {
        if (number != open.back()) {
          Fail();
          return;
        }
        open.pop_back();
        continue;
      }
      if (number == 0) {
        Fail();
        return;
      }
      if (wire == static_cast<uint32_t>(WireType::kStartGroup)) {
        if (depth_budget_ - static_cast<int>(open.size() + 1) < 0) {
          Fail();
          return;
        }
        open.push_back(number);
        continue;
      }
      Skip(number, static_cast<WireType>(wire));
    }
  }

  const uint8_t* p_;
  const uint8_t* end_;
  int depth_budget_;
  bool ok_ = true;
};

}  // namespace gx
