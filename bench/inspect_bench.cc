// Payload inspection throughput (bytes per second on one core), for the
// numbers in docs/INSPECTION.md and docs/BENCHMARKS.md:
//   - a 4 KB API Gateway v2 event (browser headers, query, JSON body):
//     decode + detectors + taints, decode alone, detectors alone;
//   - every event of tests/corpus/inspect (benign and malicious);
//   - a 1 MB plain-text body (long values);
// each with the prefilter on and off (off runs every precise check on every
// value: the results are identical, only the cost differs).
// When Hyperscan (or Vectorscan) is found at build time, BM_Hyperscan* scan
// the same values with a compiled database of the detectors' trigger
// patterns: the cost of the engine alone, before any precise check, which is
// what the hand-written prefilter competes with.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_events.h"
#include "fnguard/inspect/inspect.h"

#ifdef FNGUARD_BENCH_HYPERSCAN
#include <hs.h>
#endif

namespace {

using namespace fnguard::inspect;

std::string make_4k_event() {
  std::string body =
      "{\"order\":{\"id\":\"ord_8f3a2c\",\"customer\":{\"name\":\"Siobhan "
      "O'Brien\",\"email\":\"siobhan@example.com\","
      "\"address\":{\"street\":\"12 Harbour Road\",\"city\":\"Cork\",\"postcode\":\"T12 "
      "XY34\",\"country\":\"IE\"}},"
      "\"items\":[{\"sku\":\"BK-2024-001\",\"title\":\"Select a plan that fits: a "
      "guide\",\"qty\":1,\"price\":24.99},"
      "{\"sku\":\"MG-77\",\"title\":\"Mug & coaster set\",\"qty\":2,\"price\":12.5}],"
      "\"note\":\"Please leave the parcel at the side door; the dog is friendly. Call +353 21 555 "
      "0100 if needed.\","
      "\"gift\":{\"message\":\"Happy birthday! Don't open it before Friday -- love, "
      "Mam\",\"wrap\":\"blue\"},"
      "\"links\":{\"invoice\":\"https://shop.example.com/invoices/2024/05/ord_8f3a2c.pdf\","
      "\"tracking\":\"https://tracking.example.net/t/ZX81-7731?lang=en\"},"
      "\"tags\":[\"priority\",\"gift\",\"returning-customer\"],\"comment\":\"Ordered via the "
      "mobile app, version 5.12.3 (build 8841).\"}}";
  std::string escaped;
  for (char c : body) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  std::string ev =
      "{\"version\":\"2.0\",\"routeKey\":\"POST /orders\",\"rawPath\":\"/prod/orders\","
      "\"rawQueryString\":\"source=app&campaign=spring-sale&ref=newsletter%202024\","
      "\"cookies\":[\"session=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJl\",\"theme="
      "dark\",\"consent=analytics%2Cads\"],"
      "\"headers\":{\"accept\":\"text/html,application/xhtml+xml,application/xml;q=0.9,image/"
      "avif,image/webp,*/*;q=0.8\","
      "\"accept-encoding\":\"gzip, deflate, "
      "br\",\"accept-language\":\"en-IE,en;q=0.9,ga;q=0.7\",\"content-length\":\"812\","
      "\"content-type\":\"application/"
      "json\",\"host\":\"abc123.execute-api.eu-west-1.amazonaws.com\","
      "\"origin\":\"https://shop.example.com\",\"referer\":\"https://shop.example.com/"
      "checkout?step=3\","
      "\"sec-ch-ua\":\"\\\"Chromium\\\";v=\\\"124\\\", \\\"Google Chrome\\\";v=\\\"124\\\", "
      "\\\"Not-A.Brand\\\";v=\\\"99\\\"\","
      "\"sec-ch-ua-mobile\":\"?0\",\"sec-ch-ua-platform\":\"\\\"Linux\\\"\",\"sec-fetch-dest\":"
      "\"empty\",\"sec-fetch-mode\":\"cors\","
      "\"sec-fetch-site\":\"same-site\",\"user-agent\":\"Mozilla/5.0 (X11; Linux x86_64) "
      "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\","
      "\"x-amzn-trace-id\":\"Root=1-6650a7de-1c2d3e4f5a6b7c8d9e0f1a2b\",\"x-forwarded-for\":\"198."
      "51.100.7\",\"x-forwarded-port\":\"443\","
      "\"x-forwarded-proto\":\"https\",\"x-request-id\":\"5f0c7a9e-2b1d-4c3e-9f8a-7b6c5d4e3f2a\","
      "\"authorization\":\"Bearer "
      "eyJraWQiOiJrMSIsImFsZyI6IlJTMjU2In0.eyJzdWIiOiJ1LTEyMyIsInNjb3BlIjoib3JkZXJzIn0.sig\"},"
      "\"queryStringParameters\":{\"source\":\"app\",\"campaign\":\"spring-sale\",\"ref\":"
      "\"newsletter 2024\"},"
      "\"requestContext\":{\"accountId\":\"123456789012\",\"apiId\":\"abc123\",\"domainName\":"
      "\"abc123.execute-api.eu-west-1.amazonaws.com\","
      "\"domainPrefix\":\"abc123\",\"http\":{\"method\":\"POST\",\"path\":\"/prod/"
      "orders\",\"protocol\":\"HTTP/1.1\",\"sourceIp\":\"198.51.100.7\","
      "\"userAgent\":\"Mozilla/5.0 (X11; Linux "
      "x86_64)\"},\"requestId\":\"JKJaXmPLvHcESHA=\",\"routeKey\":\"POST "
      "/orders\",\"stage\":\"prod\","
      "\"time\":\"24/May/2024:19:03:58 +0000\",\"timeEpoch\":1716577438000},"
      "\"body\":\"" +
      escaped + "\",\"isBase64Encoded\":false}";
  // Pad up to 4 KB with a base64 header like Chrome's x-client-data
  // (pseudo-random, fixed seed, so every run scans the same bytes).
  if (ev.size() < 4096) {
    static const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string pad(4096 - ev.size() - 24, 'A');
    uint32_t x = 12345;
    for (char& c : pad) {
      x = x * 1103515245u + 12345u;
      c = kB64[(x >> 16) & 63];
    }
    ev.insert(ev.find("\"headers\":{") + 11, "\"x-client-data\":\"" + pad + "\",");
  }
  return ev;
}

const std::string& event_4k() {
  static const std::string ev = make_4k_event();
  return ev;
}

std::vector<std::string> corpus_events() {
  std::vector<std::string> out;
  namespace fs = std::filesystem;
  for (const char* sub : {"benign", "malicious"}) {
    fs::path dir = fs::path(FNGUARD_CORPUS_DIR) / sub;
    for (const auto& e : fs::directory_iterator(dir)) {
      std::ifstream in(e.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      out.push_back(ss.str());
    }
  }
  return out;
}

// The fields of the events; they view the decoded events, which are kept
// for the life of the program.
std::vector<Field> decoded_fields(const std::vector<std::string>& events) {
  static std::vector<DecodedEvent> kept;
  std::vector<Field> fields;
  for (const std::string& ev : events) {
    auto r = decode_event(ev);
    if (!r.ok()) continue;
    fields.insert(fields.end(), r->fields.begin(), r->fields.end());
    kept.push_back(std::move(r.value()));
  }
  return fields;
}

size_t value_bytes(const std::vector<Field>& fields) {
  size_t n = 0;
  for (const Field& f : fields) n += f.value.size();
  return n;
}

// Inspects a benign event in a loop; `what` names it in the error when a
// detector fires.
void inspect_benign(benchmark::State& state, const std::string& ev, const InspectOptions& o,
                    const char* what) {
  for (auto _ : state) {
    auto r = inspect_event(ev, o);
    if (!r.ok() || !r->findings.empty()) state.SkipWithError(what);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * ev.size()));
  state.counters["event_bytes"] = static_cast<double>(ev.size());
}

void BM_InspectEvent4K(benchmark::State& state) {
  InspectOptions o;
  o.prefilter = state.range(0) != 0;
  inspect_benign(state, event_4k(), o, "the benign 4 KB event must inspect clean");
}
BENCHMARK(BM_InspectEvent4K)->ArgName("prefilter")->Arg(1)->Arg(0);

void BM_InspectPaddedEvent4K(benchmark::State& state) {
  static const std::string ev = fnguard::bench::padded_api_gateway_event_4k();
  inspect_benign(state, ev, InspectOptions{}, "the padded 4 KB event must inspect clean");
}
BENCHMARK(BM_InspectPaddedEvent4K);

void BM_DecodeEvent4K(benchmark::State& state) {
  const std::string& ev = event_4k();
  for (auto _ : state) {
    auto r = decode_event(ev);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * ev.size()));
}
BENCHMARK(BM_DecodeEvent4K);

