// Connects the Runtime API proxy to the payload inspection library
// (fnguard/inspect/inspect.h). Kept apart so that the proxy builds and is
// tested on its own; a build without the library says so at run time.
#pragma once

#include "fnguard/common/result.h"
#include "fnguard/lambda/proxy.h"
#include "fnguard/lambda/wrapper.h"

namespace fnguard::lambda {

// An InspectFn for the proxy that runs the policy's detectors, or an error
// (one sentence) when they cannot be set up.
Result<InspectFn> make_inspector(const InspectSettings& settings);

}  // namespace fnguard::lambda
