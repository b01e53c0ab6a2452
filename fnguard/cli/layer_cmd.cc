// `fnguard layer`: not implemented yet (issue #4).
#include <cstdio>

#include "fnguard/cli/commands.h"

namespace fnguard::cli {

int cmd_layer(int, char**) {
  std::fputs("fnguard: 'layer' is not implemented yet in this build\n", stderr);
  return kExitInternal;
}

}  // namespace fnguard::cli
