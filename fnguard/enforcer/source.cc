// Source providers for events.
//
// Python (CPython): the C API is looked up once with dlsym(RTLD_DEFAULT) at
// start-up, and the location is read only when an event is written, never
// on the allow path. There is no audit hook (PEP 578): once any hook exists
// CPython builds an argument object for every audited operation, copying
// each module's bytecode for "marshal.loads", ~0.5 ms of a cold start and
// more with more imports. Frames must only be read with the GIL held, and
// Python releases the GIL around the system calls we hook (open, connect,
// fork/exec). So, at report time:
// - the calling thread holds the GIL (a C extension calling libc directly,
//   or a fork child of a thread that held it): the frames are read at once;
// - it has released it: the process's helper thread (started by the first
//   such report, then kept, with one Python thread state made once) takes
//   the GIL and reads the calling thread's frames while the calling thread
//   waits, at most kHelperWait. A helper, not the calling thread itself, so
//   that a GIL that cannot be had (another thread holds it and waits on
//   something the calling thread holds, or the call came from a signal
//   handler in the middle of Python's own GIL hand-off) costs a bounded
//   wait and an event without a Python line, never a deadlock;
// - a vfork child (CPython's subprocess runs execve() in one, sharing the
//   parent's memory): it may not start a thread; it asks the parent's
//   helper when there is one, else, when the parent has no other thread
//   (nothing else can hold the GIL; the parent thread is suspended in
//   vfork), takes the GIL itself for the walk.
// Standard-library and frozen frames are skipped, so the event names the
// user's line that called pathlib/shutil/subprocess rather than their
// internals.
//
// Native: dladdr() on the hook's return address gives the object file and,
// when the symbol is exported, the function name. Calls from inside
// libfnguard.so itself (a helper called the report) are not reported as a
// source, because they would name the enforcer rather than the program.
//
// Limits: Python source needs CPython 3.9+ in the executable's symbol table
// (python3 itself; not a libpython dlopen'ed later), and the main
// interpreter. A reported call from a GIL-released thread waits for the
// helper, typically tens of microseconds, up to kHelperWait when another
// thread keeps the GIL. A Python process that reported such a call has one
// more thread (the helper, blocked on a futex; 256 KB of stack). In a fork
// child (os.fork, multiprocessing's fork workers) a call made with the GIL
// released has no Python line: the child's GIL may belong to a thread that
// did not survive the fork, and a thread started there could block on locks
// the fork copied held. Node: node_source() (source_node.cc) when it is
// linked in; it is referenced weakly so this file builds without it.
#include "fnguard/enforcer/source.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "fnguard/enforcer/runtime.h"

// Weak: source_node.cc is optional at link time.
namespace fnguard::enforcer {
__attribute__((weak)) bool node_source(char* file, size_t file_cap, int* line, char* function,
                                       size_t function_cap);
}

