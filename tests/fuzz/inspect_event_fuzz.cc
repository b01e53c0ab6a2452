// Fuzzes event decoding and the whole inspection of one event: any bytes must
// give a value or an error, never a crash, a hang or an unbounded result, and
// the taints must always fit the context page.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "fnguard/inspect/inspect.h"

using namespace fnguard;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  inspect::InspectOptions options;
  options.limits.max_fields = 512;
  Result<inspect::InspectionResult> r = inspect::inspect_event(input, options);
  if (!r.ok()) {
    if (r.error().message.empty()) std::abort();  // every error says what is wrong
    return 0;
  }
  if (r->findings.size() > options.max_findings) std::abort();
  if (r->fields > options.limits.max_fields) std::abort();
  for (const inspect::Finding& f : r->findings)
    if (f.field.empty() || f.evidence.size() > inspect::kMaxEvidence) std::abort();
  static auto page = std::make_unique<image::ContextPage>();
  size_t n = inspect::fill_context_taints(r->taints, *page);
  if (n > image::kMaxTaints || n != page->taint_count) std::abort();
  for (size_t i = 0; i < n; ++i) {
    const image::TaintValue& t = page->taints[i];
    if (t.value_offset + t.value_length > sizeof page->taint_data) std::abort();
  }
  if (r->http) (void)inspect::blocked_response(r->shape, "fuzz");
  return 0;
}
