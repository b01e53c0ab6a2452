// Exec supervision through seccomp user notification. Every execve/execveat
// of a protected process (from libc, a raw syscall, inline assembly, a static
// binary, fexecve of a memfd) stops in the kernel until the supervisor thread
// here has decided it with the same image and the same decide functions as the
// in-process enforcer (image::decide_exec, image::is_writable_location):
// allowed calls continue (SECCOMP_USER_NOTIF_FLAG_CONTINUE), blocked ones fail
// with EACCES, and every violation is an event with "enforcement":"seccomp".
//
// Limits, stated plainly:
// - Time of check, time of use: the path is read from the process's memory
//   (/proc/<pid>/mem) and the file is hashed by the supervisor; CONTINUE then
//   lets the kernel read the path again. Another thread of the process can
//   change the path string, or the file can be replaced, in between. This is
//   the documented limit of user notification (seccomp_unotify(2)). Landlock's
//   execute restriction, where present, is enforced by the kernel itself and
//   has no such window; the preload's check is a third, independent look.
// - pid reuse: a notification names a pid; every answer is preceded by
//   SECCOMP_IOCTL_NOTIF_ID_VALID after the memory was read, so a process that
//   died and whose pid was reused is not mistaken for the one that asked.
// - Fail closed: execs wait until answered. If the supervisor thread or the
//   whole fnguard process dies, the listener closes and the kernel fails every
//   pending and later execve with ENOSYS: nothing runs undecided. The thread
//   closes the listener itself whenever it stops serving for any reason but
//   the destructor (poll failing under a lowered RLIMIT_NOFILE, say), and says
//   so in an "enforcement" lifecycle event, rather than leave execs waiting
//   for an answer nobody will give.
// - Refused calls that reach the supervisor (FilterSpec::notify_denylist) are
//   answered with their errno and an event; a call the filter handed over only
//   because it may name one of the supervisor's threads (denylist.h) and that
//   does not, continues.
// - The first exec of the launched process (the command itself) is allowed
//   without a decision: it is fnguard's own exec, the one the user asked for.
// - What runs is decided, not only the file named: each interpreter of a
//   chain of "#!" scripts (explicit deny rules and exec_from_writable, as in
//   the preload), and the program the dynamic loader runs when the loader
//   itself is exec'd (`ld-linux-x86-64.so.2 PROG`); for that the argument
//   vector is read from the process's memory too, only when the program is
//   the loader, as far as the program (at most 64 arguments, each shorter
//   than PATH_MAX; later ones do not matter), and the environment is
//   searched for glibc's LD_TRACE_LOADED_OBJECTS (ldd: the loader lists the
//   program's libraries and runs nothing; at most 16384 entries, only the
//   first bytes of each; one that cannot be read counts as absent). Those
//   reads share the time-of-check window above. Arguments before the
//   program that cannot be read, an unknown loader option, or a "#!" file
//   the supervisor cannot read but the process owns make the exec
//   unverifiable: refused in block mode ("<control>.unverifiable").
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "fnguard/common/result.h"
#include "fnguard/image/decide.h"
#include "fnguard/image/format.h"

