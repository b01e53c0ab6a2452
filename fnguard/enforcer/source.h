// Where a hooked call came from, for the "source" field of events: the
// Python file/line/function when the caller is Python code, otherwise the
// native object and symbol that called libc.
//
// Providers are tried in order (a small table in source.cc); a node/V8
// provider slots in beside the Python one. Only computed when an event is
// emitted, never on the allow path.
#pragma once

#include "fnguard/events/json_writer.h"
#include "fnguard/image/format.h"

namespace fnguard::enforcer::source {

// Called once from the enforcer's constructor (active processes only):
// looks up the CPython API (nothing is registered with the interpreter; the
// Python location is read when an event is written).
void init();

// Writes "source":{...} into `w` when something is known. `caller` is the
// return address of the hook (the instruction after the call into libc);
// `control` is the control the event is about.
void write_source(events::JsonWriter& w, const void* caller, image::Control control);

}  // namespace fnguard::enforcer::source
