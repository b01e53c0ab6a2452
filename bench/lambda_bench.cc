// What fnguard adds to a Lambda function, measured against the same runtime
// without it, in one run, through the real protocol:
//
//   cold start   spawn of the runtime (Python bootstrap, app.hello) until its
//                first response: unprotected, vs through /opt/fnguard-wrapper
//                of a layer zip built (`fnguard layer build`) and unpacked
//                for the run, which is fnguard itself (proxy, policy
//                compile, kernel backstop, enforcer preload and hello); also
//                split at the runtime's first GET /invocation/next; and a
//                third side through a static wrapper that only execs the
//                runtime (the floor of any exec wrapper; "over exec" is
//                what fnguard adds beyond it);
//   per invoke   a 4 KB API Gateway v2 event handed out on /next until the
//                response is posted, on a warm runtime, inspection on (monitor).
//
// The local Runtime API server (fnguard/lambda/runtime_api_server.h) plays
// AWS. Reports medians and p90 of each, and the differences; then the
// wrapper's own account of its start, phase by phase (the "startup_us" of
// its `started` events, which go to a file as they would go to the log).
//
//   build/bin/lambda_bench [--source DIR] [--cold N] [--warm N] [--overlap]
//
// FNGUARD_BENCH_OTHER=PATH puts another fnguard-wrapper (another build:
// PATH is its fnguard-wrapper symlink, beside its lib/ and share/) in the
// exec-only side's place, so that two builds are compared interleaved in
// one run; the last column is then fnguard minus the other build.
//
// --overlap starts each warm invocation as soon as the previous one (the
// other side's) was answered, as this benchmark did before 2026-11-23's third
// session: the other runtime's post-answer work then runs during the
// measured invocation, which on two CPUs roughly doubled fnguard's "added".
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "bench/bench_events.h"
#include "fnguard/common/self_path.h"
#include "fnguard/lambda/runtime_api_server.h"

namespace lb = fnguard::lambda;

