// The exec supervisor thread: receive a notification, read the exec target
// out of the stopped process, decide with the compiled image, answer.
// See exec_supervisor.h for the limits.
#include "fnguard/kernel/exec_supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <memory>
#include <system_error>
#include <vector>

#include "fnguard/common/exec_format.h"
#include "fnguard/common/path.h"
#include "fnguard/common/self_path.h"
#include "fnguard/common/sha256.h"
#include "fnguard/events/json_writer.h"
#include "fnguard/events/lifecycle.h"
#include "fnguard/image/decide.h"
#include "fnguard/kernel/denylist.h"

namespace fnguard::kernel {
namespace {

std::string read_link(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = readlink(path.c_str(), buf, sizeof(buf) - 1);
  if (n < 0) return {};
  return std::string(buf, static_cast<size_t>(n));
}

constexpr uint64_t kPage = 4096;

// Reads a NUL-terminated string of at most PATH_MAX bytes at `addr` in the
// process whose memory is open on `mem_fd`. Reads page by page so that a
// string ending just before an unmapped page is still read. Returns 0 or an
// errno (EFAULT: unreadable, ENAMETOOLONG: no NUL within PATH_MAX).
int read_remote_string(int mem_fd, uint64_t addr, std::string* out) {
  out->clear();
  if (addr == 0) return EFAULT;
  char chunk[kPage];
  while (out->size() < PATH_MAX) {
    size_t want = static_cast<size_t>(kPage - (addr % kPage));
    ssize_t n = pread(mem_fd, chunk, want, static_cast<off_t>(addr));
    if (n <= 0) return EFAULT;
    const void* nul = memchr(chunk, '\0', static_cast<size_t>(n));
    if (nul != nullptr) {
      out->append(chunk, static_cast<const char*>(nul) - chunk);
      return out->size() < PATH_MAX ? 0 : ENAMETOOLONG;
    }
    out->append(chunk, static_cast<size_t>(n));
    addr += static_cast<uint64_t>(n);
  }
  return ENAMETOOLONG;
}

// Reads the argument vector at `addr` (an array of pointers ending with
// NULL, native word size: the filter admits the native ABI only) as far as
// it can: at most kMaxArgs strings, and it stops before the first argument
// it cannot read in full (unreadable, or PATH_MAX bytes or longer). Either
// way `complete` is then false and the vector ends there. Only the
// arguments up to the loader's program decide what runs (scan_loader_args):
// a long one after the program (a `python3 -c` script) does not matter,
// one before it (an option's value) leaves the program unknown, and the
// exec is unverifiable. (Until 2026-11-24 any argument of 4 KiB
// or more made the whole exec unverifiable.)
void read_remote_argv(int mem_fd, uint64_t addr, std::vector<std::string>* args, bool* complete) {
  constexpr size_t kMaxArgs = 64;
  args->clear();
  *complete = true;
  if (addr == 0) return;  // NULL argv: the kernel runs it with none
  for (size_t i = 0;; ++i) {
    uint64_t ptr = 0;
    if (pread(mem_fd, &ptr, sizeof ptr, static_cast<off_t>(addr + i * sizeof ptr)) !=
        static_cast<ssize_t>(sizeof ptr)) {
      *complete = false;
      return;
    }
    if (ptr == 0) return;
    std::string arg;
    if (i == kMaxArgs || read_remote_string(mem_fd, ptr, &arg) != 0) {
      *complete = false;
      return;
    }
    args->push_back(std::move(arg));
  }
}

// Reads the first `n` bytes of the string at `addr` into `out` (fewer when
// the string's page is followed by an unmapped one). Returns the count.
size_t read_remote_head(int mem_fd, uint64_t addr, char* out, size_t n) {
  size_t have = 0;
  while (have < n) {
    size_t want = std::min<size_t>(n - have, kPage - (addr + have) % kPage);
    ssize_t got = pread(mem_fd, out + have, want, static_cast<off_t>(addr + have));
    if (got <= 0) break;
    have += static_cast<size_t>(got);
  }
  return have;
}

// True when the string at `addr` in the process starts with the `length`
// bytes of `prefix` (which holds no NUL). Reads only those bytes, page by
// page (a shorter string may end just before an unmapped page).
bool remote_starts_with(int mem_fd, uint64_t addr, const char* prefix, size_t length) {
  char buf[64];
  if (addr == 0 || length > sizeof buf) return false;
  return read_remote_head(mem_fd, addr, buf, length) == length && memcmp(buf, prefix, length) == 0;
}

// Reads the pointers of the array at `addr` (an exec's envp: ending with
// NULL) in page-bounded batches, into `out`. False when it cannot be read
// or holds more than `max` entries.
bool read_remote_pointers(int mem_fd, uint64_t addr, size_t max, std::vector<uint64_t>* out) {
  uint64_t batch[512];
  for (;;) {
    size_t bytes = std::min<size_t>(sizeof batch, kPage - addr % kPage);
    bytes -= bytes % sizeof(uint64_t);
    if (bytes == 0) bytes = sizeof(uint64_t);  // one pointer across a page boundary
    ssize_t n = pread(mem_fd, batch, bytes, static_cast<off_t>(addr));
    if (n < static_cast<ssize_t>(sizeof(uint64_t))) return false;
    size_t count = static_cast<size_t>(n) / sizeof(uint64_t);
    size_t i = 0;
    while (i < count && batch[i] != 0) out->push_back(batch[i++]);
    if (out->size() > max) return false;
    if (i < count) return true;  // the NULL that ends the array
    addr += count * sizeof(uint64_t);
  }
}

// True when the environment at `addr` holds an entry that starts with
// `prefix`, reading only the prefix's length of each entry, of at most
// kMaxEntries entries. An environment that cannot be read, or a longer
// one, counts as not holding it: the caller then decides the exec as if the
// entry were absent, which decides more, never less.
bool remote_env_has(int mem_fd, uint64_t addr, const char* prefix) {
  constexpr size_t kMaxEntries = 16384;
  if (addr == 0) return false;  // NULL envp: the kernel passes an empty one
  std::vector<uint64_t> ptrs;
  if (!read_remote_pointers(mem_fd, addr, kMaxEntries, &ptrs)) return false;
  const size_t length = strlen(prefix);
  for (uint64_t ptr : ptrs) {
    if (remote_starts_with(mem_fd, ptr, prefix, length)) return true;
  }
  return false;
}

// Reads the LD_PRELOAD, LD_AUDIT and LD_LIBRARY_PATH entries of the
// environment at `addr` (exec_supervisor.h, LibraryEnv), through `mem_fd`.
// Every exec pays this. The first bytes of every entry are needed, and a
// program's environment strings may lie anywhere in its memory, usually in
// a few pages of its heap or stack; a read costs about the same for 16
// bytes as for a page (~0.8 us here), a read per entry ~0.8 us each. So the
// pages the entries start in are gathered into runs (pages at most kJoin
// apart are read as one run, the gap included), one pread each; an entry a
// run does not cover (it crossed an unmapped page, or there were too many
// runs) is read by itself. Only a matching entry is read in full. False
// when the pointers cannot be read (or there are more than kMaxEntries), or
// a matching entry cannot be read in full (PATH_MAX bytes or more).
bool read_remote_library_env(int mem_fd, uint64_t addr, LibraryEnv* env) {
  constexpr size_t kMaxEntries = 16384;
  static const char* const kPrefixes[] = {kPreloadEnv, kAuditEnv, kLibraryPathEnv, kGconvPathEnv};
  constexpr int kKinds = 4;
  constexpr size_t kHead = 16;     // the longest prefix, "LD_LIBRARY_PATH="
  constexpr uint64_t kJoin = 4;    // pages: a gap this small is read too
  constexpr size_t kMaxRuns = 16;  // reads; entries beyond are read one by one
  constexpr uint64_t kMaxBytes = 1 << 20;
  if (addr == 0) return true;  // NULL envp: the kernel passes an empty one
  std::vector<uint64_t> ptrs;
  if (!read_remote_pointers(mem_fd, addr, kMaxEntries, &ptrs)) return false;
  const size_t total = ptrs.size();
  if (total == 0) return true;
  std::vector<size_t> order(total);
  for (size_t i = 0; i < total; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ptrs[a] < ptrs[b]; });
  // Runs of pages, in address order.
  struct Run {
    uint64_t start, end;  // page-aligned
    size_t offset;        // in `data`
  };
  std::vector<Run> runs;
  uint64_t run_bytes = 0;
  for (size_t i : order) {
    const uint64_t first = ptrs[i] & ~(kPage - 1);
    const uint64_t last = (ptrs[i] + kHead - 1) & ~(kPage - 1);
    if (last < first) continue;  // wraps: read by itself below
    if (!runs.empty() && first <= runs.back().end + kJoin * kPage) {
      if (last + kPage > runs.back().end) {
        run_bytes += last + kPage - runs.back().end;
        runs.back().end = last + kPage;
      }
    } else if (runs.size() < kMaxRuns) {
      runs.push_back({first, last + kPage, 0});
      run_bytes += last + kPage - first;
    }
    if (run_bytes > kMaxBytes) {
      runs.clear();  // a pathological layout: one read per entry
      break;
    }
  }
  std::unique_ptr<char[]> data(new char[run_bytes]);  // not zeroed: only read bytes are used
  std::vector<size_t> valid(runs.size(), 0);          // bytes of each run read
  size_t offset = 0;
  for (size_t r = 0; r < runs.size(); ++r) {
    runs[r].offset = offset;
    const size_t length = runs[r].end - runs[r].start;
    ssize_t got = pread(mem_fd, data.get() + offset, length, static_cast<off_t>(runs[r].start));
    if (got > 0) valid[r] = static_cast<size_t>(got);
    offset += length;
  }
  std::vector<char> heads(total * kHead, '\0');
  std::vector<size_t> lengths(total, 0);
  size_t run = 0;
  for (size_t i : order) {
    while (run < runs.size() && runs[run].end <= ptrs[i]) ++run;
    if (run < runs.size() && ptrs[i] >= runs[run].start &&
        ptrs[i] - runs[run].start + kHead <= valid[run]) {
      memcpy(heads.data() + i * kHead, data.get() + runs[run].offset + (ptrs[i] - runs[run].start),
             kHead);
      lengths[i] = kHead;
    } else {
      lengths[i] = read_remote_head(mem_fd, ptrs[i], heads.data() + i * kHead, kHead);
    }
  }
  for (size_t i = 0; i < total; ++i) {
    const char* head = heads.data() + i * kHead;
    int kind = -1;
    for (int k = 0; k < kKinds; ++k) {
      size_t len = strlen(kPrefixes[k]);
      if (lengths[i] >= len && memcmp(head, kPrefixes[k], len) == 0) kind = k;
    }
    if (kind < 0) continue;
    std::string entry;
    if (read_remote_string(mem_fd, ptrs[i], &entry) != 0) {
      if (kind < 2) return false;
      env->search_unread = true;  // a search path too long to read: its directories are unknown
      continue;
    }
    std::string value = entry.substr(strlen(kPrefixes[kind]));
    if (kind == 0) {
      env->preload.push_back(std::move(value));
    } else if (kind == 1) {
      env->audit.push_back(std::move(value));
    } else if (kind == 2) {
      env->library_paths.push_back(std::move(value));
    } else {
      env->gconv_paths.push_back(std::move(value));
    }
  }
  return true;
}

// Closes a descriptor when it goes out of scope.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

struct HashCtx {
  const std::string* path;
};

// Larger files are not hashed (the rule's decision then fails closed, see
// image::decide_exec): one thread answers every exec, and a sparse file of
// many gigabytes would hold them all.
constexpr off_t kMaxHashBytes = off_t{1} << 30;

bool hash_file(void* ctx, uint8_t out[32]) {
  const auto* h = static_cast<HashCtx*>(ctx);
  // O_NONBLOCK: a FIFO must not block the open. Only a regular file can be
  // executed (the kernel refuses anything else); /dev/zero would never end.
  int fd = open(h->path->c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return false;
  struct stat st;
  bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= kMaxHashBytes &&
            sha256_fd(fd, out);
  close(fd);
  return ok;
}

// The start of /proc/<pid>/<name> in buf (NUL-terminated), or false.
template <size_t N>
bool read_proc(pid_t pid, const char* name, char (&buf)[N]) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = read(fd, buf, N - 1);
  close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  return true;
}

int64_t ppid_of(pid_t pid) {
  char buf[512];
  if (!read_proc(pid, "stat", buf)) return -1;
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
  const char* close_paren = strrchr(buf, ')');
  if (close_paren == nullptr) return -1;
  long ppid = -1;
  char state;
  if (sscanf(close_paren + 1, " %c %ld", &state, &ppid) != 2) return -1;
  return ppid;
}

// The thread group (process) id of thread `tid`, from /proc/<tid>/status,
// or -1. The kernel's /proc/self is the thread group, /proc/thread-self the
// thread: they differ for a thread made with clone(CLONE_THREAD) without
// CLONE_FILES or CLONE_FS, which has a descriptor table or working
// directory of its own.
pid_t tgid_of(pid_t tid) {
  char buf[1024];
  if (!read_proc(tid, "status", buf)) return -1;
  const char* t = strstr(buf, "\nTgid:");
  if (t == nullptr) return -1;
  long tgid = strtol(t + 6, nullptr, 10);
  return tgid > 0 ? static_cast<pid_t>(tgid) : -1;
}

// The "process" object of a seccomp event (the caller, read from /proc)
// and the deciding layer.
void write_process(events::JsonWriter& w, pid_t pid) {
  w.begin_object("process");
  w.field_int("pid", pid);
  int64_t ppid = ppid_of(pid);
  if (ppid >= 0) w.field_int("ppid", ppid);
  std::string exe = read_link("/proc/" + std::to_string(pid) + "/exe");
  if (!exe.empty()) w.field("exe", exe.c_str());
  w.end_object();
  w.field("enforcement", "seccomp");
}

std::string exec_event(const image::View& image, const image::Decision& d, const ExecVerdict& v,
                       pid_t pid, const char* syscall_name, const std::string& invoked) {
  // Room for every field escaped at its worst (\u00XX, six bytes a byte)
  // and the process's exe path: a path of several kilobytes must not make
  // the event vanish (until the tenth session of 2026-11-23 a 4 KB buffer
  // dropped such events, and monitor mode ran the exec unreported).
  std::vector<char> buf(1024 + 6 * (v.rule.size() + v.target.size() + invoked.size() +
                                    v.loader.size() + v.reason.size() + PATH_MAX));
  events::JsonWriter w(buf.data(), buf.size());
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char when[32];
  events::format_utc(ts.tv_sec, static_cast<int32_t>(ts.tv_nsec), when);
  w.begin_object();
  w.field_int("fnguard", 1);
  w.field("time", when);
  w.field("kind", "violation");
  w.field("control", image::control_name(d.control));
  w.field("action", d.blocks() ? "blocked" : "allowed");
  w.field("mode", image::mode_name(d.mode));
  w.field("rule", v.rule.c_str());
  w.field("target", v.target.c_str());
  w.begin_object("detail");
  w.field("syscall", syscall_name);
  if (!invoked.empty() && invoked != v.target) w.field("invoked", invoked.c_str());
  if (!v.loader.empty()) w.field("loader", v.loader.c_str());
  if (!v.reason.empty()) w.field("reason", v.reason.c_str());
  w.end_object();
  write_process(w, pid);
  w.end_object();
  (void)image;
  if (!w.ok()) return {};
  return std::string(w.data(), w.length());
}

}  // namespace

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

