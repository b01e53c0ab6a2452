// The proxy's inspector over fnguard/inspect (see inspect_glue.h).
#include "fnguard/lambda/inspect_glue.h"

#include <string>

#include "fnguard/inspect/inspect.h"

namespace fnguard::lambda {

Result<InspectFn> make_inspector(const InspectSettings& settings) {
  inspect::InspectOptions options;
  if (!settings.detectors_json.empty()) {
    // ["path_traversal","ssrf"]: the names between quotes.
    options.detectors = 0;
    const std::string& s = settings.detectors_json;
    size_t pos = 0;
    while ((pos = s.find('"', pos)) != std::string::npos) {
      size_t end = s.find('"', pos + 1);
      if (end == std::string::npos) break;
      auto d = inspect::parse_detector(std::string_view(s).substr(pos + 1, end - pos - 1));
      if (!d.ok()) return d.error();
      options.detectors |= inspect::detector_bit(*d);
      pos = end + 1;
    }
  }
  return InspectFn([options](std::string_view event) {
    InspectOutcome out;
    auto r = inspect::inspect_event(event, options);
    if (!r.ok()) return out;  // not decodable: nothing scanned, the event goes on
    out.http_shaped = r->http;
    for (const inspect::Finding& f : r->findings) {
      out.findings.push_back(
          Finding{inspect::detector_name(f.detector), f.field, f.evidence, f.rule ? f.rule : ""});
    }
    for (const inspect::Taint& t : r->taints) out.taints.push_back(Taint{t.field, t.value});
    if (r->http) {
      inspect::EventShape shape = r->shape;
      out.blocked_response = [shape](std::string_view request_id) {
        return inspect::blocked_response(shape, request_id);
      };
    }
    return out;
  });
}

}  // namespace fnguard::lambda
