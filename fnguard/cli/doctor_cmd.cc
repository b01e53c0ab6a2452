// `fnguard doctor`: not implemented yet (issue #3).
#include <cstdio>

#include "fnguard/cli/commands.h"

namespace fnguard::cli {

int cmd_doctor(int, char**) {
  std::fputs("fnguard: 'doctor' is not implemented yet in this build\n", stderr);
  return kExitInternal;
}

}  // namespace fnguard::cli