void scan_bench(benchmark::State& state, const std::vector<Field>& fields) {
  InspectOptions o;
  o.prefilter = state.range(0) != 0;
  for (auto _ : state) {
    InspectionResult res;
    scan_fields(fields, o, res);
    benchmark::DoNotOptimize(res);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * value_bytes(fields)));
  state.counters["values"] = static_cast<double>(fields.size());
}

void BM_Detectors4K(benchmark::State& state) {
  static const std::vector<Field> fields = decoded_fields({event_4k()});
  scan_bench(state, fields);
}
BENCHMARK(BM_Detectors4K)->ArgName("prefilter")->Arg(1)->Arg(0);

void BM_DetectorsCorpus(benchmark::State& state) {
  static const std::vector<Field> fields = decoded_fields(corpus_events());
  scan_bench(state, fields);
}
BENCHMARK(BM_DetectorsCorpus)->ArgName("prefilter")->Arg(1)->Arg(0);

void BM_InspectCorpus(benchmark::State& state) {
  static const std::vector<std::string> events = corpus_events();
  size_t bytes = 0;
  for (const std::string& e : events) bytes += e.size();
  InspectOptions o;
  o.prefilter = state.range(0) != 0;
  for (auto _ : state) {
    for (const std::string& e : events) {
      auto r = inspect_event(e, o);
      benchmark::DoNotOptimize(r);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_InspectCorpus)->ArgName("prefilter")->Arg(1)->Arg(0);

std::vector<Field> large_text() {
  static const char kSentence[] =
      "The committee met on Tuesday; members reviewed the 2024 budget and agreed to select a new "
      "plan. "
      "O'Brien asked whether the union would accept it, and the chair said yes. Notes are at "
      "docs/2024/minutes.pdf. ";
  static std::string text;  // the field views it
  while (text.size() < (1u << 20)) text += kSentence;
  return {Field{"body", text, FieldSource::kBody}};
}

void BM_DetectorsLargeText(benchmark::State& state) {
  static const std::vector<Field> fields = large_text();
  scan_bench(state, fields);
}
BENCHMARK(BM_DetectorsLargeText)->ArgName("prefilter")->Arg(1)->Arg(0);

#ifdef FNGUARD_BENCH_HYPERSCAN
// The detectors' trigger patterns as one Hyperscan database: what an engine
// would have to find before the same precise checks run. Case-insensitive,
// single match per pattern (the cheapest mode).
hs_database_t* hyperscan_db() {
  static hs_database_t* db = [] {
    static const char* const kPatterns[] = {
        R"(\.\.[/\\])",
        R"(/etc/(passwd|shadow|group|hosts))",
        R"(/proc/(self|\d+)/)",
        R"(file:/)",
        R"(php://)",
        R"(%2e%2e)",
        R"(%c0%ae)",
        R"(/var/(task|runtime)/)",
        R"(/\.(aws|ssh|env|git))",
        R"([;|&`\n]\s*(cat|ls|id|echo|ping|sleep|whoami|uname|wget|curl|nc|bash|sh|python|perl|php|rm)\b)",
        R"(\$\(|\$\{IFS|\$IFS)",
        R"(/dev/(tcp|udp)/)",
        R"(union(\s|/\*.*?\*/)+(all\s+)?select)",
        R"(['"]\s*\)*\s*(or|and|xor|\|\||&&)\s)",
        R"(['"]\s*(--|#|/\*))",
        R"(;\s*(drop|delete|insert|update|select|exec|shutdown|waitfor|create|alter|truncate|declare)\b)",
        R"((sleep|benchmark|pg_sleep)\s*\(\s*\d)",
        R"(waitfor\s+delay)",
        R"(information_schema|xp_cmdshell|@@version)",
        R"(^\s*-?\d+\s+(or|and)\s)",
        R"([a-z][a-z0-9+.-]*://)",
        R"(169\.254\.169\.254|fd00:ec2::254|metadata\.google\.internal)",
        R"(localhost|127\.\d+\.\d+\.\d+|\[::1?\]|0x[0-9a-f]{8})",
    };
    constexpr unsigned kCount = sizeof(kPatterns) / sizeof(kPatterns[0]);
    unsigned flags[kCount], ids[kCount];
    for (unsigned i = 0; i < kCount; ++i) {
      flags[i] = HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH | HS_FLAG_DOTALL;
      ids[i] = i;
    }
    hs_database_t* out = nullptr;
    hs_compile_error_t* err = nullptr;
    if (hs_compile_multi(kPatterns, flags, ids, kCount, HS_MODE_BLOCK, nullptr, &out, &err) !=
        HS_SUCCESS) {
      std::fprintf(stderr, "hyperscan: %s\n", err->message);
      hs_free_compile_error(err);
      return static_cast<hs_database_t*>(nullptr);
    }
    return out;
  }();
  return db;
}

