// Translation of the policy image into Landlock rules (see landlock.h).
#include "fnguard/kernel/landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "fnguard/image/decide.h"
#include "fnguard/kernel/landlock_abi.h"

namespace fnguard::kernel {
namespace {

uint64_t write_rights(int abi) {
  uint64_t r = ll::kFsWriteFile | ll::kFsRemoveDir | ll::kFsRemoveFile | ll::kFsMakeChar |
               ll::kFsMakeDir | ll::kFsMakeReg | ll::kFsMakeSock | ll::kFsMakeFifo |
               ll::kFsMakeBlock | ll::kFsMakeSym;
  if (abi >= 2) r |= ll::kFsRefer;
  if (abi >= 3) r |= ll::kFsTruncate;
  return r;
}

// Rights that make sense on a file (not a directory) rule.
constexpr uint64_t kFileRights =
    ll::kFsExecute | ll::kFsWriteFile | ll::kFsReadFile | ll::kFsTruncate;

bool is_dir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

// Whether `p` resolves to a pipe, socket or other object of the kernel's
// internal file systems (/dev/stdout when it is a pipe, say). Landlock
// cannot name one in a rule (EBADFD) and does not restrict opening one, so
// such a rule is left out rather than failing the whole ruleset.
bool is_internal_object(const std::string& p) {
  constexpr long kPipeFs = 0x50495045, kSockFs = 0x534F434B, kAnonInodeFs = 0x09041934;
  struct statfs fs;
  if (statfs(p.c_str(), &fs) != 0) return false;
  return fs.f_type == kPipeFs || fs.f_type == kSockFs || fs.f_type == kAnonInodeFs;
}

// The literal part of a glob up to the last '/' before its first wildcard
// ("/tmp/**" -> "/tmp", "/a/b*.log" -> "/a"); the whole pattern when it has
// no wildcard.
std::string literal_prefix(const std::string& glob, bool* had_wildcard) {
  size_t wild = glob.find_first_of("*?[");
  *had_wildcard = wild != std::string::npos;
  if (!*had_wildcard) return glob;
  size_t slash = glob.rfind('/', wild);
  if (slash == std::string::npos || slash == 0) return "/";
  return glob.substr(0, slash);
}

std::string rule_label(const image::View& image, image::Control c, uint32_t index) {
  image::Decision d;
  d.control = c;
  d.rule = index;
  char name[128];
  image::rule_name(image, d, name, sizeof(name));
  return name;
}

void plan_write(const image::View& image, int abi, LandlockPlan* plan) {
  const auto& ctl = image.control(image::Control::kFilesWrite);
  if (ctl.mode != image::Mode::kBlock) return;
  if (ctl.default_verdict != image::Verdict::kDeny) {
    plan->notes.push_back(
        "files.write: default allow is a deny list, which Landlock cannot express; "
        "writes are left to the preload");
    return;
  }
  plan->restrict_write = true;
  plan->handled_fs |= write_rights(abi);
  for (uint32_t i = 0; i < ctl.rule_count; ++i) {
    uint32_t index = ctl.first_rule + i;
    const image::Rule& rule = image.rule(index);
    std::string label = rule_label(image, image::Control::kFilesWrite, index);
    if (rule.verdict == image::Verdict::kDeny) {
      plan->notes.push_back(
          label + ": a deny rule cannot be expressed in Landlock; the preload enforces it");
      continue;
    }
    if (rule.phase != image::Phase::kAny) {
      plan->notes.push_back(label + ": phase-limited; Landlock allows it in every phase (widened)");
    }
    bool wildcard = false;
    std::string prefix = literal_prefix(image.str(rule.pattern), &wildcard);
    std::string path = prefix;
    // A path that does not exist yet cannot be opened for a rule: allow
    // beneath its nearest existing ancestor instead.
    while (!exists(path) && path != "/") {
      size_t slash = path.rfind('/');
      path = slash == 0 ? "/" : path.substr(0, slash);
    }
    if (wildcard && prefix != image.str(rule.pattern) &&
        !(prefix + "/**" == image.str(rule.pattern))) {
      plan->notes.push_back(label + ": " + image.str(rule.pattern) +
                            " widened to everything beneath " + path);
    } else if (path != prefix) {
      plan->notes.push_back(label + ": " + prefix +
                            " does not exist; widened to everything beneath " + path);
    }
    if (is_internal_object(path)) {
      plan->notes.push_back(label + ": " + path +
                            " is a pipe or socket, which Landlock neither names nor restricts; "
                            "left to the preload");
      continue;
    }
    if (path == "/") {
      plan->notes.push_back(label +
                            ": allows writes beneath /, so Landlock does not restrict writes");
    }
    uint64_t access = write_rights(abi);
    if (!is_dir(path)) access &= kFileRights;
    plan->paths.push_back({path, access});
  }
}

void plan_exec(const image::View& image, const std::vector<std::string>& extra,
               LandlockPlan* plan) {
  if (image.control(image::Control::kExecFromWritable).mode != image::Mode::kBlock) return;
  std::vector<std::string> candidates = {"/usr",      "/bin",         "/sbin",    "/lib",
                                         "/lib32",    "/lib64",       "/libx32",  "/opt",
                                         "/var/lang", "/var/runtime", "/var/task"};
  const char* task_root = image.str(image.header().task_root);
  if (task_root != nullptr && task_root[0] == '/') candidates.push_back(task_root);
  candidates.insert(candidates.end(), extra.begin(), extra.end());
  std::set<std::string> seen;
  for (const std::string& dir : candidates) {
    if (dir.empty() || dir[0] != '/' || !is_dir(dir)) continue;
    char real[PATH_MAX];
    if (realpath(dir.c_str(), real) == nullptr) continue;
    std::string r = real;
    if (!seen.insert(r).second) continue;
    // A directory that is, or holds, a writable location is not a place to
    // execute from. (A writable location deeper inside, e.g. files.write
    // allowing /var/task/out/**, is widened: see the note.)
    if (image::is_writable_location(image, r.c_str()) ||
        image::is_writable_location(image, (r + "/fnguard-probe").c_str())) {
      plan->notes.push_back("exec_from_writable: " + r +
                            " is a writable location; execute not allowed there");
      continue;
    }
    plan->exec_dirs.push_back(r);
    plan->paths.push_back({r, ll::kFsExecute});
  }
  plan->restrict_exec = true;
  plan->handled_fs |= ll::kFsExecute;
}

void plan_connect(const image::View& image, int abi, LandlockPlan* plan) {
  const auto& ctl = image.control(image::Control::kNetOutbound);
  if (ctl.mode != image::Mode::kBlock) return;
  if (abi < 4) {
    plan->notes.push_back("network.outbound: Landlock ABI " + std::to_string(abi) +
                          " has no network rules (needs 4); left to the preload");
    return;
  }
  if (ctl.default_verdict != image::Verdict::kDeny) {
    plan->notes.push_back("network.outbound: default allow cannot be expressed as Landlock ports");
    return;
  }
  std::set<uint16_t> ports;
  std::vector<std::string> widened;
  for (uint32_t i = 0; i < ctl.rule_count; ++i) {
    uint32_t index = ctl.first_rule + i;
    const image::Rule& rule = image.rule(index);
    if (rule.verdict == image::Verdict::kDeny) {
      widened.push_back(rule_label(image, image::Control::kNetOutbound, index) +
                        " (deny: left to the preload)");
      continue;
    }
    if (rule.net.port == 0) {
      plan->notes.push_back(
          "network.outbound: " + rule_label(image, image::Control::kNetOutbound, index) +
          " allows every port; Landlock does not restrict TCP connect");
      return;
    }
    ports.insert(rule.net.port);
    if (rule.net.kind != image::NetKind::kAnyHost) {
      widened.push_back(rule_label(image, image::Control::kNetOutbound, index) +
                        " widened to any host on port " + std::to_string(rule.net.port));
    }
  }
  for (const auto& w : widened) plan->notes.push_back("network.outbound: " + w);
  plan->restrict_connect = true;
  plan->handled_net |= ll::kNetConnectTcp;
  plan->connect_ports.assign(ports.begin(), ports.end());
}

}  // namespace

std::string LandlockPlan::summary() const {
  std::string s;
  auto add = [&](const char* what) {
    if (!s.empty()) s += ",";
    s += what;
  };
  if (restrict_write) add("write");
  if (restrict_exec) add("exec");
  if (restrict_connect) add("connect");
  if (scoped & ll::kScopeSignal) add("signals");
  return s.empty() ? "none" : s;
}

LandlockPlan plan_landlock(const image::View& image, int abi,
                           const std::vector<std::string>& extra_exec_dirs) {
  LandlockPlan plan;
  plan.abi = abi;
  if (abi <= 0) return plan;
  plan_write(image, abi, &plan);
  plan_exec(image, extra_exec_dirs, &plan);
  plan_connect(image, abi, &plan);
  if (abi >= 6) plan.scoped |= ll::kScopeSignal;
  return plan;
}

void plan_inherited_files(const std::vector<int>& fds, LandlockPlan* plan) {
  if (!plan->restrict_write) return;
  for (int fd : fds) {
    int fd_flags = fcntl(fd, F_GETFD);
    int flags = fcntl(fd, F_GETFL);
    struct stat st;
    if (fd_flags < 0 || (fd_flags & FD_CLOEXEC) != 0 || flags < 0 || (flags & O_PATH) != 0 ||
        ((flags & O_ACCMODE) != O_WRONLY && (flags & O_ACCMODE) != O_RDWR) || fstat(fd, &st) != 0 ||
        !S_ISREG(st.st_mode)) {
      continue;
    }
    std::string link = "/proc/self/fd/" + std::to_string(fd);
    char name[PATH_MAX];
    ssize_t n = readlink(link.c_str(), name, sizeof name - 1);
    std::string shown = n > 0 ? std::string(name, static_cast<size_t>(n)) : link;
    // The rule is made from the descriptor's own file (create_landlock_ruleset
    // opens the magic link), not from its name, which may have changed.
    plan->paths.push_back({link, (ll::kFsWriteFile | ll::kFsTruncate) & plan->handled_fs});
    plan->notes.push_back("descriptor " + std::to_string(fd) + " is open for writing on " + shown +
                          " when the command starts: Landlock lets the command write that file "
                          "wherever it lies, also through a reopen (freopen(NULL, \"wb\", "
                          "stdout))");
  }
}

Result<int> create_landlock_ruleset(const LandlockPlan& plan) {
  ll::RulesetAttr attr{};
  attr.handled_access_fs = plan.handled_fs;
  attr.handled_access_net = plan.handled_net;
  attr.scoped = plan.scoped;
  size_t size = plan.abi >= 6 ? sizeof(attr) : plan.abi >= 4 ? 16 : 8;
  long fd = ll::create_ruleset(&attr, size, 0);
  if (fd < 0) {
    return make_error(
        std::string("cannot create the Landlock ruleset: ") + strerror(errno),
        "run `fnguard doctor`; set FNGUARD_KERNEL=off to run without the kernel backstop");
  }
  int ruleset = static_cast<int>(fd);
  for (const LandlockPathRule& rule : plan.paths) {
    int dir = open(rule.path.c_str(), O_PATH | O_CLOEXEC);
    if (dir < 0) continue;  // vanished since planning: nothing is allowed there
    ll::PathBeneathAttr pb{rule.access & plan.handled_fs, dir};
    long rc = ll::add_rule(ruleset, ll::kRulePathBeneath, &pb, 0);
    int err = errno;
    close(dir);
    if (rc != 0) {
      close(ruleset);
      return make_error("cannot add the Landlock rule for " + rule.path + ": " + strerror(err));
    }
  }
  for (uint16_t port : plan.connect_ports) {
    ll::NetPortAttr np{ll::kNetConnectTcp, port};
    if (ll::add_rule(ruleset, ll::kRuleNetPort, &np, 0) != 0) {
      int err = errno;
      close(ruleset);
      return make_error("cannot add the Landlock rule for TCP port " + std::to_string(port) + ": " +
                        strerror(err));
    }
  }
  return ruleset;
}

int apply_landlock_ruleset(int ruleset_fd) {
  if (ll::restrict_self(ruleset_fd, 0) != 0) return -errno;
  return 0;
}

}  // namespace fnguard::kernel