namespace {

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

std::string python() {
  if (const char* p = std::getenv("FNGUARD_PYTHON")) return p;
  return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

// /opt/fnguard-wrapper of the layer zip, as Lambda unpacks it (see main).
std::string g_wrapper;

// Builds the layer with this build's fnguard and unpacks it into a fresh
// directory; returns its fnguard-wrapper, or "" when that fails.
std::string unpack_layer() {
  char dir[] = "/tmp/fnguard-bench-layer-XXXXXX";
  if (mkdtemp(dir) == nullptr) return "";
  std::string d = dir;
  std::string build = fnguard::install_prefix() + "/bin/fnguard layer build --out " + d +
                      "/layer.zip >/dev/null && unzip -q " + d + "/layer.zip -d " + d + "/opt";
  if (std::system(build.c_str()) != 0) return "";
  return d + "/opt/fnguard-wrapper";
}

// The three ways the runtime is started.
enum Side { kUnprotected = 0, kExecOnly = 1, kFnguard = 2, kSides = 3 };
const char* const kSideName[kSides] = {"unprotected", "exec-only", "fnguard"};
// Where each side's fnguard writes its events ("": /dev/null).
std::string g_events[kSides];

// The medians of the "startup_us" phases of the `started` events in the
// events file at `path`, in the order they appear; empty when there are none
// (no such file, or a build from before 2026-11-23's sixth session).
std::vector<std::pair<std::string, double>> startup_phases(const std::string& path) {
  std::vector<std::pair<std::string, std::vector<double>>> phases;
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return {};
  char line[16384];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    const char* p = std::strstr(line, "\"startup_us\":{");
    if (std::strstr(line, "\"action\":\"started\"") == nullptr || p == nullptr) continue;
    p += std::strlen("\"startup_us\":{");
    for (size_t i = 0; *p == '"'; ++i) {
      const char* end = std::strchr(p + 1, '"');
      if (end == nullptr || end[1] != ':') break;
      std::string name(p + 1, end);
      char* after = nullptr;
      double v = std::strtod(end + 2, &after);
      if (i == phases.size()) phases.push_back({name, {}});
      if (phases[i].first == name) phases[i].second.push_back(v);
      p = *after == ',' ? after + 1 : after;
    }
  }
  std::fclose(f);
  std::vector<std::pair<std::string, double>> out;
  for (auto& [name, v] : phases) {
    std::sort(v.begin(), v.end());
    out.push_back({name, v[v.size() / 2]});
  }
  return out;
}

pid_t spawn(Side side, const lb::RuntimeApiServer& server, const std::string& dir) {
  std::vector<std::string> argv;
  // fnguard: the layer's /opt/fnguard-wrapper as Lambda runs it (the build
  // tree has the same symlink to bin/fnguard). exec-only: a static wrapper
  // that only execs the runtime (bench/exec_only_wrapper.cc), the floor of
  // any exec wrapper. FNGUARD_BENCH_WRAPPER replaces fnguard's (an A/A
  // check: "none" starts that side unprotected too, so its "added" column
  // shows the method's own bias).
  const char* wrapper = std::getenv("FNGUARD_BENCH_WRAPPER");
  const char* other = std::getenv("FNGUARD_BENCH_OTHER");
  if (side == kExecOnly) argv = {other != nullptr ? other : FNGUARD_EXEC_ONLY_WRAPPER};
  if (side == kFnguard && wrapper == nullptr) argv = {g_wrapper};
  if (side == kFnguard && wrapper != nullptr && std::strcmp(wrapper, "none") != 0) argv = {wrapper};
  argv.push_back(python());
  argv.push_back(fnguard::data_dir() + "/python/bootstrap.py");
  std::vector<std::string> env = server.runtime_environment();
  env.push_back(std::string("PATH=") + (std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin"));
  // fnguard's events go to a file, as they would go to the log in Lambda;
  // the `started` events' "startup_us" give the wrapper's phases (below).
  env.push_back("FNGUARD_EVENTS=" + (g_events[side].empty() ? "/dev/null" : g_events[side]));
  for (const char* keep : {"FNGUARD_MODE", "FNGUARD_POLICY", "FNGUARD_KERNEL", "FNGUARD_DISABLE"}) {
    if (const char* v = std::getenv(keep)) env.push_back(std::string(keep) + "=" + v);
  }
  std::vector<char*> a, e;
  for (auto& s : argv) a.push_back(s.data());
  a.push_back(nullptr);
  for (auto& s : env) e.push_back(s.data());
  e.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    if (chdir(dir.c_str()) != 0) _exit(125);
    int null = open("/dev/null", 1);
    dup2(null, 1);
    if (std::getenv("FNGUARD_BENCH_VERBOSE") == nullptr) dup2(null, 2);
    execvpe(a[0], a.data(), e.data());
    _exit(127);
  }
  return pid;
}

void stop(pid_t pid) {
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
}

// CPU time in ms that the live threads of process `pid` have run
// (/proc/PID/task/*/schedstat, first field, nanoseconds); 0 when unreadable.
// With `main_ms`, also the main thread's share (the task whose id is `pid`).
double cpu_ms(pid_t pid, double* main_ms = nullptr) {
  if (main_ms != nullptr) *main_ms = 0;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return 0;
  const std::string main_tid = std::to_string(pid);
  double total = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    FILE* f = std::fopen((dir + "/" + e->d_name + "/schedstat").c_str(), "r");
    if (f == nullptr) continue;
    unsigned long long ns = 0;
    if (std::fscanf(f, "%llu", &ns) == 1) {
      total += ns / 1e6;
      if (main_ms != nullptr && main_tid == e->d_name) *main_ms = ns / 1e6;
    }
    std::fclose(f);
  }
  closedir(d);
  return total;
}

// Minor page faults of process `pid` so far (/proc/PID/stat, field 10,
// all its threads); 0 when unreadable.
double minor_faults(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return 0;
  char buf[1024];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // After the command name's closing parenthesis: state is field 3; minflt is 10.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return 0;
  unsigned long long v[8] = {};
  char state;
  if (std::sscanf(p + 1, " %c %llu %llu %llu %llu %llu %llu %llu", &state, &v[0], &v[1], &v[2],
                  &v[3], &v[4], &v[5], &v[6]) != 8)
    return 0;
  return static_cast<double>(v[6]);
}

// The first child of process `pid` (/proc/PID/task/PID/children), or -1.
pid_t first_child(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children";
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return -1;
  int child = -1;
  if (std::fscanf(f, "%d", &child) != 1) child = -1;
  std::fclose(f);
  return child;
}

struct Stats {
  double median, p90;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v[v.size() * 9 / 10]};
}

// The median of the per-round differences b[i] - a[i] (the sides of one
// round start back to back, so slow spells of the machine cancel out), with
// a 95% bootstrap interval: the 2.5th and 97.5th percentiles of the medians
// of 2000 resamples (fixed seed: the same samples give the same interval).
struct Difference {
  double median, low, high;
};

