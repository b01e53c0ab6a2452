// The enforcer's process-wide state and the services every hook uses:
// re-entrancy guard, errno preservation, the mapped policy image and context
// page, the current phase, and event emission.
//
// Rules for code in fnguard/enforcer/ (it runs inside someone else's process):
// no exceptions, no RTTI, no malloc/new and no locks on any path a hook takes,
// errno preserved on the allow path, every libc call that could re-enter a
// hook made through the real function or a raw syscall, nothing exported but
// the hooks (FNGUARD_EXPORT), never abort().
#pragma once

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "fnguard/image/context.h"
#include "fnguard/image/decide.h"
#include "fnguard/image/format.h"

#define FNGUARD_EXPORT extern "C" __attribute__((visibility("default")))

namespace fnguard::enforcer {

// True once the constructor mapped a valid image. When false (no supervisor,
// broken image) every hook passes straight through to libc.
bool active();
const image::View& policy();
// The context page, or nullptr when there is none.
const image::ContextPage* context();
// The phase from the context page (kAny when unknown).
image::Phase current_phase();

// True for a pointer into the first page, where no process has memory
// (Linux maps nothing below vm.mmap_min_addr, 4096 at the least unless root
// lowers it): NULL, or a field of a struct reached through NULL, as a buggy
// caller passes. A hook hands such a path or address on as it would NULL,
// and the kernel answers EFAULT, as without fnguard, where reading it would
// crash the caller. Other invalid pointers still do (THREAT_MODEL.md).
inline bool unmapped_pointer(const void* p) { return reinterpret_cast<uintptr_t>(p) < 4096; }

// Per-thread re-entrancy guard: a hook that finds the guard held (because the
// enforcer itself called into libc) passes through without checking.
class Guard {
 public:
  Guard();
  ~Guard();
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;
  bool entered() const { return entered_; }  // false: already inside the enforcer

 private:
  bool entered_;
};

class ErrnoSaver {
 public:
  ErrnoSaver() : saved_(errno) {}
  ~ErrnoSaver() { errno = saved_; }
  ErrnoSaver(const ErrnoSaver&) = delete;
  ErrnoSaver& operator=(const ErrnoSaver&) = delete;

 private:
  int saved_;
};

// True while this thread runs the enforcer's own libc use (symbol lookup,
// event reporting): a hook entered then must pass straight through. Unlike
// Guard it does not mark the thread, so a hook that checks without holding a
// Guard stays checked when a signal handler interrupts it.
bool inside_enforcer();

// Looks up the next definition of a libc symbol (RTLD_NEXT) once; the
// result is cached by the caller in a function-local static pointer.
void* next_symbol(const char* name);
#define FNGUARD_NEXT(fn) reinterpret_cast<decltype(&fn)>(::fnguard::enforcer::next_symbol(#fn))

// The same, resolved on first use into a per-call-site atomic slot (the
// enforcer is built without thread-safe statics; a race resolves twice to the
// same pointer). REAL(open)(path, flags) calls libc's open.
template <typename Fn>
Fn resolve_next(std::atomic<void*>& slot, const char* name) {
  void* p = slot.load(std::memory_order_relaxed);
  if (p == nullptr) {
    p = next_symbol(name);
    slot.store(p, std::memory_order_relaxed);
  }
  return reinterpret_cast<Fn>(p);
}
#define REAL(fn)                                                             \
  ([]() {                                                                    \
    static std::atomic<void*> slot{nullptr};                                 \
    return ::fnguard::enforcer::resolve_next<decltype(&::fn)>(slot, #fn);     \
  }())

// An event to report. `target` is the path/command/address; `detail` is an
// optional JSON object text ("{\"flags\":\"O_RDONLY\"}").
struct Report {
  image::Decision decision;
  const char* target = nullptr;
  const char* detail = nullptr;
  // Overrides the rule name derived from `decision` for violations that no
  // policy rule expresses ("require.preload": a static binary the enforcer
  // cannot follow). nullptr: image::rule_name().
  const char* rule = nullptr;
  // What the taint search looks in when it is not the target: the command
  // line of an exec, the path as the caller wrote it. nullptr: `target`.
  const char* taint_subject = nullptr;
};

// Formats and sends a violation event (action blocked/allowed from the
// decision), with process, function, source location and taint fields.
// Never blocks the caller for long (MSG_DONTWAIT; drops are counted).
// Preserves errno.
//
// `caller` is the return address of the hook (the code that called libc),
// used for the native source location. report() is always inlined into the
// hook so that __builtin_return_address(0) names the hook's caller; call
// report_at() directly from a helper that is not the hook itself.
void report_at(const Report& report, const void* caller);
__attribute__((always_inline)) inline void report(const Report& r) {
  report_at(r, __builtin_return_address(0));
}

// True when `control` is not off in the image (and the enforcer is active):
// the cheap first test of every hook.
bool control_enabled(image::Control control);

// Taint (issue 4): a control with `taint: monitor|block` treats an operation
// whose argument contains a value from the current invocation's event (the
// values the Runtime API proxy published in the context page) as a
// violation in that mode, whatever the rules say. taint_enabled() is the
// cheap test; apply_taint() returns `decision` unchanged unless one of
// `subjects` (null-terminated list) contains a taint value and the taint
// mode makes the decision worse, in which case it returns a deny decision in
// the taint mode with rule image::kTaintRule.
bool taint_enabled(image::Control control);
namespace detail {
extern bool g_any_taint;  // set once at start-up: some control has a taint mode
}
// The hot-path test: no call, one load.
inline bool any_taint_enabled() { return detail::g_any_taint; }
// With `value_contains_subject`, the match runs the other way: a taint value
// contains a subject (a URL from the event names the host being connected to).
image::Decision apply_taint(const image::Decision& decision, image::Control control,
                            const char* const* subjects, bool value_contains_subject = false);

// The protocol environment entries as they were at start-up, for exec hooks
// that must put them back into an environment the caller passes on:
// "LD_PRELOAD=<value>" and "FNGUARD_ENFORCER=<value without gate>".
// nullptr when the variable was absent.
const char* saved_env_preload();
const char* saved_env_enforcer();

// The executable of this process (/proc/self/exe, read on first use and
// kept), "" if unknown. `scratch` holds it until it is kept.
inline constexpr size_t kExePathMax = 512;
const char* process_exe(char (&scratch)[kExePathMax]);

// The descriptors the enforcer owns (image, context, events); hooks that
// close or replace descriptors consult this.
bool is_own_fd(int fd);
// The same descriptors in ascending order (at most 4); returns the count.
size_t own_fds(int* out, size_t cap);

}  // namespace fnguard::enforcer
