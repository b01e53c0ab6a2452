// The proxy's inspector over fnguard/inspect (see inspect_glue.h).
// Taints are handed over as views: the outcome keeps the InspectionResult
// alive (one shared allocation), so no taint value is copied until the proxy
// writes it into the context page.
#include "fnguard/lambda/inspect_glue.h"

#include <memory>
#include <string>

#include "fnguard/inspect/inspect.h"

namespace fnguard::lambda {
namespace {

void add_findings(const inspect::InspectionResult& r, InspectOutcome& out) {
  out.findings.reserve(r.findings.size());
  for (const inspect::Finding& f : r.findings) {
    out.findings.push_back(
        Finding{inspect::detector_name(f.detector), f.field, f.evidence, f.rule ? f.rule : ""});
  }
}

// The outcome's taints view the result, which the outcome then owns.
void set_taints(std::shared_ptr<inspect::InspectionResult> result, InspectOutcome& out) {
  out.taints.clear();
  out.taints.reserve(result->taints.size());
  for (const inspect::Taint& t : result->taints) out.taints.push_back(Taint{t.field, t.value});
  out.storage = std::move(result);
}

void set_shape(inspect::EventShape shape, bool http, InspectOutcome& out) {
  out.http_shaped = http;
  if (http) {
    out.blocked_response = [shape](std::string_view request_id) {
      return inspect::blocked_response(shape, request_id);
    };
  }
}

// An event the decoder refuses (larger, deeper or with more values than its
// limits, or not JSON) was not scanned, so it is a finding of its own: block
// mode refuses it and monitor mode reports it. Passing it on unseen would let
// an attacker switch inspection off by padding a request, e.g. with a JSON
// body nested 100 levels deep next to `?file=/etc/passwd`.
constexpr size_t kMaxReason = 200;

void add_undecodable(const Error& why, inspect::EventShape shape, InspectOutcome& out) {
  std::string reason = why.message.substr(0, kMaxReason);
  out.findings.push_back(Finding{"undecodable", "event", reason, "", "inspect.limits"});
  set_shape(shape, inspect::is_http_shape(shape), out);
}

InspectOutcome inspect_now(std::string_view event, const inspect::InspectOptions& options) {
  InspectOutcome out;
  inspect::EventShape shape = inspect::EventShape::kGeneric;
  auto r = inspect::inspect_event(event, options, &shape);
  if (!r.ok()) {
    add_undecodable(r.error(), shape, out);
    return out;
  }
  set_shape(r->shape, r->http, out);
  add_findings(*r, out);
  set_taints(std::make_shared<inspect::InspectionResult>(std::move(r.value())), out);
  return out;
}

}  // namespace

Result<InspectFn> make_inspector(const InspectSettings& settings) {
  inspect::InspectOptions options;
  if (settings.detectors) {
    options.detectors = 0;
    for (const std::string& name : *settings.detectors) {
      auto d = inspect::parse_detector(name);
      if (!d.ok()) return d.error();
      options.detectors |= inspect::detector_bit(*d);
    }
  }
  return InspectFn([options](std::string_view event) { return inspect_now(event, options); });
}

}  // namespace fnguard::lambda