Difference paired_difference(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> d;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) d.push_back(b[i] - a[i]);
  if (d.empty()) return {0, 0, 0};
  std::vector<double> medians, sample(d.size());
  uint64_t state = 0x9e3779b97f4a7c15ull;
  for (int r = 0; r < 2000; ++r) {
    for (double& x : sample) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      x = d[state % d.size()];
    }
    std::nth_element(sample.begin(), sample.begin() + sample.size() / 2, sample.end());
    medians.push_back(sample[sample.size() / 2]);
  }
  std::sort(medians.begin(), medians.end());
  return {stats(d).median, medians[medians.size() * 25 / 1000], medians[medians.size() * 975 / 1000]};
}

}  // namespace

int main(int argc, char** argv) {
  std::string source = FNGUARD_SOURCE_DIR;
  int cold = 15, warm = 1000;
  bool overlap = false;  // --overlap: the old method, for comparison (see the warm loop)
  for (int i = 1; i < argc; ++i) {
    bool has_value = i + 1 < argc;
    if (has_value && std::strcmp(argv[i], "--source") == 0) source = argv[++i];
    else if (has_value && std::strcmp(argv[i], "--cold") == 0) cold = std::atoi(argv[++i]);
    else if (has_value && std::strcmp(argv[i], "--warm") == 0) warm = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--overlap") == 0)
      overlap = true;
  }
  std::string dir = source + "/examples/lambda/python";
  // The protected side runs exactly what a user uploads: the layer zip
  // (stripped binaries, the wrapper symlink), built now and unpacked.
  g_wrapper = unpack_layer();
  if (g_wrapper.empty()) {
    std::fprintf(stderr, "lambda_bench: could not build and unpack the layer (needs unzip)\n");
    return 1;
  }
  // The directory the layer was unpacked in (removed at the end) also holds
  // the events files.
  const std::string unpacked =
      g_wrapper.substr(0, g_wrapper.size() - sizeof "/opt/fnguard-wrapper" + 1);
  g_events[kFnguard] = unpacked + "/events-fnguard.jsonl";
  if (std::getenv("FNGUARD_BENCH_OTHER") != nullptr) {
    g_events[kExecOnly] = unpacked + "/events-other.jsonl";
  }
  lb::FunctionSettings settings;
  settings.name = "bench";
  settings.task_root = dir;
  settings.handler = "app.hello";
  // One server per side, so that the runtimes can stay warm at once and
  // their invocations can alternate (see below).
  std::unique_ptr<lb::RuntimeApiServer> servers[kSides];
  for (auto& s : servers) {
    auto started = lb::RuntimeApiServer::start(settings);
    if (!started.ok()) {
      std::fprintf(stderr, "lambda_bench: %s\n", started.error().to_string().c_str());
      return 1;
    }
    s = std::move(*started);
  }
  std::string event = fnguard::bench::padded_api_gateway_event_4k();
  const char* mode = std::getenv("FNGUARD_MODE");
  std::printf("event size: %zu bytes; cold runs: %d; warm invocations: %d; mode: %s\n",
              event.size(), cold, warm, mode != nullptr ? mode : "the policy's");

  std::vector<double> cold_ms[kSides], first_ask_ms[kSides], warm_us[kSides];
  // CPU time until the first response: of the runtime's process (for
  // fnguard the wrapper's child, including its set-up before the exec), and
  // of the fnguard wrapper (all its threads: proxy, supervisor).
  const bool other_build = std::getenv("FNGUARD_BENCH_OTHER") != nullptr;
  std::vector<double> runtime_cpu_ms[kSides], wrapper_cpu_ms[kSides], wrapper_main_ms[kSides];
  std::vector<double> runtime_faults[kSides], wrapper_faults[kSides];
  // Interleaved so that machine noise hits every side alike; the order
  // rotates every round (the later starts of a round follow the earlier
  // ones' teardown).
  for (int i = 0; i < cold; ++i) {
    for (int k = 0; k < kSides; ++k) {
      Side side = static_cast<Side>((i + k) % kSides);
      int64_t t0 = now_ns();
      pid_t pid = spawn(side, *servers[side], dir);
      auto r = servers[side]->invoke("{}", [&] { return kill(pid, 0) == 0; });
      int64_t t1 = now_ns();
      if (r.kind != lb::InvocationResult::Kind::kResponse) {
        std::fprintf(stderr, "lambda_bench: the runtime (%s) did not answer (%s)\n",
                     kSideName[side], r.body.c_str());
        stop(pid);
        return 1;
      }
      cold_ms[side].push_back((t1 - t0) / 1e6);
      if (side == kFnguard || (side == kExecOnly && other_build)) {
        pid_t runtime = first_child(pid);
        runtime_cpu_ms[side].push_back(runtime > 0 ? cpu_ms(runtime) : 0);
        double main_ms = 0;
        wrapper_cpu_ms[side].push_back(cpu_ms(pid, &main_ms));
        wrapper_main_ms[side].push_back(main_ms);
        runtime_faults[side].push_back(runtime > 0 ? minor_faults(runtime) : 0);
        wrapper_faults[side].push_back(minor_faults(pid));
      } else {
        runtime_cpu_ms[side].push_back(cpu_ms(pid));
        runtime_faults[side].push_back(minor_faults(pid));
      }
      first_ask_ms[side].push_back((servers[side]->last_next_request_ns() - t0) / 1e6);
      stop(pid);
    }
  }
  // Warm: the unprotected and the fnguard runtime (and the other build's,
  // with FNGUARD_BENCH_OTHER) run side by side and the invocations rotate
  // between them (which goes first shifts every round), so that a change of
  // machine state (frequency, other load) hits all alike. Each starts with
  // every runtime idle.
  std::vector<Side> warm_sides = {kUnprotected, kFnguard};
  if (other_build) warm_sides.push_back(kExecOnly);
  std::vector<pid_t> pids;
  for (Side side : warm_sides) {
    pids.push_back(spawn(side, *servers[side], dir));
    for (int i = 0; i < 50; ++i) (void)servers[side]->invoke(event, [] { return true; });
  }
  const size_t n_warm = warm_sides.size();
  for (int i = 0; i < warm; ++i) {
    for (size_t k = 0; k < n_warm; ++k) {
      Side side = warm_sides[(i + k) % n_warm];
      // Every runtime idle (each has asked for its next event): what a side
      // does after answering is not counted in another side's invocation.
      for (Side s : warm_sides) {
        if (!overlap && !servers[s]->wait_for_idle_runtime(5000)) {
          std::fprintf(stderr, "lambda_bench: the %s runtime did not ask for its next event\n",
                       kSideName[s]);
          return 1;
        }
      }
      int64_t t0 = now_ns();
      auto r = servers[side]->invoke(event, [] { return true; });
      int64_t t1 = now_ns();
      if (r.kind != lb::InvocationResult::Kind::kResponse) {
        std::fprintf(stderr, "lambda_bench: the warm runtime did not answer (%s)\n", r.body.c_str());
        return 1;
      }
      warm_us[side].push_back((t1 - t0) / 1e3);
    }
  }
  for (pid_t pid : pids) stop(pid);
  Stats c[kSides], a[kSides];
  for (int k = 0; k < kSides; ++k) {
    c[k] = stats(cold_ms[k]);
    a[k] = stats(first_ask_ms[k]);
  }
  std::printf("%-36s %12s %12s %12s %12s %12s\n", "", "unprotected",
              other_build ? "other build" : "exec-only", "fnguard", "added",
              other_build ? "vs other" : "over exec");
  std::printf("%-36s %9.2f ms %9.2f ms %9.2f ms %9.2f ms %9.2f ms\n",
              "cold start to first response, median", c[0].median, c[1].median, c[2].median,
              c[2].median - c[0].median, c[2].median - c[1].median);
  std::printf("%-36s %9.2f ms %9.2f ms %9.2f ms\n", "cold start, p90", c[0].p90, c[1].p90,
              c[2].p90);
  Difference added = paired_difference(cold_ms[kUnprotected], cold_ms[kFnguard]);
  Difference over = paired_difference(cold_ms[kExecOnly], cold_ms[kFnguard]);
  std::printf("%-36s %9.2f ms [95%%: %.2f to %.2f]; %s: %.2f ms [%.2f to %.2f]\n",
              "added, median of per-round diffs", added.median, added.low, added.high,
              other_build ? "vs other" : "over exec", over.median, over.low, over.high);
  std::printf("%-36s %9.2f ms %9.2f ms %9.2f ms %9.2f ms %9.2f ms\n",
              "  of which start to first /next", a[0].median, a[1].median, a[2].median,
              a[2].median - a[0].median, a[2].median - a[1].median);
  Stats r[kSides];
  for (int k = 0; k < kSides; ++k) r[k] = stats(runtime_cpu_ms[k]);
  std::printf("%-36s %9.2f ms %9.2f ms %9.2f ms %9.2f ms %9.2f ms\n",
              "CPU to first response: runtime", r[0].median, r[1].median, r[2].median,
              r[2].median - r[0].median, r[2].median - r[1].median);
  if (other_build) {
    double w1 = stats(wrapper_cpu_ms[kExecOnly]).median, w2 = stats(wrapper_cpu_ms[kFnguard]).median;
    std::printf("%-36s %12s %9.2f ms %9.2f ms %12s %9.2f ms\n", "CPU to first response: wrapper",
                "", w1, w2, "", w2 - w1);
  } else {
    std::printf("%-36s %12s %12s %9.2f ms\n", "CPU to first response: wrapper", "", "",
                stats(wrapper_cpu_ms[kFnguard]).median);
  }
  // The wrapper's main thread (its start, the policy, the launch, the events)
  // apart from its other threads (the proxy's, exec supervision's); the main
  // thread's share includes the fork and exec that started it, as the
  // unprotected runtime's CPU does.
  {
    std::vector<double> others[kSides];
    for (int k = 0; k < kSides; ++k) {
      for (size_t i = 0; i < wrapper_main_ms[k].size(); ++i) {
        others[k].push_back(wrapper_cpu_ms[k][i] - wrapper_main_ms[k][i]);
      }
    }
    const char* rows[] = {"  wrapper's main thread", "  wrapper's other threads"};
    const std::vector<double>* values[] = {wrapper_main_ms, others};
    for (int row = 0; row < 2; ++row) {
      if (other_build) {
        std::printf("%-36s %12s %9.2f ms %9.2f ms\n", rows[row], "",
                    stats(values[row][kExecOnly]).median, stats(values[row][kFnguard]).median);
      } else {
        std::printf("%-36s %12s %12s %9.2f ms\n", rows[row], "", "",
                    stats(values[row][kFnguard]).median);
      }
    }
  }
  Stats f[kSides];
  for (int k = 0; k < kSides; ++k) f[k] = stats(runtime_faults[k]);
  std::printf("%-36s %12.0f %12.0f %12.0f %12.0f %12.0f\n",
              "page faults to first response: runtime", f[0].median, f[1].median, f[2].median,
              f[2].median - f[0].median, f[2].median - f[1].median);
  if (other_build) {
    std::printf("%-36s %12s %12.0f %12.0f\n", "page faults to first response: wrapper", "",
                stats(wrapper_faults[kExecOnly]).median, stats(wrapper_faults[kFnguard]).median);
  } else {
    std::printf("%-36s %12s %12s %12.0f\n", "page faults to first response: wrapper", "", "",
                stats(wrapper_faults[kFnguard]).median);
  }
  Stats w0 = stats(warm_us[kUnprotected]), w1 = stats(warm_us[kFnguard]);
  if (other_build) {
    Stats wo = stats(warm_us[kExecOnly]);
    std::printf("%-36s %9.1f us %9.1f us %9.1f us %9.1f us %9.1f us\n",
                "invocation (4 KB event), median", w0.median, wo.median, w1.median,
                w1.median - w0.median, w1.median - wo.median);
    std::printf("%-36s %9.1f us %9.1f us %9.1f us\n", "invocation, p90", w0.p90, wo.p90, w1.p90);
    Difference d = paired_difference(warm_us[kExecOnly], warm_us[kFnguard]);
    std::printf("%-36s %9.1f us [95%%: %.1f to %.1f]\n", "invocation vs other, per-round diffs",
                d.median, d.low, d.high);
  } else {
    std::printf("%-36s %9.1f us %12s %9.1f us %9.1f us\n", "invocation (4 KB event), median",
                w0.median, "", w1.median, w1.median - w0.median);
    std::printf("%-36s %9.1f us %12s %9.1f us\n", "invocation, p90", w0.p90, "", w1.p90);
  }
  // The wrapper's own account of its start (the `started` event's
  // "startup_us"), median of each phase over the cold starts.
  for (Side side : {kExecOnly, kFnguard}) {
    auto phases = startup_phases(g_events[side]);
    if (phases.empty()) continue;
    std::printf("wrapper start by phase (%s), median:", side == kFnguard ? "fnguard" : "other build");
    for (const auto& [name, us] : phases) std::printf(" %s %.0f us;", name.c_str(), us);
    std::printf("\n");
  }
  for (auto& s : servers) s->stop();
  (void)std::system(("rm -rf " + unpacked).c_str());
  return 0;
}
