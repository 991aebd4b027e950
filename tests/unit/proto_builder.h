// Builds small pprof goroutine profiles in tests, the way the Go runtime lays them out.
#pragma once

#include <zlib.h>

#include <map>
#include <string>
#include <vector>

#include "profile.pb.h"

namespace gx::test {

class ProtoBuilder {
 public:
  explicit ProtoBuilder(const std::string& type = "goroutine") {
    Str("");
    auto* st = profile_.add_sample_type();
    st->set_type(Str(type));
    st->set_unit(Str("count"));
  }
  // frames: leaf first, as {function, line, start_line}.
  struct F {
    std::string function;
    int64_t line = 1;
    int64_t start_line = 0;
  };
  ProtoBuilder& Sample(int64_t count, const std::vector<F>& frames,
                       const std::map<std::string, std::string>& labels = {}) {
    auto* s = profile_.add_sample();
    s->add_value(count);
    for (const F& f : frames) {
      auto* fn = profile_.add_function();
      fn->set_id(profile_.function_size());
      fn->set_name(Str(f.function));
      fn->set_system_name(fn->name());
      fn->set_filename(Str("x.go"));
      fn->set_start_line(f.start_line);
      auto* loc = profile_.add_location();
      loc->set_id(profile_.location_size());
      auto* line = loc->add_line();
      line->set_function_id(fn->id());
      line->set_line(f.line);
      s->add_location_id(loc->id());
    }
    for (const auto& [k, v] : labels) {
      auto* l = s->add_label();
      l->set_key(Str(k));
      l->set_str(Str(v));
    }
    return *this;
  }
  // For shapes Sample cannot make (locations without lines, odd values).
  perftools::profiles::Profile& profile() { return profile_; }
  std::string Serialize() const { return profile_.SerializeAsString(); }
  std::string Gzipped() const { return Gzip(Serialize()); }

  static std::string Gzip(const std::string& data) {
    z_stream zs{};
    deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&zs, data.size()) + 64, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs.avail_in = data.size();
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = out.size();
    deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
  }

 private:
  int64_t Str(const std::string& s) {
    auto it = strings_.find(s);
    if (it != strings_.end()) return it->second;
    profile_.add_string_table(s);
    int64_t index = profile_.string_table_size() - 1;
    strings_[s] = index;
    return index;
  }
  perftools::profiles::Profile profile_;
  std::map<std::string, int64_t> strings_;
};

}  // namespace gx::test