namespace fnguard::enforcer::source {
namespace {

// ---- Fork children -----------------------------------------------------------
//
// Between fork and exec (libuv's and CPython's spawn paths, posix_spawn's
// vfork-like clone) only async-signal-safe work is safe: the JavaScript
// engine and the dynamic loader may hold locks that no thread will release
// in the child. A fork child is known by the atfork handler; a vfork/clone
// child (no handlers run, memory shared with the parent) by a pid that
// differs from g_pid, the pid of the process whose memory this is.

std::atomic<long> g_pid{0};
std::atomic<bool> g_fork_child{false};

void reset_python_helper();  // below: the helper thread and its request are not the child's

void on_fork_child() {
  g_fork_child.store(true, std::memory_order_relaxed);
  g_pid.store(syscall(SYS_getpid), std::memory_order_relaxed);
  reset_python_helper();
}

bool in_vfork_child() { return syscall(SYS_getpid) != g_pid.load(std::memory_order_relaxed); }

bool in_fork_child() { return g_fork_child.load(std::memory_order_relaxed) || in_vfork_child(); }

// Threads of process `pid` (/proc/PID/stat field 20), or -1. Raw system
// calls: this runs inside hooks and in vfork children.
long thread_count(long pid) {
  char path[48];
  std::snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  int fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC));
  if (fd < 0) return -1;
  char buf[512];
  long n = syscall(SYS_read, fd, buf, sizeof buf - 1);
  syscall(SYS_close, fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so
  // count fields from the last ')'. Field 20 is the 18th after it.
  const char* p = std::strrchr(buf, ')');
  for (int field = 2; p != nullptr && field < 20; ++field) p = std::strchr(p + 1, ' ');
  return p != nullptr ? std::strtol(p + 1, nullptr, 10) : -1;
}

// ---- Python ---------------------------------------------------------------

struct PythonApi {
  int (*is_initialized)();
  int (*is_finalizing)();  // Py_IsFinalizing (3.13+) or _Py_IsFinalizing; may be null
  int (*gil_check)();
  void* (*this_thread_state)();  // PyGILState_GetThisThreadState (no GIL needed)
  int (*gil_ensure)();           // PyGILState_Ensure
  void (*gil_release)(int);      // PyGILState_Release
  void* (*main_interpreter)();   // PyInterpreterState_Main
  void* (*thread_state_new)(void*);     // PyThreadState_New
  void (*acquire_thread)(void*);        // PyEval_AcquireThread
  void (*release_thread)(void*);        // PyEval_ReleaseThread
  const unsigned long* version;         // Py_Version (PY_VERSION_HEX), 3.11+; may be null
  void* (*get_frame)();          // PyEval_GetFrame: the current thread's, borrowed
  void* (*thread_frame)(void*);  // PyThreadState_GetFrame: a thread's, new reference
  int (*frame_line)(void*);
  void* (*frame_code)(void*);
  void* (*frame_back)(void*);
  void* (*get_attr)(void*, const char*);
  void* (*get_attr_obj)(void*, void*);     // PyObject_GetAttr
  void* (*intern)(const char*);            // PyUnicode_InternFromString
  const char* (*as_utf8)(void*);
  void (*inc_ref)(void*);
  void (*dec_ref)(void*);
  void (*err_fetch)(void**, void**, void**);
  void (*err_restore)(void*, void*, void*);
};

PythonApi g_python;
bool g_python_present = false;

// A Python location, as written into an event.
struct PythonLocation {
  int line;
  char file[320];
  char function[96];
};

// Set on the helper thread: its own calls are never attributed.
__attribute__((tls_model("initial-exec"))) thread_local bool t_in_python_walk;

void copy_text(char* out, size_t cap, const char* in) {
  size_t n = in != nullptr ? strnlen(in, cap - 1) : 0;
  if (n > 0) std::memcpy(out, in, n);
  out[n] = '\0';
}

// The attribute names read on every captured frame, as interned str objects
// made once (GIL held; kept for the process's life): PyObject_GetAttr with
// them spares building a str from a C string per lookup. (Main-interpreter
// objects: a process that runs isolated sub-interpreters would want one set
// per interpreter.)
enum AttrName { kCoFilename, kCoQualname, kCoName, kAttrNames };
void* g_attr_names[kAttrNames] = {};
const char* const kAttrNameText[kAttrNames] = {"co_filename", "co_qualname", "co_name"};

void* attr_name(AttrName which) {
  if (g_attr_names[which] == nullptr && g_python.intern != nullptr) {
    g_attr_names[which] = g_python.intern(kAttrNameText[which]);
  }
  return g_attr_names[which];
}

// Copies a str attribute of `object` into out. GIL held.
bool python_str_attr(void* object, AttrName which, char* out, size_t cap) {
  void* name = g_python.get_attr_obj != nullptr ? attr_name(which) : nullptr;
  void* value = name != nullptr ? g_python.get_attr_obj(object, name)
                                : g_python.get_attr(object, kAttrNameText[which]);
  if (value == nullptr) return false;
  const char* text = g_python.as_utf8(value);
  bool ok = text != nullptr;
  if (ok) copy_text(out, cap, text);
  g_python.dec_ref(value);
  return ok;
}

// Interpreter internals and the standard library are not where a user's
// call comes from: "<frozen importlib._bootstrap>", /usr/lib/python3.11/...
bool is_library_file(const char* file) {
  if (file[0] == '<') return true;
  if (std::strstr(file, "/site-packages/") != nullptr ||
      std::strstr(file, "/dist-packages/") != nullptr) {
    return false;  // third-party code is the user's responsibility: report it
  }
  return std::strstr(file, "/lib/python3") != nullptr;
}

// Fills `out` from the innermost frame that is not library code (or the
// innermost one when all are), starting at `frame` (a new reference, which
// this consumes). GIL held. At most kMaxFrames are read: an import's own
// reads sit under a dozen or more library frames (nested imports); a user
// frame further out than that is not named (the innermost frame is).
// Any exception raised here is dropped; one already in flight is kept.
constexpr int kMaxFrames = 16;
bool walk_frames(void* frame, PythonLocation* out) {
  void *type = nullptr, *value = nullptr, *traceback = nullptr;
  g_python.err_fetch(&type, &value, &traceback);
  bool have = false;
  void* current = frame;
  for (int depth = 0; current != nullptr && depth < kMaxFrames; ++depth) {
    void* code = g_python.frame_code(current);  // new reference
    if (code == nullptr) break;
    char file[sizeof out->file];
    bool ok = python_str_attr(code, kCoFilename, file, sizeof file);
    if (ok && (!have || !is_library_file(file))) {
      out->line = g_python.frame_line(current);
      std::memcpy(out->file, file, sizeof file);
      if (!python_str_attr(code, kCoQualname, out->function, sizeof out->function) &&
          !python_str_attr(code, kCoName, out->function, sizeof out->function)) {
        out->function[0] = '\0';
      }
      have = true;
    }
    g_python.dec_ref(code);
    if (have && !is_library_file(out->file)) break;
    void* back = g_python.frame_back(current);  // new reference
    g_python.dec_ref(current);
    current = back;
  }
  if (current != nullptr) g_python.dec_ref(current);
  void *t2 = nullptr, *v2 = nullptr, *tb2 = nullptr;
  g_python.err_fetch(&t2, &v2, &tb2);  // whatever the walk raised
  for (void* o : {t2, v2, tb2}) {
    if (o != nullptr) g_python.dec_ref(o);
  }
  g_python.err_restore(type, value, traceback);
  return have;
}

// The current thread's frames. GIL held.
bool walk_own_frames(PythonLocation* out) {
  void* frame = g_python.get_frame();  // borrowed
  if (frame == nullptr) return false;
  g_python.inc_ref(frame);
  return walk_frames(frame, out);
}

bool finalizing() { return g_python.is_finalizing != nullptr && g_python.is_finalizing() != 0; }

// ---- The helper thread ------------------------------------------------------
//
// One thread per process, started by the first report that needs it and
// kept for the process's life with one Python thread state, made once.
// (A helper per report, with PyGILState_Ensure/Release, made and freed a
// thread state each time; both take CPython's runtime lock, and an
// os.fork() by another thread at that instant left the lock held in the
// child, which hung in PyOS_AfterFork_Child. Now the state is made once,
// and an atfork handler holds back a fork while that happens.)
//
// One request at a time, in static storage; a second report waits for the
// slot within the same bound. States of g_request.state:
//   kIdle -> kClaimed (a requester fills it) -> kPending (the helper may
//   take it) -> kWalking (the helper holds the GIL and reads) -> kDone (the
//   requester copies the answer) -> kIdle;
//   kPending -> kCancelled (the requester gave up) -> kIdle (by the helper).
// A vfork child (shared memory, and its parent's other threads run on) may
// use a helper that its parent started, but never start one.

enum RequestState : int { kIdle, kClaimed, kPending, kWalking, kDone, kCancelled };
constexpr long kHelperWaitNs = 50'000'000;  // kHelperWait: 50 ms, ten of Python's GIL switch intervals

struct Request {
  std::atomic<int> state{kIdle};
  void* thread_state = nullptr;  // the requester's
  bool have = false;
  PythonLocation location{};
};
Request g_request;

enum HelperState : int { kNoHelper, kHelperStarting, kHelperReady, kHelperGone };
std::atomic<int> g_helper{kNoHelper};
// 1 while the helper makes its thread state (PyThreadState_New takes the
// runtime lock); the atfork prepare handler waits for 0, bounded.
std::atomic<int> g_making_thread_state{0};

long futex(std::atomic<int>* word, int op, int value, const timespec* timeout) {
  return syscall(SYS_futex, reinterpret_cast<int*>(word), op | FUTEX_PRIVATE_FLAG, value, timeout,
                 nullptr, 0);
}

void set_and_wake(std::atomic<int>& word, int value) {
  word.store(value, std::memory_order_release);
  futex(&word, FUTEX_WAKE, INT32_MAX, nullptr);
}

long elapsed_ns(const timespec& since) {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - since.tv_sec) * 1'000'000'000L + (now.tv_nsec - since.tv_nsec);
}

