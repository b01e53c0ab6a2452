// libFuzzer target: policy text in JSON through the whole loader. Same entry
// point as the YAML target; its own corpus and dictionary steer it into the
// JSON paths (flow mappings, double-quoted escapes, tabs between tokens).
#include "policy_fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fnguard::fuzz::fuzz_policy_text(data, size, "fuzz.json");
}