namespace fnguard::kernel {

struct ExecSupervisorOptions {
  // Receives each event (one JSON object, no newline), on the supervisor
  // thread: the callee synchronises with its own writers.
  std::function<void(std::string json)> emit;
  // The current lifecycle phase (from the context page); kAny when unset.
  std::function<image::Phase()> phase;
  // The launched process: its first exec is the command itself, allowed.
  pid_t first_pid = 0;
};

struct DeniedSyscall;

// A denylist entry, by this architecture's syscall number
// (FilterSpec::notify_denylist hands its calls to the supervisor).
struct RefusedCall {
  int nr;
  const DeniedSyscall* entry;
};

struct ExecSupervisorStats {
  uint64_t decided = 0;  // notifications answered
  uint64_t allowed = 0;
  uint64_t blocked = 0;
  uint64_t gone = 0;     // the process died or the pid was reused before the answer
  bool stopped = false;  // the thread stopped serving before the destructor asked
};

// The outcome of one decision, for callers that test or benchmark it.
struct ExecVerdict {
  bool allow = true;
  int error = 0;       // errno answered when !allow
  std::string target;  // the resolved path, or "/memfd:name (deleted)"
  std::string rule;    // rule name when reported, else empty
  bool reported = false;
  image::Decision decision;  // the decision reported (valid when reported)
  // For the event's detail (empty when not applicable): the path as the
  // process named it, why the decision was made on another file than the one
  // exec'd (an interpreter, the loader's program), and the dynamic loader
  // that runs `target`.
  std::string invoked;
  std::string reason;
  std::string loader;
};

// Reads the argument vector of the exec being decided (argv[0] first) into
// `args`. Sets `complete` to false when only the first arguments were read
// (more than fit, or the next one could not be read in full). Returns 0, or
// an errno when it cannot be read at all.
using ArgvReader = std::function<int(std::vector<std::string>* args, bool* complete)>;

// Tells whether the environment of the exec being decided holds an entry
// that starts with `prefix` ("NAME="). False when it holds none or cannot
// be read.
using EnvReader = std::function<bool(const char* prefix)>;

// What the exec's environment tells the dynamic loader to load besides the
// program's own libraries (exec_format.h, LibraryList): every LD_PRELOAD and
// LD_AUDIT entry's value, and the last LD_LIBRARY_PATH (the one the loader
// uses) for bare names; and where the loader and iconv look for code.
struct LibraryEnv {
  std::vector<std::string> preload;
  std::vector<std::string> audit;
  // Every LD_LIBRARY_PATH and GCONV_PATH entry's value, in order (the last
  // LD_LIBRARY_PATH is the one the loader searches for bare names), for the
  // directories exec_from_writable decides (exec_format.h, SearchPath);
  // `search_unread` when one could not be read in full (PATH_MAX bytes or more).
  std::vector<std::string> library_paths;
  std::vector<std::string> gconv_paths;
  bool search_unread = false;
};

// Fills `env` from the exec being decided. Returns false when the
// environment cannot be read in full (its pointers, or an LD_PRELOAD or
// LD_AUDIT entry): the libraries are then unknown and the exec is
// unverifiable for exec_from_writable.
using LibraryEnvReader = std::function<bool(LibraryEnv* env)>;

class ExecSupervisor {
 public:
  // Takes ownership of `listener_fd` and starts the thread. `image` must
  // outlive the supervisor (it is the sealed image the launcher holds).
  static Result<std::unique_ptr<ExecSupervisor>> start(int listener_fd, image::View image,
                                                       ExecSupervisorOptions options);
  // The same in steps, for the launcher's cold start (Backstop::on_started):
  // create() prepares everything but the thread; attach() hands over the
  // listener (taking ownership, also on failure); serve_first() answers
  // the first notification on the calling thread, which is the launched
  // child's exec of the command, so that the child does not wait for a
  // thread to be created; start_thread() then starts the thread for every
  // later one. Destroying a supervisor whose thread never started closes
  // the listener (later execs fail with ENOSYS: fail closed).
  static Result<std::unique_ptr<ExecSupervisor>> create(image::View image,
                                                        ExecSupervisorOptions options);
  // `first_pid` replaces ExecSupervisorOptions::first_pid when not 0.
  void attach(int listener_fd, pid_t first_pid = 0);
  // Waits up to `timeout_ms` for one notification and answers it. Returns
  // false when the listener hung up (no process uses the filter any more).
  bool serve_first(int timeout_ms);
  // Starts the thread that answers every notification on the attached
  // listener. With `receive`, for a launch that suspends its caller until
  // the child's exec (vfork), the thread starts before there is a listener:
  // it first calls `receive(stop_fd)`, which waits for the child to hand
  // over its listener (or for `stop_fd` to become readable: the supervisor
  // is being destroyed) and returns it with the child's pid, or -1 when
  // there is none; the thread then answers the command's own exec first.
  using ListenerSource = std::function<std::pair<int, pid_t>(int stop_fd)>;
  Status start_thread(ListenerSource receive = nullptr);

  // Stops the thread and closes the listener: from then on the protected
  // processes' execs fail with ENOSYS (fail closed).
  ~ExecSupervisor();

  ExecSupervisorStats stats() const;

 private:
  ExecSupervisor() = default;
  // Serves notifications until the listener hangs up or stop_fd_ is
  // written; returns why it stopped otherwise (empty when it was asked to).
  std::string run();
  // run(), then the listener is closed whatever happened (fail closed).
  void serve();
  void handle(void* notif, void* resp);
  // Receives and answers one pending notification.
  void receive_and_answer();
  void refuse(const DeniedSyscall& entry, void* notif, void* resp);

  int listener_ = -1;
  int stop_fd_ = -1;
  std::vector<uint8_t> notif_, resp_;  // sized by the kernel
  image::View image_;
  ExecSupervisorOptions options_;
  uint16_t notif_size_ = 0, resp_size_ = 0;
  bool first_seen_ = false;
  std::vector<RefusedCall> refused_;
  // Search path directories found outside every writable location (see
  // check_search_dirs in the .cc): this thread's, for this image.
  std::vector<std::string> clean_dirs_;
  std::thread thread_;
  std::atomic<uint64_t> decided_{0}, allowed_{0}, blocked_{0}, gone_{0};
  std::atomic<bool> stopped_{false};
};

// Decides an exec of `path` (as process `pid` named it) relative to
// `base_dir`, or of the open file `fd_path` (/proc/<pid>/fd/N) when path is
// empty. Paths are resolved as `pid` sees them ("/proc/self" is its own);
// pid 0 means the caller. `read_argv` and `env_has` are called only when the
// program that runs is the dynamic loader; without `read_argv` that exec is
// unverifiable, without `env_has` its environment counts as holding
// nothing. `read_libraries` gives the libraries the environment has the
// loader load (exec_from_writable decides each; fnguard's own library, by
// its resolved path, is skipped); without it there are none. Exposed for
// tests and benchmarks; the thread uses it too.
ExecVerdict decide_exec_request(const image::View& image, image::Phase phase,
                                const std::string& base_dir, const std::string& path,
                                const std::string& fd_path, pid_t pid = 0,
                                const ArgvReader& read_argv = nullptr,
                                const EnvReader& env_has = nullptr,
                                const LibraryEnvReader& read_libraries = nullptr);

}  // namespace fnguard::kernel