// Waits while `word` is `value`, at most until `budget_ns` after `since`.
// False when the budget is spent.
bool wait_while(std::atomic<int>& word, int value, const timespec& since, long budget_ns) {
  long left = budget_ns - elapsed_ns(since);
  if (left <= 0) return false;
  timespec timeout{left / 1'000'000'000L, left % 1'000'000'000L};
  futex(&word, FUTEX_WAIT, value, &timeout);
  return true;
}

// CPython 3.13+ takes the runtime lock itself before an os.fork() (in
// PyOS_BeforeFork, with the GIL held): a helper making its thread state is
// then waiting for that lock, holds nothing the child needs, and waiting
// for it would only stall the fork.
bool fork_holds_runtime_lock() {
  return g_python_present && g_python.version != nullptr && *g_python.version >= 0x030D0000 &&
         g_python.gil_check() != 0;
}

void before_fork() {
  if (g_making_thread_state.load(std::memory_order_acquire) == 0 || fork_holds_runtime_lock()) return;
  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  // Bounded all the same, should the forking thread hold that lock some
  // other way.
  while (g_making_thread_state.load(std::memory_order_acquire) != 0 &&
         wait_while(g_making_thread_state, 1, start, 100'000'000)) {
  }
}

void reset_python_helper() {
  g_request.state.store(kIdle, std::memory_order_relaxed);
  g_helper.store(kNoHelper, std::memory_order_relaxed);
  g_making_thread_state.store(0, std::memory_order_relaxed);
}

