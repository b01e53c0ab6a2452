// Lifecycle events: what the supervisor itself says about a protected run
// (policy loaded, started, enforcement degraded, stopped), in the same
// schema as the enforcer's events (docs/EVENTS.md):
//
//   LifecycleEvent ev("started");
//   ev.json().field_int("pid", pid); ...
//   sink.write_own(ev.finish());
//
// Every lifecycle event carries "fnguard":1, "time", "kind":"lifecycle",
// "action", and the "function" object from the standard Lambda variables
// (AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_VERSION, AWS_REGION) when
// they are set. Fields that are not known are absent, never invented.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fnguard/events/json_writer.h"

namespace fnguard::events {

class LifecycleEvent {
 public:
  explicit LifecycleEvent(const char* action);
  LifecycleEvent(const LifecycleEvent&) = delete;
  LifecycleEvent& operator=(const LifecycleEvent&) = delete;

  // Add fields between construction and finish().
  JsonWriter& json() { return writer_; }
  // Closes the object (appending "function") and returns the text. An event
  // too large for the buffer is cut down to its header fields with
  // "truncated":true rather than written as invalid JSON.
  std::string finish();

 private:
  void header();
  // Not zero-filled: the writer only reads what it wrote, and clearing 32 KB
  // per event cost page faults at every start.
  std::unique_ptr<char[]> buf_;
  JsonWriter writer_;
  const char* action_;
};

}  // namespace fnguard::events