// True for a path inside /proc/<digits>/: its symbolic links are "magic"
// (fd/N, cwd, root, exe) and may name things that have no path.
bool is_proc_pid_path(const std::string& path) {
  if (path.rfind("/proc/", 0) != 0 || path.size() <= 6 ||
      !isdigit(static_cast<unsigned char>(path[6]))) {
    return false;
  }
  size_t i = 6;
  while (i < path.size() && isdigit(static_cast<unsigned char>(path[i]))) ++i;
  return i < path.size() && path[i] == '/';
}

// Resolves the absolute path `start` the way process `pid` will: symbolic
// links are followed one component at a time, and "/proc/self" and
// "/proc/thread-self" mean that process, not the supervisor (realpath(3)
// here would read them as ours, and "/proc/self/fd/3" would name our own
// descriptor 3). `pid` is the calling thread (what seccomp reports):
// "/proc/self" is its thread group, "/proc/thread-self" the thread itself. A magic link that names
// something without a path (a memfd, a deleted file, a socket) ends the walk: *anonymous is set,
// *out holds the link's text and *open_path the magic link itself, which the supervisor can open to
// hash the content. Returns 0 or an errno; with ENOENT, *out is where the
// missing file would be.
int resolve_as(pid_t pid, const std::string& start, std::string* out, std::string* open_path,
               bool* anonymous, std::vector<std::string>* link_names) {
  std::vector<std::string> todo = split_path(start);
  std::reverse(todo.begin(), todo.end());
  std::string cur;  // "" is the root
  int links = 0;
  *anonymous = false;
  while (!todo.empty()) {
    std::string comp = std::move(todo.back());
    todo.pop_back();
    if (comp == ".") continue;
    if (comp == "..") {
      size_t slash = cur.rfind('/');
      cur = slash == std::string::npos ? "" : cur.substr(0, slash);
      continue;
    }
    std::string next = cur + "/" + comp;
    struct stat st;
    if (lstat(next.c_str(), &st) != 0) {
      const int err = errno;
      if (err == ENOENT) {
        // Where the missing file would be: what is resolved so far, and
        // the rest as written (a search path directory not made yet).
        std::string rest = next;
        for (auto it = todo.rbegin(); it != todo.rend(); ++it) rest += "/" + *it;
        char normal[PATH_MAX];
        if (normalize_path(nullptr, rest.c_str(), normal, sizeof normal) >= 0) *out = normal;
      }
      return err;
    }
    if (!S_ISLNK(st.st_mode)) {
      if (!todo.empty() && !S_ISDIR(st.st_mode)) return ENOTDIR;
      cur = std::move(next);
      continue;
    }
    if (++links > 40) return ELOOP;
    std::string target;
    if (next == "/proc/self" || next == "/proc/thread-self") {
      pid_t tgid = tgid_of(pid);
      if (tgid < 0) return ESRCH;
      target = std::to_string(tgid);
      if (next == "/proc/thread-self") target += "/task/" + std::to_string(pid);
    } else {
      target = read_link(next);
      if (target.empty()) return errno != 0 ? errno : ENOENT;
    }
    if (is_proc_pid_path(next)) {
      const std::string deleted = " (deleted)";
      bool is_deleted =
          target.size() > deleted.size() &&
          target.compare(target.size() - deleted.size(), deleted.size(), deleted) == 0;
      if (target[0] != '/' || is_deleted || target.rfind("/memfd:", 0) == 0) {
        if (!todo.empty()) return ENOTDIR;
        *anonymous = true;
        *out = target;
        *open_path = next;
        return 0;
      }
    }
    std::vector<std::string> more = split_path(target);
    // A link in the last place names the program too ("other -> nc ->
    // nc.openbsd" is run as "nc" as well): name rules see each such name.
    if (todo.empty() && !more.empty()) link_names->push_back(more.back());
    for (auto it = more.rbegin(); it != more.rend(); ++it) todo.push_back(*it);
    if (target[0] == '/') cur.clear();
  }
  *out = cur.empty() ? "/" : cur;
  *open_path = *out;
  return 0;
}

}  // namespace

