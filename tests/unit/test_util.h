// Helpers shared by the unit tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "aggregate/aggregator.h"
#include "classify/classifier.h"
#include "decode/raw_record.h"

namespace gx::test {

// Keeps every record it is given.
class CollectingSink : public RecordSink {
 public:
  void OnRecord(RawRecord&& r) override { records.push_back(std::move(r)); }
  std::vector<RawRecord> records;
};

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The shared corpus: $GX_CORPUS_DIR, else ../shared/corpus next to the checkout.
inline std::filesystem::path CorpusDir() {
  if (const char* env = std::getenv("GX_CORPUS_DIR")) return env;
  return GX_CORPUS_DIR;
}

inline std::filesystem::path SourceDir() { return GX_SOURCE_DIR; }

// `body` (any format) decoded and aggregated with `classifier`, the built-in rules unless
// given; the test stops if it cannot be.
inline Snapshot Analyzed(std::string_view body, const Classifier& classifier = Classifier()) {
  auto snapshot = AnalyzeBody(body, classifier, Limits(), "t");
  REQUIRE(snapshot.ok());
  return std::move(snapshot.value());
}

// Some note (of a snapshot or a diff) contains `text`.
inline bool HasNote(const std::vector<std::string>& notes, std::string_view text) {
  for (const std::string& n : notes) {
    if (n.find(text) != std::string::npos) return true;
  }
  return false;
}

inline std::vector<RawFrame> Frames(std::initializer_list<const char*> functions) {
  std::vector<RawFrame> frames;
  for (const char* f : functions) {
    RawFrame frame;
    frame.function = f;
    frames.push_back(frame);
  }
  return frames;
}

}  // namespace gx::test
