// libFuzzer target: policy text in YAML (block and flow style) through the
// whole loader (read, collect, compile).
#include "policy_fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fnguard::fuzz::fuzz_policy_text(data, size, "fuzz.yaml");
}