namespace {

// A decision about one exec, before the one to report is chosen.
struct Candidate {
  image::Decision decision;
  std::string target;
  std::string invoked;
  std::string reason;
  std::string loader;
  const char* rule = nullptr;  // overrides image::rule_name()
};

// A file the exec will run, resolved as the process sees it.
struct RunFile {
  std::string resolved;
  std::string invoked;
  std::string open_path;  // what the supervisor opens to read or hash it
  bool anonymous = false;
  std::vector<std::string> link_names;
};

image::Decision decide_file(const image::View& image, const RunFile& f, image::Phase phase) {
  HashCtx hctx{&f.open_path};
  image::ExecSubject subject;
  subject.resolved = f.resolved.c_str();
  subject.invoked = f.invoked.c_str();
  subject.hash = hash_file;
  subject.hash_ctx = &hctx;
  std::vector<const char*> names;
  for (const std::string& n : f.link_names) names.push_back(n.c_str());
  subject.link_names = names.data();
  subject.link_name_count = names.size();
  return image::decide_exec(image, subject, phase);
}

image::Decision writable_decision(const image::View& image, const RunFile& f) {
  image::Decision d;
  d.control = image::Control::kExecFromWritable;
  d.mode = image.control(image::Control::kExecFromWritable).mode;
  d.rule = image::kNoRule;
  d.verdict = (f.anonymous || image::is_writable_location(image, f.resolved.c_str()))
                  ? image::Verdict::kDeny
                  : image::Verdict::kAllow;
  return d;
}

bool has_deny_rules(const image::View& image) {
  const image::ControlEntry& c = image.control(image::Control::kProcessExec);
  for (uint32_t i = 0; i < c.rule_count; ++i) {
    if (image.rule(c.first_rule + i).verdict == image::Verdict::kDeny) return true;
  }
  return false;
}

// An exec whose program cannot be determined (image::decide_unverifiable,
// as in the preload), with what it was and why.
Candidate unverifiable(const image::View& image, bool exec_applies, std::string target,
                       std::string reason) {
  image::UnverifiableDecision u = image::decide_unverifiable(image, exec_applies);
  Candidate c;
  c.decision = u.decision;
  c.rule = u.rule;
  c.target = std::move(target);
  c.reason = std::move(reason);
  return c;
}

// The effective uid of `pid` (from /proc/<pid>/status), or -1.
int64_t euid_of(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/status";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  const char* uid = strstr(buf, "\nUid:");
  long real = -1, effective = -1;
  if (uid == nullptr || sscanf(uid + 5, "%ld %ld", &real, &effective) != 2) return -1;
  return effective;
}

// Reads the "#!" head of a regular file. Returns 0 (head filled, possibly
// short), or the errno of the failed open.
int read_head(const std::string& path, std::string* head) {
  head->clear();
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return errno;
  if (!S_ISREG(st.st_mode)) return 0;  // the kernel runs regular files only
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return errno;
  char buf[kShebangBufferSize];
  ssize_t n = pread(fd, buf, sizeof buf, 0);
  close(fd);
  if (n > 0) head->assign(buf, static_cast<size_t>(n));
  return 0;
}

// The cwd of the process, read once and only when a relative name needs it.
class ProcessCwd {
 public:
  explicit ProcessCwd(pid_t pid) : pid_(pid) {}
  const std::string& get() {
    if (!read_) {
      value_ = read_link("/proc/" + std::to_string(pid_) + "/cwd");
      read_ = true;
    }
    return value_;
  }

