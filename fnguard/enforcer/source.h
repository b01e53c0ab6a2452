// Where a hooked call came from, for the "source" field of events: the
// Python file/line/function when the caller is Python code, otherwise the
// native object and symbol that called libc.
//
// Providers are tried in order (a small table in source.cc); a node/V8
// provider slots in beside the Python one. Only computed when an event is
// emitted, never on the allow path.
#pragma once

#include "fnguard/events/json_writer.h"

namespace fnguard::enforcer::source {

// Writes "source":{...} into `w` when something is known. `caller` is the
// return address of the hook (the instruction after the call into libc).
void write_source(events::JsonWriter& w, const void* caller);

}  // namespace fnguard::enforcer::source
