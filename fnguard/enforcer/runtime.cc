// The enforcer's process-wide state: start-up (parse FNGUARD_ENFORCER, map
// and validate the sealed policy image and the context page, say hello to the
// supervisor, wait at the gate when it could not start), the re-entrancy guard, real-symbol lookup
// and event emission.
//
// Decisions made here:
// - An image that is missing, unsealed or fails image_validate() leaves the
//   enforcer inactive (hooks pass through) and, when the events socket works,
//   sends a `lifecycle` error event. No hello is sent then, so `fnguard run`
//   refuses to let the program run (fail closed).
// - When a gate is named and the enforcer could NOT start (no usable image),
//   the constructor blocks until the supervisor writes one byte (it may allow
//   an unprotected run under require.preload: false). EOF on the gate means
//   the supervisor gave up on us: the process exits (status 127) rather than
//   run unprotected. An enforcer that did start has nothing to wait for: it
//   is already enforcing, so it sends hello, closes the gate and returns at
//   once (the hello/gate round trip was ~0.1 ms of every cold start). A gate
//   number that is not an open descriptor (a child that inherited a stale
//   spec) is ignored.
// - The gate part is removed from FNGUARD_ENFORCER in place (the environment
//   string is edited, nothing allocated), so children never wait.
// - Events are sent with a raw send(MSG_DONTWAIT|MSG_NOSIGNAL); a full socket
//   drops the event and counts it; the next event that gets through carries
//   "dropped":N.
// - The phase is read from the context page as one byte without the sequence
//   lock (a byte cannot tear); report() copies the fields it needs under it.
#include "fnguard/enforcer/runtime.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "fnguard/enforcer/protocol.h"
#include "fnguard/enforcer/source.h"
#include "fnguard/events/json_writer.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