 private:
  pid_t pid_;
  bool read_ = false;
  std::string value_;
};

enum class Lookup { kFound, kMissing, kNoCwd };

// Resolves `name` (absolute, or relative to the process's cwd) as process
// `pid` will. kMissing: it does not exist (the kernel or the loader then
// fails); kNoCwd: a relative name, and the cwd cannot be read.
Lookup resolve_file(pid_t pid, ProcessCwd* cwd, const std::string& name, RunFile* f) {
  std::string base = "/";
  if (name.empty() || name[0] != '/') {
    base = cwd->get();
    if (base.empty() || base[0] != '/') return Lookup::kNoCwd;
  }
  char normal[PATH_MAX];
  if (normalize_path(base.c_str(), name.c_str(), normal, sizeof normal) < 0)
    return Lookup::kMissing;
  f->invoked = normal;
  f->link_names.clear();
  std::string start = name[0] == '/' ? name : base + "/" + name;
  // Fast path: with no symbolic link on the way (openat2 RESOLVE_NO_SYMLINKS
  // refuses any, /proc/self included), the normalised path is the file's own
  // and the walk below, an lstat per component, is not needed. The path as
  // given is opened, not the normalised one: only without links does ".."
  // mean the same lexically as in the kernel's walk. Anything but success or
  // a missing component (ELOOP, ENOSYS before Linux 5.6, EACCES) takes the walk.
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS;
  long fd = syscall(SYS_openat2, AT_FDCWD, start.c_str(), &how, sizeof how);
  if (fd >= 0 || errno == ENOENT || errno == ENOTDIR) {
    f->resolved = normal;  // also where a missing file would be: no link on the way
    if (fd < 0) return Lookup::kMissing;
    close(static_cast<int>(fd));
    f->open_path = normal;
    f->anonymous = false;
    return Lookup::kFound;
  }
  f->resolved.clear();
  int err = resolve_as(pid, start, &f->resolved, &f->open_path, &f->anonymous, &f->link_names);
  if (err != 0 && f->resolved.empty()) f->resolved = f->invoked;
  return err == 0 ? Lookup::kFound : Lookup::kMissing;
}

struct ChainLevel {
  std::string interpreter;
  std::string argument;
  bool has_argument = false;
};

// fnguard's own library, which the LD_PRELOAD of every protected exec names
// (it may itself lie in /tmp, as in a layer unpacked there): the path the
// wrapper and `fnguard run` write there, and where it resolves to.
struct OwnLibrary {
  std::string written;
  std::string resolved;
};
const OwnLibrary& own_library() {
  static const OwnLibrary own = [] {
    OwnLibrary o;
    o.written = enforcer_library_path();
    char buf[PATH_MAX];
    o.resolved = realpath(o.written.c_str(), buf) != nullptr ? std::string(buf) : o.written;
    return o;
  }();
  return own;
}

// Where the loader finds the library `name` (exec_format.h, LibraryList): a
// name with '/' as a path, a bare one in the first directory of
// `search_dirs` (':' or ';' separated; null: none) that holds it.
Lookup find_library(pid_t pid, ProcessCwd* cwd, const std::string& name,
                    const std::string* search_dirs, RunFile* f) {
  if (name.find('/') != std::string::npos) return resolve_file(pid, cwd, name, f);
  if (search_dirs == nullptr) return Lookup::kMissing;
  size_t start = 0;
  while (start <= search_dirs->size()) {
    size_t end = search_dirs->find_first_of(":;", start);
    if (end == std::string::npos) end = search_dirs->size();
    if (end > start) {
      Lookup found =
          resolve_file(pid, cwd, search_dirs->substr(start, end - start) + "/" + name, f);
      if (found != Lookup::kMissing) return found;
    }
    start = end + 1;
  }
  return Lookup::kMissing;
}

// Absolute directories ("..": none) that a running supervisor has found
// outside every writable location, existing or not: every exec of a Lambda
// function carries the same eight in LD_LIBRARY_PATH, ~13 us to resolve
// each time. Where they lead, or that one appears, can change only by
// writing outside the writable locations (read-only in Lambda; refused by
// Landlock under files.write default deny; and with default allow such
// places are not known as writable anyway), which would equally defeat the
// check between the decision and the loader's search. Set by the
// supervisor thread around a decision; null elsewhere (tests and
// benchmarks that decide with changing images).
thread_local std::vector<std::string>* t_clean_dirs = nullptr;
constexpr size_t kMaxCleanDirs = 64;

// exec_from_writable for where the loader and iconv look for code
// (exec_format.h, SearchPath): every LD_LIBRARY_PATH and GCONV_PATH entry of
// the environment, or, given `scan` (the loader run as a program), its
// --library-path values. A directory in a writable location is a violation
// naming it, whether or not it holds a library yet.
void check_search_dirs(const image::View& image, pid_t pid, ProcessCwd* cwd, const LibraryEnv& env,
                       const LoaderScan* scan, std::vector<Candidate>* out) {
  auto check = [&](const char* list, SearchPath kind, const char* reason) {
    for_each_search_dir(list, kind, [&](const SearchDir& d) {
      if (d.kind == SearchDirKind::kOrigin) return true;
      std::string dir(d.dir, d.length);
      if (d.kind == SearchDirKind::kUnexpanded) {
        Candidate c;
        c.decision = writable_decision(image, RunFile{});
        c.decision.verdict = image::Verdict::kDeny;
        c.target = dir;
        c.reason = kUnexpandedDirReason;
        out->push_back(std::move(c));
        return true;
      }
      const bool cacheable = t_clean_dirs != nullptr && !dir.empty() && dir[0] == '/' &&
                             !has_dotdot_component(dir.data(), dir.size());
      if (cacheable &&
          std::find(t_clean_dirs->begin(), t_clean_dirs->end(), dir) != t_clean_dirs->end()) {
        return true;
      }
      RunFile f;
      Lookup found = resolve_file(pid, cwd, dir, &f);
      if (found == Lookup::kNoCwd) {
        out->push_back(unverifiable(image, false, dir,
                                    "the working directory a library search path entry is "
                                    "relative to cannot be read"));
        return false;
      }
      // Missing: decided by where it would be (resolve_file), as it may be
      // made after the exec.
      if (f.resolved.empty()) return true;  // too long to be a path: the loader finds nothing
      Candidate c;
      c.decision = writable_decision(image, f);
      if (c.decision.verdict != image::Verdict::kDeny) {
        if (cacheable && t_clean_dirs->size() < kMaxCleanDirs) {
          t_clean_dirs->push_back(dir);
        }
        return true;
      }
      c.target = f.resolved;
      c.invoked = f.invoked;
      c.reason = reason;
      out->push_back(std::move(c));
      return true;
    });
  };
  if (scan != nullptr) {
    for (size_t i = 0; i < scan->value_count; ++i) {
      if (scan->values[i].option == LoaderOption::kLibraryPath) {
        check(scan->values[i].value, SearchPath::kLibrary, kLibraryPathOptionReason);
      }
    }
    return;
  }
  if (env.search_unread) {
    out->push_back(unverifiable(image, false, "LD_LIBRARY_PATH",
                                "a library search path in the exec's environment is too long to "
                                "read"));
  }
  for (const std::string& list : env.library_paths) {
    check(list.c_str(), SearchPath::kLibrary, kLibraryPathEnvReason);
  }
  for (const std::string& list : env.gconv_paths) {
    check(list.c_str(), SearchPath::kGconv, kGconvPathReason);
  }
}

// exec_from_writable for the libraries the loader loads into the program
// besides its own: the environment's LD_PRELOAD and LD_AUDIT entries, or,
// given `scan` (the loader run as a program), its --preload and --audit
// values; bare names along --library-path, else LD_LIBRARY_PATH.
void check_libraries(const image::View& image, pid_t pid, ProcessCwd* cwd, const LibraryEnv& env,
                     const LoaderScan* scan, std::vector<Candidate>* out) {
  if (image.control(image::Control::kExecFromWritable).mode == image::Mode::kOff) return;
  // The last LD_LIBRARY_PATH counts, as in the loader.
  const std::string* search = env.library_paths.empty() ? nullptr : &env.library_paths.back();
  std::string from_option;
  if (scan != nullptr) {
    for (size_t i = 0; i < scan->value_count; ++i) {
      if (scan->values[i].option == LoaderOption::kLibraryPath) {
        from_option = scan->values[i].value;
        search = &from_option;
      }
    }
  }
  auto check_list = [&](const char* list, LibraryList kind, const char* reason) {
    for_each_library(list, kind, [&](const char* entry, size_t length) {
      const OwnLibrary& own = own_library();
      // Ours as the wrapper wrote it: no look-up (every protected exec has it).
      if (own.written.size() == length && memcmp(own.written.data(), entry, length) == 0) {
        return true;
      }
      RunFile lib;
      Lookup found = find_library(pid, cwd, std::string(entry, length), search, &lib);
      if (found == Lookup::kNoCwd) {
        out->push_back(unverifiable(image, false, std::string(entry, length),
                                    "the working directory a library to preload is relative to "
                                    "cannot be read"));
        return false;
      }
      if (found == Lookup::kMissing || lib.resolved == own.resolved) return true;
      Candidate c;
      c.decision = writable_decision(image, lib);
      c.target = lib.resolved;
      c.invoked = lib.invoked;
      c.reason = reason;
      out->push_back(std::move(c));
      return true;
    });
  };
  if (scan == nullptr) {
    for (const std::string& list : env.preload) {
      check_list(list.c_str(), LibraryList::kPreload, kPreloadEnvReason);
    }
    for (const std::string& list : env.audit) {
      check_list(list.c_str(), LibraryList::kAudit, kAuditEnvReason);
    }
    check_search_dirs(image, pid, cwd, env, nullptr, out);
    return;
  }
  for_each_loader_list(*scan, check_list);
  check_search_dirs(image, pid, cwd, env, scan, out);
}

// The program the dynamic loader `loader` runs, given its argument vector.
void check_loader_program(const image::View& image, image::Phase phase, pid_t pid, ProcessCwd* cwd,
                          LoaderKind kind, const RunFile& loader,
                          const std::vector<std::string>& args, bool complete,
                          const LibraryEnv& env, std::vector<Candidate>* out) {
  const bool exec_on = image.control(image::Control::kProcessExec).mode != image::Mode::kOff;
  std::vector<const char*> argp;
  for (const std::string& a : args) argp.push_back(a.c_str());
  LoaderScan scan = scan_loader_args(kind, argp.data(), argp.size(), complete);
  const char* problem = nullptr;
  RunFile program;
  if (scan.run == LoaderRun::kProgram && scan.values_overflow) {
    problem = "the dynamic loader is given too many library options to check";
  }
  switch (problem != nullptr ? LoaderRun::kUnknownOption : scan.run) {
    case LoaderRun::kNoProgram:
      return;
    case LoaderRun::kUnknownOption:
      if (problem == nullptr)
        problem = "the dynamic loader is given an option fnguard does not know";
      break;
    case LoaderRun::kTruncated:
      problem =
          "the dynamic loader's arguments before its program cannot all be read (more than 64, "
          "or one of PATH_MAX bytes or more)";
      break;
    case LoaderRun::kProgram: {
      const std::string& name = args[scan.index];
      if (kind == LoaderKind::kGlibc && name.find('/') == std::string::npos) {
        problem = "the dynamic loader would look its program up by name";
        break;
      }
      Lookup found = name.empty() ? Lookup::kMissing : resolve_file(pid, cwd, name, &program);
      if (found == Lookup::kMissing) return;  // the loader fails: nothing runs
      if (found == Lookup::kNoCwd) {
        problem = "the working directory the loader's program is relative to cannot be read";
        break;
      }
      if (loader_kind(program.resolved.c_str()) != LoaderKind::kNone ||
          loader_kind(program.invoked.c_str()) != LoaderKind::kNone) {
        problem = "the dynamic loader would load another loader";
      }
      break;
    }
  }
  if (problem != nullptr) {
    Candidate c = unverifiable(image, exec_on, loader.resolved, problem);
    c.loader = loader.resolved;
    out->push_back(std::move(c));
    return;
  }
  Candidate c;
  c.target = program.resolved;
  c.invoked = program.invoked;
  c.loader = loader.resolved;
  c.decision = decide_file(image, program, phase);
  c.reason = "run through the dynamic loader";
  out->push_back(c);
  c.decision = writable_decision(image, program);
  c.reason = "the program run by the dynamic loader lies in a writable location";
  out->push_back(std::move(c));
  check_libraries(image, pid, cwd, env, &scan, out);
}

// Follows the "#!" chain from `first` (as deep as the kernel does) and the
// dynamic loader at its end, adding a candidate for each file that runs.
void check_what_runs(const image::View& image, image::Phase phase, pid_t pid, const RunFile& first,
                     const ArgvReader& read_argv, const EnvReader& env_has, const LibraryEnv& env,
                     std::vector<Candidate>* out) {
  const image::Mode exec_mode = image.control(image::Control::kProcessExec).mode;
  const image::Mode writable_mode = image.control(image::Control::kExecFromWritable).mode;
  if (exec_mode == image::Mode::kOff && writable_mode == image::Mode::kOff) return;
  ProcessCwd cwd(pid);
  std::vector<ChainLevel> levels;
  RunFile current = first;
  constexpr size_t kMaxScriptDepth = 5;  // as elf_check.h: 5 scripts, then a program
  for (;;) {
    std::string head;
    int err = read_head(current.open_path, &head);
    if (err == EACCES) {
      // The kernel reads a "#!" line whatever the read permission; the
      // supervisor (without root) cannot. A file the process owns may name
      // a denied interpreter.
      bool exec_applies = exec_mode != image::Mode::kOff && has_deny_rules(image);
      struct stat st;
      if ((exec_applies || writable_mode != image::Mode::kOff) &&
          stat(current.open_path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
          static_cast<int64_t>(st.st_uid) == euid_of(pid)) {
        out->push_back(unverifiable(
            image, exec_applies, current.resolved,
            "the program cannot be read to check its #! line, and the caller could have "
            "written it"));
      }
      return;
    }
    char interpreter[kShebangBufferSize];
    char argument[kShebangBufferSize];
    bool has_argument = false;
    if (err != 0 ||
        !parse_shebang(reinterpret_cast<const uint8_t*>(head.data()), head.size(), interpreter,
                       sizeof interpreter, argument, sizeof argument, &has_argument)) {
      break;
    }
    if (levels.size() == kMaxScriptDepth) return;  // the kernel refuses (ELOOP)
    levels.push_back({interpreter, argument, has_argument});
    // The kernel opens the interpreter relative to the cwd.
    RunFile next;
    Lookup found = resolve_file(pid, &cwd, interpreter, &next);
    if (found == Lookup::kMissing) return;  // ENOENT: nothing runs
    if (found == Lookup::kNoCwd) {
      out->push_back(unverifiable(image, exec_mode != image::Mode::kOff, current.resolved,
                                  "the working directory a relative #! interpreter is opened "
                                  "in cannot be read"));
      return;
    }
    const bool nested = levels.size() > 1;
    image::Decision d = decide_file(image, next, phase);
    if (d.rule != image::kNoRule && d.verdict == image::Verdict::kDeny) {
      Candidate c;
      c.decision = d;
      c.target = next.resolved;
      c.invoked = next.invoked;
      c.reason = nested ? "the interpreter of a nested script is denied"
                        : "the script's interpreter is denied";
      out->push_back(std::move(c));
    }
    Candidate w;
    w.decision = writable_decision(image, next);
    w.target = next.resolved;
    w.invoked = next.invoked;
    w.reason = nested ? "the interpreter of a nested script lies in a writable location"
                      : "the script's interpreter lies in a writable location";
    out->push_back(std::move(w));
    current = std::move(next);
  }

  // By the name it was run as, or its own (musl's loader is its libc.so).
  LoaderKind kind = loader_kind(current.resolved.c_str());
  if (kind == LoaderKind::kNone) kind = loader_kind(current.invoked.c_str());
  if (kind == LoaderKind::kNone) return;
  // ldd: LD_TRACE_LOADED_OBJECTS in the exec's environment puts glibc's
  // loader in trace mode, which lists the libraries and runs nothing,
  // whatever the arguments say (exec_format.h). An environment that cannot
  // be read counts as without it: the program is decided.
  const char* trace = loader_trace_entry(kind);
  if (trace != nullptr && env_has && env_has(trace)) return;
  std::vector<std::string> argv;
  bool complete = true;
  int err = read_argv ? read_argv(&argv, &complete) : ENOSYS;
  if (err != 0) {
    Candidate c = unverifiable(image, exec_mode != image::Mode::kOff, current.resolved,
                               "the dynamic loader's argument list cannot be read");
    c.loader = current.resolved;
    out->push_back(std::move(c));
    return;
  }
  // At the end of a "#!" chain the kernel rebuilt the vector: the last
  // interpreter, its argument, ..., the script, then argv[1...].
  std::vector<std::string> args;
  if (!levels.empty()) {
    for (auto it = levels.rbegin(); it != levels.rend(); ++it) {
      args.push_back(it->interpreter);
      if (it->has_argument) args.push_back(it->argument);
    }
    args.push_back(first.invoked);
    for (size_t i = 1; i < argv.size(); ++i) args.push_back(std::move(argv[i]));
  } else {
    args = std::move(argv);
  }
  check_loader_program(image, phase, pid, &cwd, kind, current, args, complete, env, out);
}

}  // namespace

ExecVerdict decide_exec_request(const image::View& image, image::Phase phase,
                                const std::string& base_dir, const std::string& path,
                                const std::string& fd_path, pid_t pid, const ArgvReader& read_argv,
                                const EnvReader& env_has, const LibraryEnvReader& read_libraries) {
  ExecVerdict v;
  if (pid <= 0) pid = getpid();
  RunFile target;
  std::string start;
  if (!fd_path.empty()) {
    start = fd_path;
  } else {
    if (path.empty()) {
      v.allow = false;
      v.error = ENOENT;
      return v;
    }
    char normal[PATH_MAX];
    if (normalize_path(base_dir.empty() ? "/" : base_dir.c_str(), path.c_str(), normal,
                       sizeof(normal)) < 0) {
      v.allow = false;
      v.error = ENAMETOOLONG;
      return v;
    }
    target.invoked = normal;
    // What the kernel will open: the path as given (symbolic links, and ".."
    // after them), not its lexical normal form.
    start = path[0] == '/' ? path : base_dir + "/" + path;
  }
  if (int err = resolve_as(pid, start, &target.resolved, &target.open_path, &target.anonymous,
                           &target.link_names);
      err != 0) {
    // Answer the error ourselves: letting the kernel retry the lookup would
    // let a racing thread create the file in between.
    v.allow = false;
    v.error = err;
    v.target = target.invoked.empty() ? start : target.invoked;
    return v;
  }
  if (target.invoked.empty()) target.invoked = target.resolved;
  v.target = target.resolved;
  v.invoked = target.invoked;

  std::vector<Candidate> candidates;
  Candidate exec;
  exec.decision = decide_file(image, target, phase);
  exec.target = target.resolved;
  exec.invoked = target.invoked;
  candidates.push_back(exec);
  Candidate writable = exec;
  writable.decision = writable_decision(image, target);
  candidates.push_back(std::move(writable));
  LibraryEnv env;
  const bool libraries_apply =
      read_libraries && image.control(image::Control::kExecFromWritable).mode != image::Mode::kOff;
  if (libraries_apply && !read_libraries(&env)) {
    candidates.push_back(unverifiable(image, false, target.resolved,
                                      "the exec's environment cannot be read to find the "
                                      "libraries it has the loader preload"));
    env = LibraryEnv();
  }
  check_what_runs(image, phase, pid, target, read_argv, env_has, env, &candidates);
  if (libraries_apply) {
    ProcessCwd cwd(pid);
    check_libraries(image, pid, &cwd, env, nullptr, &candidates);
  }

  // One event per exec: the first decision that blocks, else the first
  // that reports.
  const Candidate* chosen = nullptr;
  for (const Candidate& c : candidates) {
    if (c.decision.blocks()) {
      chosen = &c;
      break;
    }
  }
  for (size_t i = 0; chosen == nullptr && i < candidates.size(); ++i) {
    if (candidates[i].decision.reports()) chosen = &candidates[i];
  }
  if (chosen != nullptr) {
    if (chosen->rule != nullptr) {
      v.rule = chosen->rule;
    } else {
      char name[128];
      image::rule_name(image, chosen->decision, name, sizeof(name));
      v.rule = name;
    }
    v.reported = true;
    v.decision = chosen->decision;
    v.target = chosen->target;
    v.invoked = chosen->invoked;
    v.reason = chosen->reason;
    v.loader = chosen->loader;
    if (chosen->decision.blocks()) {
      v.allow = false;
      v.error = EACCES;
    }
  }
  return v;
}

Result<std::unique_ptr<ExecSupervisor>> ExecSupervisor::start(int listener_fd, image::View image,
                                                              ExecSupervisorOptions options) {
  auto s = create(image, std::move(options));
  if (!s) {
    close(listener_fd);
    return s.error();
  }
  s.value()->attach(listener_fd);
  if (Status started = s.value()->start_thread(); !started) return started.error();
  return s;
}

Result<std::unique_ptr<ExecSupervisor>> ExecSupervisor::create(image::View image,
                                                               ExecSupervisorOptions options) {
  std::unique_ptr<ExecSupervisor> s(new ExecSupervisor());
  s->image_ = image;
  s->options_ = std::move(options);
  struct seccomp_notif_sizes sizes;
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) {
    return make_error(
        "cannot start exec supervision: the kernel does not report seccomp notification sizes",
        "run `fnguard doctor`; set FNGUARD_KERNEL=off to run without the kernel backstop");
  }
  // The kernel's structures may be larger than the ones we were built with.
  s->notif_size_ = std::max<uint16_t>(sizes.seccomp_notif, sizeof(struct seccomp_notif));
  s->resp_size_ = std::max<uint16_t>(sizes.seccomp_notif_resp, sizeof(struct seccomp_notif_resp));
  // Allocated here rather than on the thread: a thread's first allocation
  // creates a malloc arena, which is then not on the way of the first answer.
  s->notif_.resize(s->notif_size_);
  s->resp_.resize(s->resp_size_);
  size_t count = 0;
  const DeniedSyscall* table = denied_syscalls(&count);
  for (size_t i = 0; i < count; ++i) {
    int nr = seccomp_syscall_resolve_name(table[i].name);
    if (nr != __NR_SCMP_ERROR) s->refused_.push_back({nr, &table[i]});
  }
  s->stop_fd_ = eventfd(0, EFD_CLOEXEC);
  if (s->stop_fd_ < 0) {
    return make_error(std::string("cannot start exec supervision: eventfd: ") + strerror(errno));
  }
  return s;
}

