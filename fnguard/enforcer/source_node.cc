// V8 exposes its stack-trace API as exported C++ symbols of the node binary.
// We resolve the handful we need with dlsym(RTLD_DEFAULT) by their Itanium
// mangled names, once, and call them only when an event is being reported,
// so a process that is not Node (no such symbols) pays one failed lookup.
//
// Limits, stated plainly: this relies on V8's ABI for Local<T> (a single
// pointer), HandleScope (three pointers; we reserve more) and
// StackFrame::Location (two ints returned in registers). Those have been
// stable across Node 18-22. Calls made from libuv's thread pool (async fs)
// have no JavaScript on their stack: we then fall back to native frames.
#include "fnguard/enforcer/source_node.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdint>
#include <cstring>

namespace fnguard::enforcer {
namespace {

struct Location {
  int line;    // 0-based
  int column;  // 0-based
};

// kLineNumber | kColumnOffset | kScriptName | kFunctionName
constexpr int kStackTraceOverview = 0xf;
constexpr int kMaxFrames = 16;

struct V8Api {
  void* (*get_current)() = nullptr;
  bool (*in_context)(void* isolate) = nullptr;
  void (*scope_open)(void* scope, void* isolate) = nullptr;
  void (*scope_close)(void* scope) = nullptr;
  void* (*current_stack_trace)(void* isolate, int limit, int options) = nullptr;
  int (*frame_count)(void* trace) = nullptr;
  void* (*get_frame)(void* trace, void* isolate, uint32_t index) = nullptr;
  Location (*location)(void* frame) = nullptr;
  void* (*script_name)(void* frame) = nullptr;
  void* (*function_name)(void* frame) = nullptr;
  int (*write_utf8)(void* str, void* isolate, char* buf, int len, int* nchars, int options) = nullptr;
  bool ready = false;
};

template <typename T>
void resolve(T* out, const char* name, bool* ok) {
  void* sym = dlsym(RTLD_DEFAULT, name);
  if (sym == nullptr) *ok = false;
  *out = reinterpret_cast<T>(sym);
}

// Resolved once. The enforcer is built with -fno-threadsafe-statics, so the
// first caller resolves under an atomic flag and concurrent first callers
// simply get no Node source for that one event.
const V8Api& api() {
  static V8Api resolved;
  static const V8Api kUnavailable;
  static std::atomic<int> state{0};  // 0 unresolved, 1 resolving, 2 done
  if (state.load(std::memory_order_acquire) == 2) return resolved;
  int expected = 0;
  if (!state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
    return state.load(std::memory_order_acquire) == 2 ? resolved : kUnavailable;
  }
  V8Api& a = resolved;
  bool ok = true;
  resolve(&a.get_current, "_ZN2v87Isolate10GetCurrentEv", &ok);
  if (ok) {  // not Node: stop after one lookup
    resolve(&a.in_context, "_ZN2v87Isolate9InContextEv", &ok);
    resolve(&a.scope_open, "_ZN2v811HandleScopeC1EPNS_7IsolateE", &ok);
    resolve(&a.scope_close, "_ZN2v811HandleScopeD1Ev", &ok);
    resolve(&a.current_stack_trace,
            "_ZN2v810StackTrace17CurrentStackTraceEPNS_7IsolateEiNS0_17StackTraceOptionsE", &ok);
    resolve(&a.frame_count, "_ZNK2v810StackTrace13GetFrameCountEv", &ok);
    resolve(&a.get_frame, "_ZNK2v810StackTrace8GetFrameEPNS_7IsolateEj", &ok);
    resolve(&a.location, "_ZNK2v810StackFrame11GetLocationEv", &ok);
    resolve(&a.script_name, "_ZNK2v810StackFrame13GetScriptNameEv", &ok);
    resolve(&a.function_name, "_ZNK2v810StackFrame15GetFunctionNameEv", &ok);
    resolve(&a.write_utf8, "_ZNK2v86String9WriteUtf8EPNS_7IsolateEPciPii", &ok);
  }
  a.ready = ok;
  state.store(2, std::memory_order_release);
  return resolved;
}

// String::WriteOptions: NO_NULL_TERMINATION | REPLACE_INVALID_UTF8.
constexpr int kWriteOptions = 2 | 8;

void copy_string(const V8Api& v8, void* isolate, void* str, char* out, size_t cap) {
  out[0] = '\0';
  if (str == nullptr || cap < 2) return;
  int n = v8.write_utf8(str, isolate, out, static_cast<int>(cap - 1), nullptr, kWriteOptions);
  if (n < 0) n = 0;
  out[static_cast<size_t>(n) < cap ? n : cap - 1] = '\0';
}

}  // namespace

bool node_source(char* file, size_t file_cap, int* line, char* function, size_t function_cap) {
  const V8Api& v8 = api();
  if (!v8.ready) return false;
  void* isolate = v8.get_current();
  if (isolate == nullptr || !v8.in_context(isolate)) return false;

  alignas(16) unsigned char scope[64];  // v8::HandleScope is three pointers
  v8.scope_open(scope, isolate);
  bool found = false;
  void* trace = v8.current_stack_trace(isolate, kMaxFrames, kStackTraceOverview);
  int count = trace != nullptr ? v8.frame_count(trace) : 0;
  for (int i = 0; i < count && !found; ++i) {
    void* frame = v8.get_frame(trace, isolate, static_cast<uint32_t>(i));
    if (frame == nullptr) continue;
    copy_string(v8, isolate, v8.script_name(frame), file, file_cap);
    // Skip Node's own modules ("node:fs", "node:internal/...") and frames
    // without a script: the user's code is what the event should name.
    if (file[0] == '\0' || std::strncmp(file, "node:", 5) == 0) continue;
    *line = v8.location(frame).line + 1;
    copy_string(v8, isolate, v8.function_name(frame), function, function_cap);
    found = true;
  }
  v8.scope_close(scope);
  return found;
}

}  // namespace fnguard::enforcer
