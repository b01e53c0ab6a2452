// Lifecycle event formatting (see lifecycle.h).
#include "fnguard/events/lifecycle.h"

#include <cstdlib>
#include <ctime>

namespace fnguard::events {

namespace {

constexpr size_t kBufferSize = 32 * 1024;

void function_fields(JsonWriter& w) {
  const char* name = std::getenv("AWS_LAMBDA_FUNCTION_NAME");
  const char* version = std::getenv("AWS_LAMBDA_FUNCTION_VERSION");
  const char* region = std::getenv("AWS_REGION");
  if (name == nullptr && version == nullptr && region == nullptr) return;
  w.begin_object("function");
  if (name != nullptr) w.field("name", name);
  if (version != nullptr) w.field("version", version);
  if (region != nullptr) w.field("region", region);
  w.end_object();
}

}  // namespace

LifecycleEvent::LifecycleEvent(const char* action)
    : buf_(new char[kBufferSize]), writer_(buf_.get(), kBufferSize), action_(action) {
  header();
}

void LifecycleEvent::header() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char time_text[32];
  format_utc(ts.tv_sec, static_cast<int32_t>(ts.tv_nsec), time_text);
  writer_.begin_object();
  writer_.field_int("fnguard", 1);
  writer_.field("time", time_text);
  writer_.field("kind", "lifecycle");
  writer_.field("action", action_);
}

std::string LifecycleEvent::finish() {
  function_fields(writer_);
  writer_.end_object();
  if (!writer_.ok()) {
    writer_ = JsonWriter(buf_.get(), kBufferSize);
    header();
    writer_.field_bool("truncated", true);
    function_fields(writer_);
    writer_.end_object();
  }
  return std::string(writer_.data(), writer_.length());
}

}  // namespace fnguard::events