void helper_gone(void*) { set_and_wake(g_helper, kHelperGone); }

// Serves one request that is kPending or kCancelled. The requester waits
// (in C, GIL released) until kDone: its frames cannot change while this
// thread holds the GIL.
void serve(Request& r, void* thread_state) {
  g_python.acquire_thread(thread_state);  // ends this thread if Python is finalizing
  int expected = kPending;
  if (r.state.compare_exchange_strong(expected, kWalking, std::memory_order_acq_rel)) {
    void* frame = g_python.thread_frame(r.thread_state);  // new reference
    r.have = frame != nullptr && walk_frames(frame, &r.location);
    g_python.release_thread(thread_state);
    set_and_wake(r.state, kDone);
  } else {
    g_python.release_thread(thread_state);
    set_and_wake(r.state, kIdle);  // the requester gave up
  }
}

void* helper_main(void*) {
  t_in_python_walk = true;
  pthread_cleanup_push(helper_gone, nullptr);
  g_making_thread_state.store(1, std::memory_order_release);
  void* thread_state = finalizing() ? nullptr : g_python.thread_state_new(g_python.main_interpreter());
  set_and_wake(g_making_thread_state, 0);
  if (thread_state != nullptr) {
    set_and_wake(g_helper, kHelperReady);
    Request& r = g_request;
    for (;;) {
      int state = r.state.load(std::memory_order_acquire);
      if (state == kCancelled) {
        set_and_wake(r.state, kIdle);
      } else if (state == kPending) {
        if (finalizing()) break;  // taking the GIL now would end this thread
        serve(r, thread_state);
      } else {
        futex(&r.state, FUTEX_WAIT, state, nullptr);
      }
    }
  }
  pthread_cleanup_pop(1);
  return nullptr;
}

// Starts the helper (not in a vfork child). Signals are blocked there.
void start_helper() {
  int expected = kNoHelper;
  if (!g_helper.compare_exchange_strong(expected, kHelperStarting, std::memory_order_acq_rel)) return;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);  // the helper inherits: no signal runs there
  pthread_t helper;
  int err = pthread_create(&helper, &attr, helper_main, nullptr);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_attr_destroy(&attr);
  if (err != 0) set_and_wake(g_helper, kHelperGone);
}

