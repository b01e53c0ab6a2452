// Fuzzes the detectors on single values, differentially: the prefilter may
// only skip work, so scanning with and without it must find the same
// detectors and rules. A difference is a detection the prefilter loses.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "fnguard/inspect/detectors.h"

using namespace fnguard::inspect;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view value(reinterpret_cast<const char*>(data), size);
  std::vector<Match> fast, slow;
  ScanOptions with;
  ScanOptions without;
  without.prefilter = false;
  scan_value(value, with, fast);
  scan_value(value, without, slow);
  if (fast.size() != slow.size()) std::abort();
  for (size_t i = 0; i < fast.size(); ++i) {
    if (fast[i].detector != slow[i].detector || std::strcmp(fast[i].rule, slow[i].rule) != 0)
      std::abort();
    if (fast[i].evidence.size() > kMaxEvidence) std::abort();
  }
  return 0;
}