int on_match(unsigned, unsigned long long, unsigned long long, unsigned, void* ctx) {
  ++*static_cast<size_t*>(ctx);
  return 0;
}

void hs_bench(benchmark::State& state, const std::vector<Field>& fields) {
  hs_database_t* db = hyperscan_db();
  hs_scratch_t* scratch = nullptr;
  if (db == nullptr || hs_alloc_scratch(db, &scratch) != HS_SUCCESS) {
    state.SkipWithError("hyperscan database did not compile");
    return;
  }
  for (auto _ : state) {
    size_t matches = 0;
    for (const Field& f : fields)
      hs_scan(db, f.value.data(), static_cast<unsigned>(f.value.size()), 0, scratch, on_match,
              &matches);
    benchmark::DoNotOptimize(matches);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * value_bytes(fields)));
  hs_free_scratch(scratch);
}

void BM_Hyperscan4K(benchmark::State& state) {
  static const std::vector<Field> fields = decoded_fields({event_4k()});
  hs_bench(state, fields);
}
BENCHMARK(BM_Hyperscan4K);

void BM_HyperscanCorpus(benchmark::State& state) {
  static const std::vector<Field> fields = decoded_fields(corpus_events());
  hs_bench(state, fields);
}
BENCHMARK(BM_HyperscanCorpus);

void BM_HyperscanLargeText(benchmark::State& state) {
  static const std::vector<Field> fields = large_text();
  hs_bench(state, fields);
}
BENCHMARK(BM_HyperscanLargeText);
#endif

}  // namespace

BENCHMARK_MAIN();
