// Resolves /proc/self/exe once per process (a readlink of /proc costs ~10 µs
// and the wrapper asked several times at every cold start); the executable
// of a process does not change until it execs, which starts afresh.
#include "fnguard/common/self_path.h"

#include <unistd.h>

#include <climits>

namespace fnguard {

namespace {

std::string compute_install_prefix() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string exe(buf, static_cast<size_t>(n));
  // A flattened copy of the layer's /opt/fnguard-wrapper (a packaging tool
  // that does not keep symlinks) sits beside the fnguard directory.
  static constexpr char kWrapper[] = "/fnguard-wrapper";
  if (exe.size() > sizeof kWrapper - 1 &&
      exe.compare(exe.size() - (sizeof kWrapper - 1), std::string::npos, kWrapper) == 0) {
    return exe.substr(0, exe.size() - (sizeof kWrapper - 1)) + "/fnguard";
  }
  std::string bin_dir = exe.substr(0, exe.rfind('/'));
  size_t slash = bin_dir.rfind('/');
  return slash == 0 ? "/" : bin_dir.substr(0, slash);
}

}  // namespace

std::string install_prefix() {
  static const std::string prefix = compute_install_prefix();
  return prefix;
}

std::string enforcer_library_path() { return install_prefix() + "/lib/libfnguard.so"; }

std::string data_dir() { return install_prefix() + "/share/fnguard"; }

}  // namespace fnguard