// Asks the helper for the location of the thread whose state is
// `thread_state` (the caller's); waits at most kHelperWaitNs in all.
bool walk_via_helper(void* thread_state, PythonLocation* out, bool may_start) {
  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  if (may_start) start_helper();
  for (int h; (h = g_helper.load(std::memory_order_acquire)) != kHelperReady;) {
    if (h != kHelperStarting || !wait_while(g_helper, h, start, kHelperWaitNs)) return false;
  }
  Request& r = g_request;
  for (;;) {
    int expected = kIdle;
    if (r.state.compare_exchange_strong(expected, kClaimed, std::memory_order_acq_rel)) break;
    if (!wait_while(r.state, expected, start, kHelperWaitNs)) return false;  // another report
  }
  r.thread_state = thread_state;
  r.have = false;
  set_and_wake(r.state, kPending);
  for (;;) {
    int state = r.state.load(std::memory_order_acquire);
    if (state == kDone) break;
    if (state == kPending && elapsed_ns(start) >= kHelperWaitNs) {
      int pending = kPending;
      if (r.state.compare_exchange_strong(pending, kCancelled, std::memory_order_acq_rel)) {
        futex(&r.state, FUTEX_WAKE, INT32_MAX, nullptr);
        return false;  // the helper sets kIdle
      }
      continue;  // it started walking: that is short, wait for it
    }
    if (state == kWalking) {
      timespec tick{0, 1'000'000};
      futex(&r.state, FUTEX_WAIT, state, &tick);
    } else {
      wait_while(r.state, state, start, kHelperWaitNs);
    }
  }
  bool have = r.have;
  if (have) *out = r.location;
  set_and_wake(r.state, kIdle);
  return have;
}

void write_python(events::JsonWriter& w, const PythonLocation& c) {
  w.begin_object("source");
  w.field("language", "python");
  w.field("file", c.file);
  if (c.line > 0) w.field_int("line", c.line);
  if (c.function[0] != '\0') w.field("function", c.function);
  w.end_object();
}

bool python_location(PythonLocation* out) {
  if (!g_python_present || t_in_python_walk || g_python.is_initialized() == 0) return false;
  void* thread_state = g_python.this_thread_state();
  if (thread_state == nullptr) return false;  // a thread Python does not know
  t_in_python_walk = true;
  bool have = false;
  if (g_python.gil_check() != 0) {
    // The caller holds the GIL (a C extension calling libc directly, or a
    // fork child of a thread that held it): the frames are safe to read now.
    have = walk_own_frames(out);
  } else if (finalizing()) {
    // Taking the GIL now would end the thread that tries.
  } else if (in_vfork_child()) {
    // Shares the parent's memory; the parent thread is suspended in vfork
    // with the GIL released. The parent's helper, when it has one, runs on
    // and reads the suspended thread's frames (this child may not start
    // threads). Without one, only when no other thread exists can nothing
    // else hold or want the GIL, and the child takes it itself.
    if (g_helper.load(std::memory_order_acquire) == kHelperReady) {
      have = walk_via_helper(thread_state, out, /*may_start=*/false);
    } else if (thread_count(g_pid.load(std::memory_order_relaxed)) == 1 &&
               g_python.is_finalizing != nullptr) {
      int gil = g_python.gil_ensure();
      have = walk_own_frames(out);
      g_python.gil_release(gil);
    }
  } else if (!g_fork_child.load(std::memory_order_relaxed)) {
    have = walk_via_helper(thread_state, out, /*may_start=*/true);
  }
  t_in_python_walk = false;
  return have;
}

bool python_source(events::JsonWriter& w, const void*, image::Control) {
  PythonLocation location{};
  if (!python_location(&location)) return false;
  write_python(w, location);
  return true;
}

// ---- Node (source_node.cc) ------------------------------------------------

bool javascript_source(events::JsonWriter& w, const void*, image::Control) {
  if (&node_source == nullptr || in_fork_child()) return false;
  char file[512] = {};
  char function[128] = {};
  int line = 0;
  if (!node_source(file, sizeof file, &line, function, sizeof function)) return false;
  w.begin_object("source");
  w.field("language", "javascript");
  w.field("file", file);
  if (line > 0) w.field_int("line", line);
  if (function[0] != '\0') w.field("function", function);
  w.end_object();
  return true;
}

// ---- Native ---------------------------------------------------------------

bool native_source(events::JsonWriter& w, const void* caller, image::Control) {
  if (caller == nullptr || in_fork_child()) return false;  // dladdr takes the loader's lock
  Dl_info self{};
  Dl_info info{};
  // The call site is the byte before the return address.
  const void* site = static_cast<const char*>(caller) - 1;
  if (dladdr(site, &info) == 0 || info.dli_fname == nullptr) return false;
  if (dladdr(reinterpret_cast<const void*>(&native_source), &self) != 0 &&
      self.dli_fbase == info.dli_fbase) {
    return false;  // a helper inside the enforcer; it would name us, not the program
  }
  w.begin_object("source");
  w.field("language", "native");
  // The loader names the main program by argv[0] ("node") or "": use the
  // executable's real path instead.
  const char* file = info.dli_fname;
  char scratch[kExePathMax];
  if (std::strchr(file, '/') == nullptr) {
    if (const char* exe = process_exe(scratch); exe[0] != '\0') file = exe;
  }
  w.field("file", file[0] != '\0' ? file : "main");
  if (info.dli_sname != nullptr) w.field("function", info.dli_sname);
  w.end_object();
  return true;
}