void ExecSupervisor::attach(int listener_fd, pid_t first_pid) {
  // Linux 6.6+: wake the supervisor thread synchronously on the CPU of the
  // process that asked (it is blocked anyway), instead of through the
  // scheduler's run queue; roughly halves the round trip. Best effort.
  constexpr unsigned long kNotifSetFlags = _IOW('!', 4, uint64_t);  // SECCOMP_IOCTL_NOTIF_SET_FLAGS
  constexpr uint64_t kSyncWakeUp = 1;  // SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
  (void)ioctl(listener_fd, kNotifSetFlags, kSyncWakeUp);
  if (listener_ >= 0) close(listener_);
  listener_ = listener_fd;
  if (first_pid != 0) options_.first_pid = first_pid;
}

bool ExecSupervisor::serve_first(int timeout_ms) {
  if (listener_ < 0) return false;
  struct pollfd pfd = {listener_, POLLIN, 0};
  int n;
  do n = poll(&pfd, 1, timeout_ms);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return true;  // nothing yet: the thread will answer it
  if (pfd.revents & POLLIN) {
    receive_and_answer();
    return true;
  }
  return (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) == 0;
}

Status ExecSupervisor::start_thread(ListenerSource receive) {
  if (!receive && listener_ < 0) return make_error("exec supervision has no listener");
  try {
    thread_ = std::thread([this, receive = std::move(receive)] {
      if (receive) {
        auto [listener, pid] = receive(stop_fd_);
        if (listener < 0) return;
        attach(listener, pid);
      }
      serve();
    });
  } catch (const std::system_error& e) {
    return make_error(std::string("cannot start exec supervision: ") + e.what());
  }
  return Ok{};
}

