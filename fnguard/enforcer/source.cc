// Source providers for events.
//
// Python (CPython): the C API is looked up once with dlsym(RTLD_DEFAULT) at
// start-up, and the location is read only when an event is written, never
// on the allow path. (Until 2026-11 an audit hook, PEP 578, kept the
// location of every open; but once any audit hook exists CPython builds an
// argument object for every audited operation, copying each module's
// bytecode for "marshal.loads", which cost ~0.5-1 ms of every cold start and
// more with more imports, so the hook is gone.) Frames must only be read
// with the GIL held, and Python releases the GIL around the system calls we
// hook (open, connect, fork/exec). So, at report time:
// - the calling thread holds the GIL (a C extension calling libc directly,
//   or a fork child of a thread that held it): the frames are read at once;
// - it has released it: a short-lived helper thread takes the GIL
//   (PyGILState_Ensure) and reads the calling thread's frames while the
//   calling thread waits, at most kHelperWait. A helper, not the calling
//   thread itself, so that a GIL that cannot be had (another thread holds it
//   and waits on something the calling thread holds, or the call came from a
//   signal handler in the middle of Python's own GIL hand-off) costs a
//   bounded wait and an event without a Python line, never a deadlock;
// - a vfork child (CPython's subprocess runs execve() in one, sharing the
//   parent's memory): no thread may be created there, so when the parent
//   has no other thread (nothing else can hold the GIL; the parent thread
//   is suspended in vfork) the child takes the GIL itself for the walk;
//   with other threads there is no Python line.
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
// interpreter (PyGILState). A reported call from a GIL-released thread waits
// for the helper, typically tens of microseconds, up to kHelperWait when
// another thread keeps the GIL. In a fork child (os.fork, multiprocessing's
// fork workers) a call made with the GIL released has no Python line: the
// child's GIL may belong to a thread that did not survive the fork, and a
// thread created there could block on locks the fork copied held (Lambda has
// no /dev/shm, so multiprocessing pools do not run there anyway). Node:
// node_source() (source_node.cc) when it is linked in; it is referenced
// weakly so this file builds without it.
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

void reset_python_request();  // below: a request in flight at fork is not the child's

void on_fork_child() {
  g_fork_child.store(true, std::memory_order_relaxed);
  g_pid.store(syscall(SYS_getpid), std::memory_order_relaxed);
  reset_python_request();
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
// One request at a time (a second concurrent report gets no Python line).
// The request lives in static storage: a requester that gave up leaves it to
// the helper, which frees it when done.

enum RequestState : int { kIdle, kPending, kWalking, kDone, kCancelled };
constexpr long kHelperWaitNs = 50'000'000;  // kHelperWait: 50 ms, ten of Python's GIL switch intervals

struct Request {
  std::atomic<int> state{kIdle};
  void* thread_state = nullptr;
  bool have = false;
  PythonLocation location{};
};
Request g_request;

void reset_python_request() { g_request.state.store(kIdle, std::memory_order_relaxed); }

long futex(std::atomic<int>* word, int op, int value, const timespec* timeout) {
  return syscall(SYS_futex, reinterpret_cast<int*>(word), op | FUTEX_PRIVATE_FLAG, value, timeout,
                 nullptr, 0);
}

void finish(Request& r, int state) {
  r.state.store(state, std::memory_order_release);
  futex(&r.state, FUTEX_WAKE, 1, nullptr);
}

void* helper_main(void*) {
  t_in_python_walk = true;
  Request& r = g_request;
  if (finalizing()) {  // PyGILState_Ensure would end this thread
    int expected = kPending;
    if (!r.state.compare_exchange_strong(expected, kDone))
      r.state.store(kIdle);
    else
      futex(&r.state, FUTEX_WAKE, 1, nullptr);
    return nullptr;
  }
  int gil = g_python.gil_ensure();
  int expected = kPending;
  if (r.state.compare_exchange_strong(expected, kWalking, std::memory_order_acq_rel)) {
    // The requester waits (in C, GIL released) until kDone: its frames
    // cannot change while this thread holds the GIL.
    void* frame = g_python.thread_frame(r.thread_state);  // new reference
    r.have = frame != nullptr && walk_frames(frame, &r.location);
    g_python.gil_release(gil);
    finish(r, kDone);
  } else {
    g_python.gil_release(gil);
    r.state.store(kIdle, std::memory_order_release);  // the requester gave up
  }
  return nullptr;
}

// Asks a new helper thread for the calling thread's location; waits at most
// kHelperWaitNs.
bool walk_via_helper(void* thread_state, PythonLocation* out) {
  Request& r = g_request;
  int expected = kIdle;
  if (!r.state.compare_exchange_strong(expected, kPending, std::memory_order_acq_rel)) {
    return false;  // another report is asking, or a cancelled one still runs
  }
  r.thread_state = thread_state;
  r.have = false;
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
  if (err != 0) {
    r.state.store(kIdle, std::memory_order_release);
    return false;
  }
  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    int state = r.state.load(std::memory_order_acquire);
    if (state == kDone) break;
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long waited = (now.tv_sec - start.tv_sec) * 1'000'000'000L + (now.tv_nsec - start.tv_nsec);
    if (state == kPending && waited >= kHelperWaitNs) {
      int pending = kPending;
      if (r.state.compare_exchange_strong(pending, kCancelled, std::memory_order_acq_rel)) {
        return false;  // the helper sets kIdle when it gets the GIL, or gives up
      }
      continue;  // it started walking: that is short, wait for it
    }
    timespec left{0, state == kWalking ? 1'000'000L : kHelperWaitNs - waited};
    futex(&r.state, FUTEX_WAIT, state, &left);
  }
  bool have = r.have;
  if (have) *out = r.location;
  r.state.store(kIdle, std::memory_order_release);
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
  } else if (in_vfork_child()) {
    // Shares the parent's memory; the parent thread is suspended in vfork
    // with the GIL released. Only when no other thread exists can nothing
    // else hold or want the GIL.
    if (thread_count(g_pid.load(std::memory_order_relaxed)) == 1 && !finalizing() &&
        g_python.is_finalizing != nullptr) {
      int gil = g_python.gil_ensure();
      have = walk_own_frames(out);
      g_python.gil_release(gil);
    }
  } else if (!g_fork_child.load(std::memory_order_relaxed)) {
    have = walk_via_helper(thread_state, out);
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
  if (std::strchr(file, '/') == nullptr && process_exe()[0] != '\0') file = process_exe();
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
  pthread_atfork(nullptr, nullptr, on_fork_child);
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
                  api.gil_release && api.get_frame && api.thread_frame && api.frame_line &&
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
