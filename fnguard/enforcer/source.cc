// Source providers for events.
//
// Python (CPython): the C API is looked up once with dlsym(RTLD_DEFAULT) at
// start-up, and an audit hook (PEP 578, PySys_AddAuditHook) is registered.
// Python releases the GIL around the system calls we hook (open, rename,
// connect, fork/exec), and frames must not be touched without the GIL, so
// the location is taken in the audit hook (GIL held) for the few audit
// events that lead to a hooked call, and kept per thread until the next
// audit event. When a hooked call is made with the GIL held (a C extension
// calling libc directly), the current frame is read at report time instead.
// Standard-library and frozen frames are skipped, so the event names the
// user's line that called pathlib/shutil/subprocess rather than their
// internals.
//
// Native: dladdr() on the hook's return address gives the object file and,
// when the symbol is exported, the function name. Calls from inside
// libfnguard.so itself (a helper called the report) are not reported as a
// source, because they would name the enforcer rather than the program.
//
// Limits: Python source needs CPython 3.9+ in the executable's symbol
// table (python3 itself; not a libpython dlopen'ed later). A hooked call
// that no audit event announced (a C extension releasing the GIL and
// calling open) may be attributed to the last announced operation of the
// same kind on that thread, or have no Python source. Node: node_source()
// (source_node.cc) when it is linked in; it is referenced weakly so this
// file builds without it.
#include "fnguard/enforcer/source.h"

#include <dlfcn.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
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
// child (no handlers run) by a pid that differs from the one at start-up.
// There only the Python capture (plain thread-local data) is used.

long g_start_pid = 0;
std::atomic<bool> g_fork_child{false};

void on_fork_child() { g_fork_child.store(true, std::memory_order_relaxed); }

bool in_fork_child() {
  return g_fork_child.load(std::memory_order_relaxed) || syscall(SYS_getpid) != g_start_pid;
}

// ---- Python ---------------------------------------------------------------

struct PythonApi {
  int (*is_initialized)();
  int (*gil_check)();
  void* (*get_frame)();
  int (*frame_line)(void*);
  void* (*frame_code)(void*);
  void* (*frame_back)(void*);
  void* (*get_attr)(void*, const char*);
  void* (*get_attr_obj)(void*, void*);     // PyObject_GetAttr
  void* (*intern)(const char*);            // PyUnicode_InternFromString
  const char* (*as_utf8)(void*);
  void (*dec_ref)(void*);
  void (*err_fetch)(void**, void**, void**);
  void (*err_restore)(void*, void*, void*);
  int (*add_audit_hook)(int (*)(const char*, void*, void*), void*);
};

PythonApi g_python;
bool g_python_present = false;

// What the audit hook saw last on this thread: the Python location of the
// operation in progress, and which kind of operation it was.
struct PythonCapture {
  char kind;  // 0: none, 'f' file, 'x' process, 'n' network, 'l' library load
  int line;
  char file[320];
  char function[96];
};
__attribute__((tls_model("initial-exec"))) thread_local PythonCapture t_capture;
__attribute__((tls_model("initial-exec"))) thread_local bool t_in_audit;

void copy_text(char* out, size_t cap, const char* in) {
  size_t n = in != nullptr ? strnlen(in, cap - 1) : 0;
  if (n > 0) std::memcpy(out, in, n);
  out[n] = '\0';
}