ExecSupervisor::~ExecSupervisor() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    ssize_t n = write(stop_fd_, &one, sizeof(one));
    (void)n;
    thread_.join();
  }
  if (stop_fd_ >= 0) close(stop_fd_);
  if (listener_ >= 0) close(listener_);
}

ExecSupervisorStats ExecSupervisor::stats() const {
  return ExecSupervisorStats{decided_.load(), allowed_.load(), blocked_.load(), gone_.load(),
                             stopped_.load()};
}

void ExecSupervisor::receive_and_answer() {
  memset(notif_.data(), 0, notif_.size());  // the kernel insists on zeroed input
  if (ioctl(listener_, SECCOMP_IOCTL_NOTIF_RECV, notif_.data()) != 0) {
    // ENOENT: the process died before we read it. EINTR: the next poll retries.
    return;
  }
  memset(resp_.data(), 0, resp_.size());
  handle(notif_.data(), resp_.data());
}

std::string ExecSupervisor::run() {
  for (;;) {
    struct pollfd fds[2] = {{listener_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    int n = poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      // EINVAL when RLIMIT_NOFILE fell below 2 (someone lowered it), ENOMEM.
      return std::string("poll: ") + strerror(errno);
    }
    if (fds[1].revents != 0) return {};
    if (fds[0].revents & POLLIN) {
      receive_and_answer();
      continue;
    }
    // POLLHUP: every process using the filter has exited.
    if (fds[0].revents & POLLHUP) return {};
    if (fds[0].revents & (POLLERR | POLLNVAL)) return "the listener failed";
  }
}

void ExecSupervisor::serve() {
  std::string why;
  try {
    why = run();
  } catch (const std::exception& e) {
    why = e.what();
  }
  // Whatever ended the loop, nobody answers from here on: close the
  // listener so that the kernel fails every pending and later notified call
  // (execs, refused calls) with ENOSYS instead of leaving it waiting. The
  // destructor reads listener_ only after joining this thread.
  close(listener_);
  listener_ = -1;
  if (why.empty()) return;
  stopped_.store(true);
  if (!options_.emit) return;
  try {
    events::LifecycleEvent ev("enforcement");
    auto& w = ev.json();
    w.field("level", "error");
    std::string message = "exec supervision stopped (" + why +
                          "): every later exec and refused call in the protected processes fails "
                          "with ENOSYS";
    w.field("message", message.c_str());
    w.field("layer", "exec_supervision");
    options_.emit(ev.finish());
  } catch (const std::exception&) {
    // Nothing more to say it with; the listener is closed (fail closed).
  }
}

void ExecSupervisor::handle(void* notif_buf, void* resp_buf) {
  auto* notif = static_cast<struct seccomp_notif*>(notif_buf);
  auto* resp = static_cast<struct seccomp_notif_resp*>(resp_buf);
  resp->id = notif->id;
  const pid_t pid = static_cast<pid_t>(notif->pid);
  auto answer = [&](bool allow, int error) {
    if (allow) {
      resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
      resp->error = 0;
      allowed_.fetch_add(1, std::memory_order_relaxed);
    } else {
      resp->flags = 0;
      resp->error = -error;
      blocked_.fetch_add(1, std::memory_order_relaxed);
    }
    resp->val = 0;
    decided_.fetch_add(1, std::memory_order_relaxed);
    if (ioctl(listener_, SECCOMP_IOCTL_NOTIF_SEND, resp) != 0) {
      gone_.fetch_add(1, std::memory_order_relaxed);  // the process died meanwhile
    }
  };

  if (notif->data.nr != SYS_execve && notif->data.nr != SYS_execveat) {
    // The entry that refuses these arguments; or none, when the filter handed
    // the call over only because an id in it might be one of our threads
    // (denylist.h) and it is not: then it continues.
    uint64_t args[6];
    for (int i = 0; i < 6; ++i) args[i] = notif->data.args[i];
    SupervisorIds ids;
    ids.pid = getpid();
    ids.pgid = getpgrp();
    ids.is_thread = [](pid_t id) {
      // Signal 0 to our own thread `id` checks it exists and sends nothing.
      // Any answer but "no such thread" counts as ours: fail closed.
      return syscall(SYS_tgkill, getpid(), id, 0) == 0 || errno != ESRCH;
    };
    if (notif->data.nr == SYS_kill && static_cast<uint32_t>(args[0]) == 0) {
      pid_t own_session = getsid(0), caller_session = getsid(pid);
      ids.sid = own_session > 0 ? own_session : 0;
      ids.caller_sid = caller_session > 0 ? caller_session : 0;
    }
    const DeniedSyscall* first = nullptr;
    bool handed_over = false;
    for (const RefusedCall& call : refused_) {
      if (call.nr != notif->data.nr) continue;
      if (first == nullptr) first = call.entry;
      if (call_matches(*call.entry, args, ids)) {
        refuse(*call.entry, notif_buf, resp_buf);
        return;
      }
      handed_over |= supervisor_decides(*call.entry, args);
    }
    if (handed_over) {
      answer(true, 0);  // aimed at someone else (kill(0): see call_matches)
    } else if (first != nullptr) {
      refuse(*first, notif_buf, resp_buf);  // the filter refused it: so do we
    } else {
      answer(false, EPERM);  // not a call we asked to see: refuse
    }
    return;
  }

  if (!first_seen_ && pid == options_.first_pid) {
    first_seen_ = true;
    answer(true, 0);
    return;
  }

  const bool is_execveat = notif->data.nr == SYS_execveat;
  const char* syscall_name = is_execveat ? "execveat" : "execve";
  int dirfd = AT_FDCWD;
  uint64_t path_addr = notif->data.args[0];
  uint64_t argv_addr = notif->data.args[1];
  uint64_t envp_addr = notif->data.args[2];
  int flags = 0;
  if (is_execveat) {
    dirfd = static_cast<int>(notif->data.args[0]);
    path_addr = notif->data.args[1];
    argv_addr = notif->data.args[2];
    envp_addr = notif->data.args[3];
    flags = static_cast<int>(notif->data.args[4]);
  }

  const std::string proc = "/proc/" + std::to_string(pid);
  // Kept open until the decision: the argument vector is read through it
  // later, and a descriptor opened before the ID_VALID check below names the
  // memory of the process that asked, whatever happens to the pid after.
  UniqueFd mem(open((proc + "/mem").c_str(), O_RDONLY | O_CLOEXEC));
  if (mem.get() < 0) {
    if (ioctl(listener_, SECCOMP_IOCTL_NOTIF_ID_VALID, &notif->id) != 0) {
      gone_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    answer(false, EACCES);  // cannot see what it runs: fail closed
    return;
  }
  std::string path;
  int read_error = read_remote_string(mem.get(), path_addr, &path);
  // The memory we read belongs to the process that asked only if the
  // notification is still pending (no pid reuse in between).
  if (ioctl(listener_, SECCOMP_IOCTL_NOTIF_ID_VALID, &notif->id) != 0) {
    gone_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (read_error != 0) {
    answer(false, read_error);
    return;
  }

  std::string base_dir, fd_path;
  if (path.empty() && is_execveat && (flags & AT_EMPTY_PATH)) {
    fd_path = proc + "/fd/" + std::to_string(dirfd);
  } else if (!path.empty() && path[0] != '/') {
    base_dir = read_link(dirfd == AT_FDCWD ? proc + "/cwd" : proc + "/fd/" + std::to_string(dirfd));
    if (base_dir.empty()) {
      answer(false, dirfd == AT_FDCWD ? ENOENT : EBADF);
      return;
    }
  }
  image::Phase phase = options_.phase ? options_.phase() : image::Phase::kAny;
  const int mem_fd = mem.get();
  ArgvReader read_argv = [mem_fd, argv_addr](std::vector<std::string>* args, bool* complete) {
    read_remote_argv(mem_fd, argv_addr, args, complete);
    return 0;
  };
  EnvReader env_has = [mem_fd, envp_addr](const char* prefix) {
    return remote_env_has(mem_fd, envp_addr, prefix);
  };
  LibraryEnvReader read_libraries = [mem_fd, envp_addr](LibraryEnv* env) {
    return read_remote_library_env(mem_fd, envp_addr, env);
  };
  t_clean_dirs = &clean_dirs_;
  ExecVerdict v = decide_exec_request(image_, phase, base_dir, path, fd_path, pid, read_argv,
                                      env_has, read_libraries);
  t_clean_dirs = nullptr;
  if (v.reported && options_.emit) {
    std::string json = exec_event(image_, v.decision, v, pid, syscall_name, v.invoked);
    if (!json.empty()) options_.emit(std::move(json));
  }
  answer(v.allow, v.error);
}

}  // namespace fnguard::kernel

namespace fnguard::kernel {

void ExecSupervisor::refuse(const DeniedSyscall& call, void* notif_buf, void* resp_buf) {
  auto* notif = static_cast<struct seccomp_notif*>(notif_buf);
  auto* resp = static_cast<struct seccomp_notif_resp*>(resp_buf);
  const pid_t pid = static_cast<pid_t>(notif->pid);
  resp->id = notif->id;
  resp->flags = 0;
  resp->error = -call.error;
  resp->val = 0;
  decided_.fetch_add(1, std::memory_order_relaxed);
  blocked_.fetch_add(1, std::memory_order_relaxed);
  // Compose the event before answering: /proc/<pid> still describes the caller.
  std::string json;
  if (options_.emit) {
    char buf[2048];
    events::JsonWriter w(buf, sizeof(buf));
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char when[32];
    events::format_utc(ts.tv_sec, static_cast<int32_t>(ts.tv_nsec), when);
    std::string rule = std::string("kernel.denylist.") + call.name;
    w.begin_object();
    w.field_int("fnguard", 1);
    w.field("time", when);
    w.field("kind", "violation");
    w.field("control", "kernel.denylist");
    w.field("action", "blocked");
    w.field("mode", "block");
    w.field("rule", rule.c_str());
    w.field("target", call.name);
    w.begin_object("detail");
    w.field("syscall", call.name);
    w.field("reason", call.reason);
    // Only the arguments the entry looks at: the others hold whatever the
    // registers held, and would make every repeat a new event (no folding).
    w.field_int("arg0", static_cast<int64_t>(notif->data.args[0]));
    switch (call.match) {
      case ArgMatch::kSocketRaw:
      case ArgMatch::kCommand:
      case ArgMatch::kFlag:
      case ArgMatch::kLimitsSupervisor:  // the resource; arg2 is a pointer
        w.field_int("arg1", static_cast<int64_t>(notif->data.args[1]));
        break;
      case ArgMatch::kCommandWithValue:
      case ArgMatch::kOwnerIsSupervisor:
        w.field_int("arg1", static_cast<int64_t>(notif->data.args[1]));
        w.field_int("arg2", static_cast<int64_t>(notif->data.args[2]));
        break;
      default:
        break;
    }
    w.end_object();
    write_process(w, pid);
    w.end_object();
    if (w.ok()) json.assign(w.data(), w.length());
  }
  // Emitted before the answer, so the event exists by the time the caller
  // sees its error (as for exec decisions).
  if (!json.empty()) options_.emit(std::move(json));
  if (ioctl(listener_, SECCOMP_IOCTL_NOTIF_SEND, resp) != 0)
    gone_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace fnguard::kernel