// Tried in order; the first that writes a source wins.
using Provider = bool (*)(events::JsonWriter&, const void*, image::Control);
constexpr Provider kProviders[] = {python_source, javascript_source, native_source};

}  // namespace

void init() {
  g_pid.store(syscall(SYS_getpid), std::memory_order_relaxed);
  pthread_atfork(before_fork, nullptr, on_fork_child);
  auto sym = [](const char* name) { return dlsym(RTLD_DEFAULT, name); };
  PythonApi api{};
  api.is_initialized = reinterpret_cast<int (*)()>(sym("Py_IsInitialized"));
  api.is_finalizing = reinterpret_cast<int (*)()>(sym("Py_IsFinalizing"));
  if (api.is_finalizing == nullptr) {
    api.is_finalizing = reinterpret_cast<int (*)()>(sym("_Py_IsFinalizing"));
  }
  api.gil_check = reinterpret_cast<int (*)()>(sym("PyGILState_Check"));
  api.this_thread_state = reinterpret_cast<void* (*)()>(sym("PyGILState_GetThisThreadState"));
  api.gil_ensure = reinterpret_cast<int (*)()>(sym("PyGILState_Ensure"));
  api.gil_release = reinterpret_cast<void (*)(int)>(sym("PyGILState_Release"));
  api.main_interpreter = reinterpret_cast<void* (*)()>(sym("PyInterpreterState_Main"));
  api.thread_state_new = reinterpret_cast<void* (*)(void*)>(sym("PyThreadState_New"));
  api.acquire_thread = reinterpret_cast<void (*)(void*)>(sym("PyEval_AcquireThread"));
  api.release_thread = reinterpret_cast<void (*)(void*)>(sym("PyEval_ReleaseThread"));
  api.version = reinterpret_cast<const unsigned long*>(sym("Py_Version"));
  api.get_frame = reinterpret_cast<void* (*)()>(sym("PyEval_GetFrame"));
  api.thread_frame = reinterpret_cast<void* (*)(void*)>(sym("PyThreadState_GetFrame"));
  api.frame_line = reinterpret_cast<int (*)(void*)>(sym("PyFrame_GetLineNumber"));
  api.frame_code = reinterpret_cast<void* (*)(void*)>(sym("PyFrame_GetCode"));
  api.frame_back = reinterpret_cast<void* (*)(void*)>(sym("PyFrame_GetBack"));
  api.get_attr = reinterpret_cast<void* (*)(void*, const char*)>(sym("PyObject_GetAttrString"));
  // Optional: without them names are built per lookup (slower, same result).
  api.get_attr_obj = reinterpret_cast<void* (*)(void*, void*)>(sym("PyObject_GetAttr"));
  api.intern = reinterpret_cast<void* (*)(const char*)>(sym("PyUnicode_InternFromString"));
  api.as_utf8 = reinterpret_cast<const char* (*)(void*)>(sym("PyUnicode_AsUTF8"));
  api.inc_ref = reinterpret_cast<void (*)(void*)>(sym("Py_IncRef"));
  api.dec_ref = reinterpret_cast<void (*)(void*)>(sym("Py_DecRef"));
  api.err_fetch = reinterpret_cast<void (*)(void**, void**, void**)>(sym("PyErr_Fetch"));
  api.err_restore = reinterpret_cast<void (*)(void*, void*, void*)>(sym("PyErr_Restore"));
  bool complete = api.is_initialized && api.gil_check && api.this_thread_state && api.gil_ensure &&
                  api.gil_release && api.main_interpreter && api.thread_state_new &&
                  api.acquire_thread && api.release_thread && api.get_frame && api.thread_frame && api.frame_line &&
                  api.frame_code && api.frame_back && api.get_attr && api.as_utf8 && api.inc_ref &&
                  api.dec_ref && api.err_fetch && api.err_restore;
  if (!complete) return;  // not a CPython 3.9+ process (or an embedding we cannot use)
  g_python = api;
  g_python_present = true;
}

void write_source(events::JsonWriter& w, const void* caller, image::Control control) {
  for (Provider provider : kProviders) {
    if (provider(w, caller, control)) return;
  }
}

}  // namespace fnguard::enforcer::source
