// Source providers for events.
//
// Python: the interpreter's C API, looked up once with dlsym(RTLD_DEFAULT)
// (present only when the process embeds CPython). Used only when the
// interpreter is initialised and the current thread holds the GIL, because
// touching frames without the GIL is a data race with the interpreter. The
// code object's attributes are read with PyObject_GetAttrString, which may
// use Python's own allocator under the GIL; that is acceptable on the event
// path (never on the allow path). Any Python error raised while doing so is
// cleared so the program never sees it.
//
// Native: dladdr() on the hook's return address gives the object file and,
// when the symbol is exported, the function name. Calls from inside
// libfnguard.so itself (a helper called the report) are not reported as a
// source, because they would name the enforcer rather than the program.
//
// Limits: a Python frame is the innermost *Python* frame on this thread, so
// a call made by a C extension on behalf of Python code names the Python line
// that called the extension. Node: node_source() (source_node.cc) when it is
// linked in; it is referenced weakly so this file builds without it.
#include "fnguard/enforcer/source.h"

#include <dlfcn.h>

#include <atomic>
#include <cstring>

// Weak: source_node.cc is optional at link time.
namespace fnguard::enforcer {
__attribute__((weak)) bool node_source(char* file, size_t file_cap, int* line, char* function,
                                       size_t function_cap);
}

namespace fnguard::enforcer::source {
namespace {

// ---- Python ---------------------------------------------------------------

struct PythonApi {
  int (*is_initialized)();
  int (*gil_check)();
  void* (*get_frame)();
  int (*frame_line)(void*);
  void* (*frame_code)(void*);
  void* (*get_attr)(void*, const char*);
  const char* (*as_utf8)(void*);
  void (*dec_ref)(void*);
  void* (*err_occurred)();
  void (*err_clear)();
};

PythonApi g_python;
// 0: not looked up yet, 1: Python present, 2: absent.
std::atomic<int> g_python_state{0};

bool python_available() {
  int state = g_python_state.load(std::memory_order_acquire);
  if (state == 0) {
    PythonApi api{};
    auto sym = [](const char* name) { return dlsym(RTLD_DEFAULT, name); };
    api.is_initialized = reinterpret_cast<int (*)()>(sym("Py_IsInitialized"));
    api.gil_check = reinterpret_cast<int (*)()>(sym("PyGILState_Check"));
    api.get_frame = reinterpret_cast<void* (*)()>(sym("PyEval_GetFrame"));
    api.frame_line = reinterpret_cast<int (*)(void*)>(sym("PyFrame_GetLineNumber"));
    api.frame_code = reinterpret_cast<void* (*)(void*)>(sym("PyFrame_GetCode"));
    api.get_attr = reinterpret_cast<void* (*)(void*, const char*)>(sym("PyObject_GetAttrString"));
    api.as_utf8 = reinterpret_cast<const char* (*)(void*)>(sym("PyUnicode_AsUTF8"));
    api.dec_ref = reinterpret_cast<void (*)(void*)>(sym("Py_DecRef"));
    api.err_occurred = reinterpret_cast<void* (*)()>(sym("PyErr_Occurred"));
    api.err_clear = reinterpret_cast<void (*)()>(sym("PyErr_Clear"));
    bool complete = api.is_initialized && api.gil_check && api.get_frame && api.frame_line &&
                    api.frame_code && api.get_attr && api.as_utf8 && api.dec_ref &&
                    api.err_occurred && api.err_clear;
    if (complete) g_python = api;
    state = complete ? 1 : 2;
    g_python_state.store(state, std::memory_order_release);
  }
  return state == 1;
}

// Copies a str attribute of `object` into out.
bool python_str_attr(void* object, const char* name, char* out, size_t cap) {
  void* value = g_python.get_attr(object, name);
  if (value == nullptr) return false;
  const char* text = g_python.as_utf8(value);
  bool ok = text != nullptr;
  if (ok) {
    size_t n = strnlen(text, cap - 1);
    std::memcpy(out, text, n);
    out[n] = '\0';
  }
  g_python.dec_ref(value);
  return ok;
}

bool python_source(events::JsonWriter& w, const void*) {
  if (!python_available()) return false;
  if (g_python.is_initialized() == 0 || g_python.gil_check() == 0) return false;
  void* frame = g_python.get_frame();
  if (frame == nullptr) return false;
  // A Python exception already in flight must survive: only clear errors
  // that we cause.
  bool error_before = g_python.err_occurred() != nullptr;
  int line = g_python.frame_line(frame);
  void* code = g_python.frame_code(frame);  // new reference
  if (code == nullptr) return false;
  char file[512] = {};
  char function[128] = {};
  bool have_file = python_str_attr(code, "co_filename", file, sizeof file);
  bool have_function = python_str_attr(code, "co_qualname", function, sizeof function) ||
                       python_str_attr(code, "co_name", function, sizeof function);
  g_python.dec_ref(code);
  if (!error_before && g_python.err_occurred() != nullptr) g_python.err_clear();
  if (!have_file) return false;
  w.begin_object("source");
  w.field("language", "python");
  w.field("file", file);
  if (line > 0) w.field_int("line", line);
  if (have_function) w.field("function", function);
  w.end_object();
  return true;
}

// ---- Node (source_node.cc) ------------------------------------------------

bool javascript_source(events::JsonWriter& w, const void*) {
  if (&node_source == nullptr) return false;
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

bool native_source(events::JsonWriter& w, const void* caller) {
  if (caller == nullptr) return false;
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
  w.field("file", info.dli_fname[0] != '\0' ? info.dli_fname : "main");
  if (info.dli_sname != nullptr) w.field("function", info.dli_sname);
  w.end_object();
  return true;
}

// Tried in order; the first that writes a source wins.
using Provider = bool (*)(events::JsonWriter&, const void*);
constexpr Provider kProviders[] = {python_source, javascript_source, native_source};

}  // namespace

void write_source(events::JsonWriter& w, const void* caller) {
  for (Provider provider : kProviders) {
    if (provider(w, caller)) return;
  }
}

}  // namespace fnguard::enforcer::source
