// `fnguard run`: not implemented yet (issue #2).
#include <cstdio>

#include "fnguard/cli/commands.h"

namespace fnguard::cli {

int cmd_run(int, char**) {
  std::fputs("fnguard: 'run' is not implemented yet in this build\n", stderr);
  return kExitInternal;
}

}  // namespace fnguard::cli
