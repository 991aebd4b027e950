#include <doctest/doctest.h>

#include <random>

#include "normalize/stack_identity.h"

namespace gx {

TEST_CASE("identity hashes: four lanes at once equal one stack at a time") {
  std::mt19937 rng(2);
  for (std::size_t count : {0, 1, 3, 4, 5, 9, 64, 257}) {
    std::vector<std::string> texts(count);
    for (std::string& t : texts) {
      for (int n = rng() % 6; n > 0; --n) {
        t += "pkg.f" + std::to_string(rng() % 1000) + std::string(rng() % 40, 'x');
        t += '\n';
      }
    }
    std::vector<std::string_view> views(texts.begin(), texts.end());
    std::vector<uint64_t> got(count);
    IdentityHashes(views.data(), count, got.data());
    for (std::size_t i = 0; i < count; ++i) {
      uint64_t want = kIdentityHashSeed;
      std::string_view rest = texts[i];
      while (!rest.empty()) {
        std::size_t nl = rest.find('\n');
        want = IdentityHashAppend(want, rest.substr(0, nl));
        rest.remove_prefix(nl + 1);
      }
      CAPTURE(count);
      CAPTURE(i);
      CHECK(got[i] == want);
    }
  }
}

}  // namespace gx