// The attribute names read on every captured frame, as interned str objects
// made once (GIL held; kept for the process's life): PyObject_GetAttr with
// them spares building a str from a C string per lookup, which on the
// import machinery's opens (tens of frames each) was most of the audit
// hook's cost. (Main-interpreter objects: a process that runs isolated
// sub-interpreters would want one set per interpreter.)
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
// innermost one when all are). GIL held. At most kMaxFrames are read: the
// import machinery's own opens sit under a dozen or more library frames
// (nested imports), and each frame read costs; a user frame further out
// than that is not named (the innermost frame is).
//
// `skip_imports`: an operation whose innermost frame is the import system's
// own (`<frozen importlib._bootstrap...>`: reading a module's source or
// bytecode) is not attributed at all. Imports open hundreds of files at
// start-up, each under a dozen frames, and walking them was ~0.6 ms of an
// import-heavy cold start; such a read, if a policy reports it, names no
// Python line (the event still has the path, process and invocation).
constexpr int kMaxFrames = 16;
bool capture_frames(PythonCapture* out, bool skip_imports) {
  void* frame = g_python.get_frame();  // borrowed
  if (frame == nullptr) return false;
  bool have = false;
  void* current = frame;
  void* owned = nullptr;  // the frame we hold a reference to
  for (int depth = 0; current != nullptr && depth < kMaxFrames; ++depth) {
    void* code = g_python.frame_code(current);  // new reference
    if (code == nullptr) break;
    char file[sizeof out->file];
    bool ok = python_str_attr(code, kCoFilename, file, sizeof file);
    if (ok && depth == 0 && skip_imports &&
        std::strncmp(file, "<frozen importlib._bootstrap", 28) == 0) {
      g_python.dec_ref(code);
      return false;
    }
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
    if (owned != nullptr) g_python.dec_ref(owned);
    owned = back;
    current = back;
  }
  if (owned != nullptr) g_python.dec_ref(owned);
  return have;
}

// The kind of operation an audit event announces, or 0 for events we do
// not attribute (imports, compile, ...), which end the previous operation.
char audit_kind(const char* event) {
  if (std::strcmp(event, "open") == 0) return 'f';
  if (std::strncmp(event, "os.", 3) == 0) {
    const char* op = event + 3;
    if (std::strncmp(op, "exec", 4) == 0 || std::strncmp(op, "spawn", 5) == 0 ||
        std::strncmp(op, "posix_spawn", 11) == 0 || std::strcmp(op, "system") == 0) {
      return 'x';
    }
    static const char* const kFileOps[] = {"rename",   "remove", "rmdir",  "mkdir",
                                           "chmod",    "chown",  "link",   "symlink",
                                           "truncate", "utime",  "chflags"};
    for (const char* f : kFileOps) {
      if (std::strcmp(op, f) == 0) return 'f';
    }
    return 0;
  }
  if (std::strcmp(event, "subprocess.Popen") == 0 || std::strcmp(event, "pty.spawn") == 0)
    return 'x';
  if (std::strcmp(event, "socket.connect") == 0 || std::strcmp(event, "socket.sendto") == 0 ||
      std::strcmp(event, "socket.sendmsg") == 0 || std::strcmp(event, "socket.bind") == 0) {
    return 'n';
  }
  if (std::strcmp(event, "ctypes.dlopen") == 0) return 'l';
  return 0;
}

// Python audit hook (PEP 578), called with the GIL held before the
// operation runs. Python releases the GIL around the system call itself
// (open, connect, fork/exec), so by the time our libc hook runs the frame
// can no longer be read safely; the location is therefore taken here, for
// the few events that lead to a hooked call, and kept per thread until the
// next audit event. Cost on those events: a frame walk and two attribute
// reads (well under a microsecond next to Python's own open).
int python_audit_hook(const char* event, void*, void*) {
  char kind = audit_kind(event);
  t_capture.kind = 0;
  if (kind == 0 || t_in_audit) return 0;
  t_in_audit = true;
  void *type = nullptr, *value = nullptr, *traceback = nullptr;
  g_python.err_fetch(&type, &value, &traceback);  // keep any exception in flight
  if (capture_frames(&t_capture, /*skip_imports=*/kind == 'f')) t_capture.kind = kind;
  g_python.err_restore(type, value, traceback);
  t_in_audit = false;
  return 0;
}

char kind_for(image::Control control) {
  switch (control) {
    case image::Control::kFilesRead:
    case image::Control::kFilesWrite:
      return 'f';
    case image::Control::kNetOutbound:
    case image::Control::kNetInbound:
      return 'n';
    case image::Control::kProcessExec:
      return 'x';
    case image::Control::kExecFromWritable:
      return t_capture.kind == 'l' ? 'l' : 'x';
    default:
      return 0;
  }
}

