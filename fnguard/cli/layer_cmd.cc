// `fnguard layer build [--arch x86_64|arm64] [--policy FILE] --out FILE.zip`:
// the Lambda layer. Its contents land in /opt:
//
//   /opt/fnguard-wrapper                 AWS_LAMBDA_EXEC_WRAPPER points here;
//                                        a symlink to fnguard/bin/fnguard
//   /opt/fnguard/bin/fnguard             CLI, wrapper, Runtime API proxy
//   /opt/fnguard/lib/libfnguard.so       the in-process enforcer
//   /opt/fnguard/lib/libyaml-0.so.2, libseccomp.so.2   what Amazon Linux lacks
//   /opt/fnguard/policy.yaml             the policy (--policy, else the default)
//   /opt/fnguard/policy.tree             that policy parsed (yaml_tree.h), so
//                                        that a cold start does not parse it
//   /opt/fnguard/python/bootstrap.py     Python runtime client for OS-only runtimes
//   /opt/fnguard/VERSION
//
// The binaries come from this build (the running fnguard's own tree) for its
// architecture; the other architecture comes from its cross build (arm64:
// FNGUARD_ARM64_PREFIX, else PREFIX/../build-arm64, made by
// `cmake --preset arm64 && cmake --build --preset arm64`). Each binary's ELF
// machine is checked, so a layer never ships the wrong architecture. The zip
// is written with Debian's `zip` (unix permissions kept, no extra attributes);
// debug information is stripped from the copies when a strip tool exists.
#include <elf.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "fnguard/cli/commands.h"
#include "fnguard/common/self_path.h"
#include "fnguard/policy/policy.h"
#include "fnguard/policy/yaml_tree.h"

