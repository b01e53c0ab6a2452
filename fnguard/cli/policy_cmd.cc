// `fnguard policy`: not implemented yet (issue #2).
#include <cstdio>

#include "fnguard/cli/commands.h"

namespace fnguard::cli {

int cmd_policy(int, char**) {
  std::fputs("fnguard: 'policy' is not implemented yet in this build\n", stderr);
  return kExitInternal;
}

}  // namespace fnguard::cli
