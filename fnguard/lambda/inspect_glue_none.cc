// Builds without the payload inspection library (see inspect_glue.h).
#include "fnguard/lambda/inspect_glue.h"

namespace fnguard::lambda {

Result<InspectFn> make_inspector(const InspectSettings&) {
  return make_error("payload inspection is not available in this build of fnguard",
                    "rebuild with fnguard/inspect, or set inspect: {mode: off}");
}

}  // namespace fnguard::lambda