void write_python(events::JsonWriter& w, const PythonCapture& c) {
  w.begin_object("source");
  w.field("language", "python");
  w.field("file", c.file);
  if (c.line > 0) w.field_int("line", c.line);
  if (c.function[0] != '\0') w.field("function", c.function);
  w.end_object();
}

bool python_source(events::JsonWriter& w, const void*, image::Control control) {
  if (!g_python_present || g_python.is_initialized() == 0) return false;
  if (!in_fork_child() && g_python.gil_check() != 0 && !t_in_audit) {
    // The caller holds the GIL (a C extension calling libc directly):
    // the current frame is safe to read now.
    PythonCapture now{};
    void *type = nullptr, *value = nullptr, *traceback = nullptr;
    t_in_audit = true;
    g_python.err_fetch(&type, &value, &traceback);
    bool have = capture_frames(&now, /*skip_imports=*/false);
    g_python.err_restore(type, value, traceback);
    t_in_audit = false;
    if (have) {
      write_python(w, now);
      return true;
    }
    return false;
  }
  // The GIL is released around the system call: use what the audit hook
  // captured for this operation, if it was the same kind of operation.
  if (t_capture.kind == 0 || t_capture.kind != kind_for(control)) return false;
  write_python(w, t_capture);
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
  g_start_pid = syscall(SYS_getpid);
  pthread_atfork(nullptr, nullptr, on_fork_child);
  auto sym = [](const char* name) { return dlsym(RTLD_DEFAULT, name); };
  PythonApi api{};
  api.is_initialized = reinterpret_cast<int (*)()>(sym("Py_IsInitialized"));
  api.gil_check = reinterpret_cast<int (*)()>(sym("PyGILState_Check"));
  api.get_frame = reinterpret_cast<void* (*)()>(sym("PyEval_GetFrame"));
  api.frame_line = reinterpret_cast<int (*)(void*)>(sym("PyFrame_GetLineNumber"));
  api.frame_code = reinterpret_cast<void* (*)(void*)>(sym("PyFrame_GetCode"));
  api.frame_back = reinterpret_cast<void* (*)(void*)>(sym("PyFrame_GetBack"));
  api.get_attr = reinterpret_cast<void* (*)(void*, const char*)>(sym("PyObject_GetAttrString"));
  // Optional: without them names are built per lookup (slower, same result).
  api.get_attr_obj = reinterpret_cast<void* (*)(void*, void*)>(sym("PyObject_GetAttr"));
  api.intern = reinterpret_cast<void* (*)(const char*)>(sym("PyUnicode_InternFromString"));
  api.as_utf8 = reinterpret_cast<const char* (*)(void*)>(sym("PyUnicode_AsUTF8"));
  api.dec_ref = reinterpret_cast<void (*)(void*)>(sym("Py_DecRef"));
  api.err_fetch = reinterpret_cast<void (*)(void**, void**, void**)>(sym("PyErr_Fetch"));
  api.err_restore = reinterpret_cast<void (*)(void*, void*, void*)>(sym("PyErr_Restore"));
  api.add_audit_hook = reinterpret_cast<int (*)(int (*)(const char*, void*, void*), void*)>(
      sym("PySys_AddAuditHook"));
  bool complete = api.is_initialized && api.gil_check && api.get_frame && api.frame_line &&
                  api.frame_code && api.frame_back && api.get_attr && api.as_utf8 && api.dec_ref &&
                  api.err_fetch && api.err_restore && api.add_audit_hook;
  if (!complete) return;  // not a CPython process (or an embedding we cannot use)
  g_python = api;
  // PySys_AddAuditHook is documented as safe before Py_Initialize(), which
  // is where we are: the executable's constructors have not run main yet.
  g_python_present = g_python.add_audit_hook(python_audit_hook, nullptr) == 0;
}

void write_source(events::JsonWriter& w, const void* caller, image::Control control) {
  for (Provider provider : kProviders) {
    if (provider(w, caller, control)) return;
  }
}

}  // namespace fnguard::enforcer::source