namespace fnguard::enforcer {
namespace {

constexpr size_t kEventBuffer = 8192;

struct State {
  bool active = false;
  image::View view;
  const image::ContextPage* context = nullptr;
  int image_fd = -1;
  int context_fd = -1;
  int events_fd = -1;
  int gate_fd = -1;  // only until the gate opened
  bool enabled[image::kControlCount] = {};
  bool phased_rules = false;  // some rule carries `phase: init|invoke`
  // /proc/self/exe, read on first use (exe_path()): 0 not read, 1 being
  // stored, 2 in `exe`.
  std::atomic<int> exe_state{0};
  char exe[kExePathMax] = {};
  char argv0[256] = {};
  char fn_name[160] = {};
  char fn_version[64] = {};
  char fn_region[32] = {};
  char env_preload[2048] = {};
  char env_enforcer[160] = {};
  bool has_preload = false;
  bool has_enforcer = false;
};

State g_state;
std::atomic<uint64_t> g_dropped{0};

// Nesting depth of enforcer code on this thread. initial-exec TLS: no
// allocation or lock on first access, which matters inside hooks.
__attribute__((tls_model("initial-exec"))) thread_local int t_depth = 0;
// Set while report_at() runs on this thread.
__attribute__((tls_model("initial-exec"))) thread_local bool t_reporting = false;

void copy_str(char* out, size_t cap, const char* in) {
  size_t i = 0;
  if (in != nullptr) {
    for (; in[i] != '\0' && i + 1 < cap; ++i) out[i] = in[i];
  }
  out[i] = '\0';
}

bool starts_with(const char* s, const char* prefix) {
  return std::strncmp(s, prefix, std::strlen(prefix)) == 0;
}

const char* env_value(char** envp, const char* name) {
  if (envp == nullptr) return nullptr;
  size_t n = std::strlen(name);
  for (char** e = envp; *e != nullptr; ++e) {
    if (std::strncmp(*e, name, n) == 0 && (*e)[n] == '=') return *e + n + 1;
  }
  return nullptr;
}

// Parses "image=1019,context=1020,events=1021[,gate=1022]". Unknown keys are
// ignored (a newer supervisor may add some); malformed numbers make the key
// absent.
void parse_spec(const char* spec, int* image, int* context, int* events, int* gate) {
  const char* p = spec;
  while (*p != '\0') {
    const char* key = p;
    while (*p != '\0' && *p != '=' && *p != ',') ++p;
    size_t key_len = static_cast<size_t>(p - key);
    int value = -1;
    if (*p == '=') {
      ++p;
      long v = 0;
      bool digits = false;
      while (*p >= '0' && *p <= '9' && v < 1000000) {
        v = v * 10 + (*p - '0');
        digits = true;
        ++p;
      }
      if (digits && (*p == ',' || *p == '\0')) value = static_cast<int>(v);
    }
    while (*p != '\0' && *p != ',') ++p;
    if (*p == ',') ++p;
    auto is = [&](const char* k) {
      return key_len == std::strlen(k) && std::strncmp(key, k, key_len) == 0;
    };
    if (is("image")) *image = value;
    if (is("context")) *context = value;
    if (is("events")) *events = value;
    if (is("gate")) *gate = value;
  }
}

// Removes ",gate=N" (or "gate=N,") from the environment string in place.
void strip_gate(char* value) {
  char* gate = std::strstr(value, "gate=");
  if (gate == nullptr) return;
  char* end = gate;
  while (*end != '\0' && *end != ',') ++end;
  if (gate > value && gate[-1] == ',') {
    --gate;  // drop the comma before
  } else if (*end == ',') {
    ++end;  // first item: drop the comma after
  }
  std::memmove(gate, end, std::strlen(end) + 1);
}

long raw_send(int fd, const char* data, size_t len) {
  return syscall(SYS_sendto, fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL, nullptr, 0);
}

void write_time(events::JsonWriter& w) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  char when[32];
  events::format_utc(ts.tv_sec, static_cast<int32_t>(ts.tv_nsec), when);
  w.field("time", when);
}

// The executable of this process, read on first use: a start that reports
// nothing never pays its process's first /proc lookup (~16 us on our test
// VM, on every cold start). Until it is cached (a thread that read it
// publishes it) it is read into `scratch`, which then holds the answer: ""
// if it cannot be read. errno is left as it was.
const char* exe_path(char (&scratch)[kExePathMax]) {
  if (g_state.exe_state.load(std::memory_order_acquire) == 2) return g_state.exe;
  int saved = errno;
  long n = syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", scratch, sizeof scratch - 1);
  errno = saved;
  scratch[n > 0 ? n : 0] = '\0';
  int expected = 0;
  if (n > 0 && g_state.exe_state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
    std::memcpy(g_state.exe, scratch, static_cast<size_t>(n) + 1);
    g_state.exe_state.store(2, std::memory_order_release);
  }
  return scratch;
}

void write_process(events::JsonWriter& w) {
  w.begin_object("process");
  w.field_int("pid", syscall(SYS_getpid));
  w.field_int("ppid", syscall(SYS_getppid));
  char scratch[kExePathMax];
  if (const char* exe = exe_path(scratch); exe[0] != '\0') w.field("exe", exe);
  if (g_state.argv0[0] != '\0') w.field("argv0", g_state.argv0);
  w.end_object();
}

const char* phase_name(image::Phase phase) {
  switch (phase) {
    case image::Phase::kInit:
      return "init";
    case image::Phase::kInvoke:
      return "invoke";
    default:
      return nullptr;
  }
}

// What an event needs from the context page. The full page is ~9 KB; a
// signal handler on a small alternate stack could not hold it next to the
// event buffer, so report() copies only these fields under the page's
// sequence lock.
struct EventContext {
  image::Phase phase = image::Phase::kAny;
  bool degraded = false;
  char request_id[64] = {};
  char arn[256] = {};
  char taint_field[128] = {};
  char taint_value[256] = {};
  size_t taint_field_len = 0;
  size_t taint_value_len = 0;
};

void copy_bounded(char* out, size_t cap, const char* in, size_t in_cap) {
  size_t n = strnlen(in, in_cap);
  if (n >= cap) n = cap - 1;
  std::memcpy(out, in, n);
  out[n] = '\0';
}

// Sequence-locked read of the fields above; the taint is the first value
// from the current invocation's event that occurs in `target`.
bool read_context(const image::ContextPage* page, const char* target, const char* also,
                  EventContext* out) {
  size_t target_len = target != nullptr ? std::strlen(target) : 0;
  size_t also_len = also != nullptr ? std::strlen(also) : 0;
  for (int attempt = 0; attempt < 64; ++attempt) {
    uint32_t before = page->seq.load(std::memory_order_acquire);
    if ((before & 1u) != 0) continue;
    if (page->magic != image::kContextMagic) return false;
    out->phase = page->phase;
    out->degraded = page->degraded != 0;
    copy_bounded(out->request_id, sizeof out->request_id, page->request_id,
                 sizeof page->request_id);
    copy_bounded(out->arn, sizeof out->arn, page->function_arn, sizeof page->function_arn);
    out->taint_field_len = out->taint_value_len = 0;
    uint32_t count = page->taint_count < image::kMaxTaints ? page->taint_count : image::kMaxTaints;
    for (uint32_t i = 0; i < count && (target_len > 0 || also_len > 0); ++i) {
      image::TaintValue t = page->taints[i];
      if (size_t{t.value_offset} + t.value_length > sizeof page->taint_data ||
          size_t{t.field_offset} + t.field_length > sizeof page->taint_data ||
          t.value_length == 0) {
        continue;
      }
      const char* value = page->taint_data + t.value_offset;
      // The value occurs in the target or the extra subject, or (a URL from
      // the event naming the host connected to) the extra subject in the value.
      if ((target_len == 0 || memmem(target, target_len, value, t.value_length) == nullptr) &&
          (also_len == 0 || memmem(also, also_len, value, t.value_length) == nullptr) &&
          (also_len < 4 || memmem(value, t.value_length, also, also_len) == nullptr)) {
        continue;
      }
      out->taint_field_len =
          t.field_length < sizeof out->taint_field ? t.field_length : sizeof out->taint_field - 1;
      out->taint_value_len =
          t.value_length < sizeof out->taint_value ? t.value_length : sizeof out->taint_value - 1;
      std::memcpy(out->taint_field, page->taint_data + t.field_offset, out->taint_field_len);
      std::memcpy(out->taint_value, value, out->taint_value_len);
      break;
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (page->seq.load(std::memory_order_relaxed) == before) return true;
  }
  return false;
}

// True when one of `subjects` contains a taint value of the current
// invocation (sequence-locked read; a page that keeps changing counts as no
// taint rather than stalling the caller). A degraded page (the proxy saw a
// raw relay that may have carried an invocation) keeps its taint values:
// they are the last invocation the proxy saw, and dropping them let any
// connection to the proxy that merely mentioned /next switch `taint: block`
// off for the invocation in flight (found by a review, tenth session of
// 2026-11-23). Stale values can only refuse more, never less.
bool subjects_tainted(const image::ContextPage* page, const char* const* subjects,
                      bool value_contains_subject) {
  for (int attempt = 0; attempt < 64; ++attempt) {
    uint32_t before = page->seq.load(std::memory_order_acquire);
    if ((before & 1u) != 0) continue;
    if (page->magic != image::kContextMagic) return false;
    bool hit = false;
    uint32_t count = page->taint_count < image::kMaxTaints ? page->taint_count : image::kMaxTaints;
    for (uint32_t i = 0; i < count && !hit; ++i) {
      image::TaintValue t = page->taints[i];
      if (size_t{t.value_offset} + t.value_length > sizeof page->taint_data || t.value_length == 0)
        continue;
      const char* value = page->taint_data + t.value_offset;
      for (const char* const* s = subjects; *s != nullptr && !hit; ++s) {
        size_t n = std::strlen(*s);
        hit = value_contains_subject
                  ? n >= 4 && memmem(value, t.value_length, *s, n) != nullptr
                  : memmem(*s, n, value, t.value_length) != nullptr;
      }
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (page->seq.load(std::memory_order_relaxed) == before) return hit;
  }
  return false;
}

void write_function(events::JsonWriter& w, const EventContext* ctx) {
  const char* phase = ctx != nullptr ? phase_name(ctx->phase) : nullptr;
  bool any =
      g_state.fn_name[0] != '\0' ||
      (ctx != nullptr && (ctx->arn[0] != '\0' || ctx->request_id[0] != '\0' || phase != nullptr));
  if (!any) return;
  w.begin_object("function");
  if (g_state.fn_name[0] != '\0') w.field("name", g_state.fn_name);
  if (g_state.fn_version[0] != '\0') w.field("version", g_state.fn_version);
  if (ctx != nullptr && ctx->arn[0] != '\0') w.field("arn", ctx->arn);
  if (g_state.fn_region[0] != '\0') w.field("region", g_state.fn_region);
  // A degraded proxy lost track of the invocation: no request id rather than a wrong one.
  if (ctx != nullptr && !ctx->degraded && ctx->request_id[0] != '\0')
    w.field("request_id", ctx->request_id);
  if (phase != nullptr) w.field("phase", phase);
  w.end_object();
}

void write_taint(events::JsonWriter& w, const EventContext* ctx) {
  if (ctx == nullptr || ctx->taint_value_len == 0) return;
  w.begin_object("taint");
  w.field("field", ctx->taint_field, ctx->taint_field_len);
  w.field("value", ctx->taint_value, ctx->taint_value_len);
  w.end_object();
}

void send_event(events::JsonWriter& w, uint64_t dropped_included) {
  if (g_state.events_fd < 0) return;
  if (raw_send(g_state.events_fd, w.data(), w.length()) < 0) {
    g_dropped.fetch_add(1, std::memory_order_relaxed);
  } else if (dropped_included > 0) {
    g_dropped.fetch_sub(dropped_included, std::memory_order_relaxed);
  }
}

void send_lifecycle_error(const char* message) {
  char buf[1024];
  events::JsonWriter w(buf, sizeof buf);
  w.begin_object();
  w.field_int("fnguard", 1);
  write_time(w);
  w.field("kind", "lifecycle");
  w.field("action", "error");
  w.field("message", message);
  write_process(w);
  w.field("enforcement", "preload");
  w.end_object();
  send_event(w, 0);
}

// Blocks until the supervisor writes the gate byte. EOF: the supervisor
// refused to let us run.
void wait_gate(int fd) {
  char byte = 0;
  long n;
  do {
    n = syscall(SYS_read, fd, &byte, 1);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EBADF) return;  // a stale spec in a child: no gate to wait at
  syscall(SYS_close, fd);
  if (n != 1) {
    static const char kMsg[] =
        "fnguard: the supervisor did not open the start gate; not running unprotected\n";
    syscall(SYS_write, 2, kMsg, sizeof kMsg - 1);
    syscall(SYS_exit_group, 127);
  }
}

// Maps a sealed memfd read-only. Returns nullptr when the descriptor is not
// a file, is empty, or lacks the seals in `required`.
const void* map_sealed(int fd, unsigned required, size_t* size) {
  struct stat st {};
  if (syscall(SYS_fstat, fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) return nullptr;
  long seals = syscall(SYS_fcntl, fd, F_GET_SEALS);
  if (seals < 0 || (static_cast<unsigned>(seals) & required) != required) return nullptr;
  long addr =
      syscall(SYS_mmap, nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
  if (addr < 0 && addr > -4096) return nullptr;
  *size = static_cast<size_t>(st.st_size);
  return reinterpret_cast<const void*>(addr);
}

void init(int argc, char** argv, char** envp) {
  ErrnoSaver errno_saver;
  ++t_depth;  // nothing we call may be checked by our own hooks
  const char* spec = env_value(envp, kEnvEnforcer);
  if (spec == nullptr) {
    --t_depth;
    return;  // not under a supervisor: inactive, hooks pass through
  }
  int image_fd = -1, context_fd = -1, events_fd = -1, gate_fd = -1;
  parse_spec(spec, &image_fd, &context_fd, &events_fd, &gate_fd);
  g_state.events_fd = events_fd;

  if (argc > 0 && argv != nullptr && argv[0] != nullptr)
    copy_str(g_state.argv0, sizeof g_state.argv0, argv[0]);
  copy_str(g_state.fn_name, sizeof g_state.fn_name, env_value(envp, "AWS_LAMBDA_FUNCTION_NAME"));
  copy_str(g_state.fn_version, sizeof g_state.fn_version,
           env_value(envp, "AWS_LAMBDA_FUNCTION_VERSION"));
  copy_str(g_state.fn_region, sizeof g_state.fn_region, env_value(envp, "AWS_REGION"));

  // Children must not wait at the gate: edit our environment in place.
  if (gate_fd >= 0) {
    for (char** e = envp; *e != nullptr; ++e) {
      if (starts_with(*e, kEnvEnforcer) && (*e)[std::strlen(kEnvEnforcer)] == '=') {
        strip_gate(*e + std::strlen(kEnvEnforcer) + 1);
      }
    }
  }
  const char* enforcer_value = env_value(envp, kEnvEnforcer);
  if (enforcer_value != nullptr) {
    size_t needed = std::strlen(kEnvEnforcer) + 1 + std::strlen(enforcer_value) + 1;
    if (needed <= sizeof g_state.env_enforcer) {
      std::strcpy(g_state.env_enforcer, kEnvEnforcer);
      std::strcat(g_state.env_enforcer, "=");
      std::strcat(g_state.env_enforcer, enforcer_value);
      g_state.has_enforcer = true;
    }
  }
  const char* preload_value = env_value(envp, kEnvPreload);
  if (preload_value != nullptr) {
    size_t needed = std::strlen(kEnvPreload) + 1 + std::strlen(preload_value) + 1;
    if (needed <= sizeof g_state.env_preload) {
      std::strcpy(g_state.env_preload, kEnvPreload);
      std::strcat(g_state.env_preload, "=");
      std::strcat(g_state.env_preload, preload_value);
      g_state.has_preload = true;
    }
  }

  const char* problem = nullptr;
  size_t image_size = 0;
  const void* data = nullptr;
  if (image_fd < 0 || events_fd < 0) {
    problem =
        "FNGUARD_ENFORCER names no policy image or events descriptor; the enforcer stays inactive";
  } else {
    data = map_sealed(image_fd, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW, &image_size);
    if (data == nullptr) {
      problem = "the policy image descriptor is not a sealed memfd; the enforcer stays inactive";
    } else if (const char* why = image::image_validate(data, image_size); why != nullptr) {
      problem = why;
    }
  }

  if (problem == nullptr) {
    g_state.view = image::View(data, image_size);
    g_state.image_fd = image_fd;
    for (size_t c = 0; c < image::kControlCount; ++c) {
      const image::ControlEntry& entry = g_state.view.control(static_cast<image::Control>(c));
      g_state.enabled[c] = entry.mode != image::Mode::kOff || entry.taint_mode != image::Mode::kOff;
      if (entry.taint_mode != image::Mode::kOff) detail::g_any_taint = true;
    }
    // Without phase-scoped rules the phase cannot change a decision, so the
    // hooks need not read the context page for it.
    for (uint32_t i = 0; i < g_state.view.header().rule_count; ++i) {
      if (g_state.view.rule(i).phase != image::Phase::kAny) g_state.phased_rules = true;
    }
    if (context_fd >= 0) {
      size_t context_size = 0;
      const void* page = map_sealed(context_fd, F_SEAL_SHRINK | F_SEAL_GROW, &context_size);
      // Without F_SEAL_FUTURE_WRITE or F_SEAL_WRITE the process could forge
      // the request id through a writable mapping: ignore such a page.
      long seals = syscall(SYS_fcntl, context_fd, F_GET_SEALS);
      bool sealed = seals >= 0 && (seals & (F_SEAL_FUTURE_WRITE | F_SEAL_WRITE)) != 0;
      if (page != nullptr && sealed && context_size >= sizeof(image::ContextPage)) {
        g_state.context = static_cast<const image::ContextPage*>(page);
        g_state.context_fd = context_fd;
      }
    }
    g_state.active = true;
    source::init();
    char hello[96];
    events::JsonWriter w(hello, sizeof hello);
    // kHelloPrefix is an unterminated object: append the pid by hand.
    size_t len = std::strlen(kHelloPrefix);
    std::memcpy(hello, kHelloPrefix, len);
    static const char kPid[] = ",\"pid\":";
    std::memcpy(hello + len, kPid, sizeof kPid - 1);
    len += sizeof kPid - 1;
    char digits[24];
    size_t nd = 0;
    long pid = syscall(SYS_getpid);
    do {
      digits[nd++] = static_cast<char>('0' + pid % 10);
      pid /= 10;
    } while (pid > 0);
    while (nd > 0) hello[len++] = digits[--nd];
    hello[len++] = '}';
    raw_send(events_fd, hello, len);
  } else {
    g_state.events_fd = events_fd;
    send_lifecycle_error(problem);
  }
  if (gate_fd >= 0) {
    if (g_state.active) syscall(SYS_close, gate_fd);
    else wait_gate(gate_fd);
  }
  --t_depth;
}

}  // namespace

// glibc passes argc, argv and envp to constructors of shared objects.
__attribute__((constructor)) static void fnguard_enforcer_init(int argc, char** argv, char** envp) {
  init(argc, argv, envp);
}

bool active() { return g_state.active; }

const image::View& policy() { return g_state.view; }

const image::ContextPage* context() { return g_state.context; }

image::Phase current_phase() {
  const image::ContextPage* page = g_state.context;
  if (page == nullptr || !g_state.phased_rules) return image::Phase::kAny;
  uint8_t raw = __atomic_load_n(reinterpret_cast<const uint8_t*>(&page->phase), __ATOMIC_RELAXED);
  return raw <= static_cast<uint8_t>(image::Phase::kInvoke) ? static_cast<image::Phase>(raw)
                                                            : image::Phase::kAny;
}

namespace detail {
bool g_any_taint = false;
}

bool taint_enabled(image::Control control) {
  return g_state.active && g_state.context != nullptr &&
         g_state.view.control(control).taint_mode != image::Mode::kOff;
}

image::Decision apply_taint(const image::Decision& decision, image::Control control,
                            const char* const* subjects, bool value_contains_subject) {
  if (!taint_enabled(control) || decision.blocks()) return decision;
  image::Mode mode = g_state.view.control(control).taint_mode;
  // Already reported at least as strongly by the rules: keep their name.
  if (decision.reports() && mode != image::Mode::kBlock) return decision;
  if (!subjects_tainted(g_state.context, subjects, value_contains_subject)) return decision;
  image::Decision tainted;
  tainted.control = control;
  tainted.verdict = image::Verdict::kDeny;
  tainted.mode = mode;
  tainted.rule = image::kTaintRule;
  return tainted;
}

bool control_enabled(image::Control control) {
  return g_state.active && g_state.enabled[static_cast<size_t>(control)];
}

Guard::Guard() : entered_(t_depth == 0) { ++t_depth; }

bool inside_enforcer() { return t_depth != 0; }
Guard::~Guard() { --t_depth; }

void* next_symbol(const char* name) {
  ErrnoSaver errno_saver;
  ++t_depth;
  void* sym = dlsym(RTLD_NEXT, name);
  --t_depth;
  return sym;
}

bool is_own_fd(int fd) {
  if (fd < 0) return false;
  return fd == g_state.image_fd || fd == g_state.context_fd || fd == g_state.events_fd ||
         fd == g_state.gate_fd;
}

size_t own_fds(int* out, size_t cap) {
  const int fds[] = {g_state.image_fd, g_state.context_fd, g_state.events_fd, g_state.gate_fd};
  size_t n = 0;
  for (int fd : fds) {
    if (fd < 0 || n >= cap) continue;
    size_t i = n++;
    while (i > 0 && out[i - 1] > fd) {
      out[i] = out[i - 1];
      --i;
    }
    out[i] = fd;
  }
  return n;
}

const char* process_exe(char (&scratch)[kExePathMax]) { return exe_path(scratch); }

const char* saved_env_preload() { return g_state.has_preload ? g_state.env_preload : nullptr; }
const char* saved_env_enforcer() { return g_state.has_enforcer ? g_state.env_enforcer : nullptr; }

void report_at(const Report& report, const void* caller) {
  if (g_state.events_fd < 0) return;
  ErrnoSaver errno_saver;
  // A report that interrupts another one on this thread (a signal handler
  // during report_at) must not re-enter a language runtime: no source then.
  bool nested = t_reporting;
  t_reporting = true;
  ++t_depth;
  const image::Decision& d = report.decision;
  char buf[kEventBuffer];
  events::JsonWriter w(buf, sizeof buf);
  w.begin_object();
  w.field_int("fnguard", 1);
  write_time(w);  // second field: the supervisor strips it to fold repeats
  w.field("kind", image::is_honeypot(g_state.view, d) ? "honeypot" : "violation");
  w.field("control", image::control_name(d.control));
  w.field("action", d.blocks() ? "blocked" : "allowed");
  w.field("mode", image::mode_name(d.mode));
  char rule[128];
  if (report.rule != nullptr) {
    w.field("rule", report.rule);
  } else {
    image::rule_name(g_state.view, d, rule, sizeof rule);
    w.field("rule", rule);
  }
  if (report.target != nullptr) w.field("target", report.target);
  if (report.detail != nullptr) w.field_raw("detail", report.detail);
  write_process(w);

  EventContext event_context;
  const EventContext* ctx = nullptr;
  if (g_state.context != nullptr && read_context(g_state.context, report.target, report.taint_subject, &event_context)) {
    ctx = &event_context;
  }
  write_function(w, ctx);
  if (!nested) source::write_source(w, caller, d.control);
  write_taint(w, ctx);
  w.field("enforcement", "preload");
  uint64_t dropped = g_dropped.load(std::memory_order_relaxed);
  if (dropped > 0) w.field_int("dropped", static_cast<int64_t>(dropped));
  w.end_object();
  if (w.ok()) {
    send_event(w, dropped);
  } else {
    g_dropped.fetch_add(1, std::memory_order_relaxed);
  }
  --t_depth;
  t_reporting = nested;
}

}  // namespace fnguard::enforcer
