// JavaScript source location for events in Node.js processes.
#pragma once

#include <cstddef>

namespace fnguard::enforcer {

// When this process is Node.js and the calling thread is running JavaScript,
// fills the script file, 1-based line and function name of the innermost
// frame that is not Node's own ("node:*" scripts), and returns true. Returns
// false anywhere else (not Node, a libuv worker thread, no JavaScript on the
// stack). Event path only: it allocates V8 handles.
bool node_source(char* file, size_t file_cap, int* line, char* function, size_t function_cap);

}  // namespace fnguard::enforcer