namespace fnguard::cli {
namespace {

constexpr const char* kLayerUsage =
    "usage: fnguard layer build [--arch x86_64|arm64] [--policy FILE] --out FILE.zip\n";

int fail(int status, const std::string& line) {
  std::fprintf(stderr, "fnguard: layer: %s\n", line.c_str());
  return status;
}

std::string host_arch() {
  utsname u{};
  uname(&u);
  std::string m = u.machine;
  return m == "aarch64" ? "arm64" : m;
}

// "x86_64", "arm64", or "" when the file is not an ELF we know.
std::string elf_arch(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  Elf64_Ehdr h{};
  if (!in.read(reinterpret_cast<char*>(&h), sizeof h)) return {};
  if (std::memcmp(h.e_ident, ELFMAG, SELFMAG) != 0) return {};
  if (h.e_machine == EM_X86_64) return "x86_64";
  if (h.e_machine == EM_AARCH64) return "arm64";
  return {};
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

bool run(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }

bool exists(const std::string& p) { return access(p.c_str(), R_OK) == 0; }

bool have_tool(const std::string& name) {
  return run("command -v " + name + " >/dev/null 2>&1");
}

// Where the binaries for `arch` are: a tree with bin/fnguard and lib/libfnguard.so.
std::optional<std::string> tree_for(const std::string& arch, std::string* looked) {
  std::vector<std::string> candidates;
  if (arch == host_arch()) candidates.push_back(install_prefix());
  if (arch == "arm64") {
    if (const char* p = std::getenv("FNGUARD_ARM64_PREFIX"); p != nullptr && p[0] != '\0') {
      candidates.insert(candidates.begin(), p);
    }
    candidates.push_back(install_prefix() + "/arm64");
    candidates.push_back(install_prefix() + "/../build-arm64");
  }
  if (arch == "x86_64") {
    if (const char* p = std::getenv("FNGUARD_X86_64_PREFIX"); p != nullptr && p[0] != '\0') {
      candidates.insert(candidates.begin(), p);
    }
  }
  for (const std::string& c : candidates) {
    *looked += (looked->empty() ? "" : ", ") + c;
    if (exists(c + "/bin/fnguard") && exists(c + "/lib/libfnguard.so")) return c;
  }
  return std::nullopt;
}

// The policy at `policy_path`, parsed, to `tree_path`: the wrapper then
// skips the parse at cold start (policy::load_policy_file_prepared). A
// policy with a syntax error gets no tree (the wrapper reports the error).
bool write_policy_tree(const std::string& policy_path, const std::string& tree_path) {
  std::ifstream in(policy_path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    std::fprintf(stderr, "fnguard: layer: cannot read %s\n", policy_path.c_str());
    return false;
  }
  policy::ReadResult tree = policy::read_yaml_tree(text, policy_path);
  if (!tree.errors.empty()) return true;
  std::ofstream out(tree_path, std::ios::binary);
  out << policy::write_tree_file(tree.root, text);
  out.close();
  if (!out) {
    std::fprintf(stderr, "fnguard: layer: cannot write %s\n", tree_path.c_str());
    return false;
  }
  return chmod(tree_path.c_str(), 0644) == 0;
}

struct Args {
  std::string arch;
  std::optional<std::string> policy;
  std::string out;
};

}  // namespace

int cmd_layer(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "build") != 0) {
    if (argc >= 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
      std::fputs(kLayerUsage, stdout);
      return 0;
    }
    std::fputs(kLayerUsage, stderr);
    return kExitUsage;
  }
  Args a;
  a.arch = host_arch();
  for (int i = 2; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") {
      std::fputs(kLayerUsage, stdout);
      return 0;
    }
    if (i + 1 >= argc || (flag != "--arch" && flag != "--policy" && flag != "--out")) {
      std::fprintf(stderr, "fnguard: layer: unknown option or missing value '%s'\n%s",
                   flag.c_str(), kLayerUsage);
      return kExitUsage;
    }
    std::string v = argv[++i];
    if (flag == "--arch") a.arch = v == "aarch64" ? "arm64" : v == "amd64" ? "x86_64" : v;
    if (flag == "--policy") a.policy = v;
    if (flag == "--out") a.out = v;
  }
  if (a.out.empty()) return fail(kExitUsage, "--out FILE.zip is required");
  if (a.arch != "x86_64" && a.arch != "arm64") {
    return fail(kExitUsage, "--arch must be x86_64 or arm64, not '" + a.arch + "'");
  }

  // The policy is validated now, not in Lambda at cold start.
  std::string policy_path = a.policy.value_or(data_dir() + "/default.yaml");
  if (a.policy) {
    policy::CompileOptions options;
    options.task_root = "/var/task";
    options.runtime_dir = "/var/runtime";
    options.tmp = "/tmp";
    options.home = "/home/sbx_user1051";
    auto loaded = policy::load_policy_file(*a.policy, options);
    if (!loaded) return fail(kExitUsage, loaded.error().to_string());
  } else if (!exists(policy_path)) {
    return fail(kExitInternal, "the default policy " + policy_path + " is missing; reinstall fnguard");
  }

  std::string looked;
  std::optional<std::string> tree = tree_for(a.arch, &looked);
  if (!tree) {
    return fail(kExitInternal,
                "no " + a.arch + " build of fnguard found (looked in " + looked + ")" +
                    (a.arch == "arm64"
                         ? "; cross-build it with `cmake --preset arm64 && cmake --build --preset "
                           "arm64` (see docs/LAMBDA.md), or set FNGUARD_ARM64_PREFIX"
                         : "; build fnguard on an x86_64 machine, or set FNGUARD_X86_64_PREFIX"));
  }
  std::string bin = *tree + "/bin/fnguard", lib = *tree + "/lib/libfnguard.so";
  for (const std::string& f : {bin, lib}) {
    std::string got = elf_arch(f);
    if (got != a.arch) {
      return fail(kExitInternal, f + " is built for " + (got.empty() ? "an unknown machine" : got) +
                                     ", not " + a.arch + "; rebuild that tree");
    }
  }
  std::string bootstrap = data_dir() + "/python/bootstrap.py";
  for (const std::string& f : {bootstrap}) {
    if (!exists(f)) return fail(kExitInternal, f + " is missing; rebuild or reinstall fnguard");
  }
  if (!have_tool("zip")) {
    return fail(kExitInternal, "the `zip` program is missing; install it (apt-get install zip)");
  }

  char stage_tmpl[] = "/tmp/fnguard-layer-XXXXXX";
  if (mkdtemp(stage_tmpl) == nullptr) return fail(kExitInternal, "cannot create a staging directory");
  std::string stage = stage_tmpl;
  std::string q = shell_quote(stage);
  std::string strip = a.arch == "arm64" ? "aarch64-linux-gnu-strip" : "strip";
  if (a.arch != host_arch() && a.arch == "x86_64") strip = "x86_64-linux-gnu-strip";
  bool ok = run("mkdir -p " + q + "/fnguard/bin " + q + "/fnguard/lib " + q + "/fnguard/python") &&
            run("install -m 0755 " + shell_quote(bin) + " " + q + "/fnguard/bin/fnguard") &&
            run("install -m 0755 " + shell_quote(lib) + " " + q + "/fnguard/lib/libfnguard.so") &&
            run("install -m 0644 " + shell_quote(policy_path) + " " + q + "/fnguard/policy.yaml") &&
            // The wrapper is fnguard itself (main.cc dispatches on the name):
            // Lambda execs it directly, with no shell in between.
            run("ln -s fnguard/bin/fnguard " + q + "/fnguard-wrapper") &&
            run("install -m 0644 " + shell_quote(bootstrap) + " " + q + "/fnguard/python/bootstrap.py");
  // Shared libraries Amazon Linux does not have, from this machine's
  // multiarch directory for the target architecture (the binary's RPATH is
  // $ORIGIN/../lib).
  if (ok) {
    std::string triplet = a.arch == "arm64" ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
    for (const char* so : {"libyaml-0.so.2", "libseccomp.so.2"}) {
      std::string found;
      for (const std::string& dir : {"/usr/lib/" + triplet, "/lib/" + triplet}) {
        if (exists(dir + "/" + so)) {
          found = dir + "/" + so;
          break;
        }
      }
      if (found.empty()) {
        ok = false;
        std::fprintf(stderr,
                     "fnguard: layer: %s for %s is missing on this machine; install it (for arm64: "
                     "dpkg --add-architecture arm64 && apt-get install libyaml-dev:arm64 "
                     "libseccomp-dev:arm64)\n",
                     so, a.arch.c_str());
        break;
      }
      ok = run("install -m 0644 " + shell_quote(found) + " " + q + "/fnguard/lib/" + so);
    }
  }
  if (ok) {
    ok = write_policy_tree(policy_path, stage + "/fnguard/policy.tree");
  }
  if (ok) {
    std::ofstream(stage + "/fnguard/VERSION") << FNGUARD_VERSION << " " << a.arch << "\n";
    if (have_tool(strip)) {
      (void)run(strip + " --strip-debug " + q + "/fnguard/bin/fnguard " + q +
                "/fnguard/lib/libfnguard.so");
    }
    std::string out = a.out;
    if (out[0] != '/') {
      char cwd[4096];
      if (getcwd(cwd, sizeof cwd) != nullptr) out = std::string(cwd) + "/" + out;
    }
    (void)unlink(out.c_str());
    // -X: no extra file attributes, so the same inputs give the same zip
    // apart from timestamps. -y stores fnguard-wrapper as the symlink it is;
    // Lambda recreates it in /opt. A tool that flattens it into a copy of
    // the binary still works (self_path.cc).
    ok = run("cd " + q + " && zip -q -r -X -y " + shell_quote(out) +
             " fnguard-wrapper fnguard");
    if (ok) {
      std::printf("%s: fnguard %s layer for %s (policy: %s)\n", a.out.c_str(), FNGUARD_VERSION,
                  a.arch.c_str(), a.policy ? a.policy->c_str() : "default");
    }
  }
  (void)run("rm -rf " + q);
  if (!ok) return fail(kExitInternal, "could not assemble the layer zip; see the messages above");
  return 0;
}

}  // namespace fnguard::cli
