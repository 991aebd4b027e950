// libFuzzer target (scripts/fuzz.sh config): any bytes as the exporter's config file and as a
// rules document (goroutine_triage --rules). Both must answer with a config or an error that
// names the problem; never crash, hang or throw.
#include <cstdint>
#include <string>

#include "classify/rules.h"
#include "config/exporter_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = gx::ParseConfig(text, "fuzz.yml");
  auto rules = gx::ParseRulesDocument(text, "rules.yml");
  static volatile bool sink;
  sink = config.ok() || rules.ok();
  return 0;
}
