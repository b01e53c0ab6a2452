// Where fnguard is installed. `fnguard` finds its library and data relative
// to its own executable (PREFIX/bin/fnguard -> PREFIX/lib/libfnguard.so,
// PREFIX/share/fnguard/), so an installed tree works wherever it is copied:
// the Lambda layer is such a tree (/opt/fnguard/bin, /opt/fnguard/lib).
#pragma once

#include <string>

namespace fnguard {

// PREFIX: the parent of the directory holding the running executable.
std::string install_prefix();
std::string enforcer_library_path();  // PREFIX/lib/libfnguard.so
std::string data_dir();               // PREFIX/share/fnguard

}  // namespace fnguard
