// Policy loading: read YAML or JSON (one model, parsed with libyaml, which
// reads both), validate against the version 1 schema with file:line:col
// errors, expand variables, and compile to the image the enforcer maps.
//
// Stages (as in falco's rule loader): read (text -> node tree with marks),
// collect (tree -> Policy model, every item remembers where it sat), compile
// (model -> image bytes). Errors and warnings are kept apart.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fnguard/common/result.h"
#include "fnguard/image/format.h"

namespace fnguard::policy {

// Values that the compiler substitutes and the implicit allows it adds.
struct CompileOptions {
  std::string task_root;  // $TASK_ROOT: LAMBDA_TASK_ROOT, else the launch directory
  std::string
      runtime_dir;   // $RUNTIME_DIR: LAMBDA_RUNTIME_DIR, else empty (rules using it are errors)
  std::string tmp;   // $TMP: TMPDIR, else /tmp
  std::string home;  // $HOME
  std::string runtime_api;  // AWS_LAMBDA_RUNTIME_API "host:port": always allowed outbound
  std::vector<std::string> nameservers;  // from /etc/resolv.conf: allowed on port 53
  // --mode / FNGUARD_MODE: replaces the top-level mode and every per-control
  // mode (an operator who says "monitor" means the whole policy).
  std::optional<image::Mode> mode_override;
  // False: LoadedPolicy::effective_json is left empty (the Lambda wrapper,
  // which never shows it; writing it was a third of the compile's cost).
  bool effective_json = true;
};

// Reads LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR, TMPDIR, HOME,
// AWS_LAMBDA_RUNTIME_API, the cwd and /etc/resolv.conf. Leaves
// mode_override unset: the caller parses --mode / FNGUARD_MODE (with
// parse_mode) and must refuse a bad value rather than ignore it.
// The addresses of the `nameserver` lines of a resolv.conf file (empty when
// the file cannot be read).
std::vector<std::string> read_nameservers(const char* path);

CompileOptions compile_options_from_environment();

struct Warning {
  Location where;
  std::string message;
};

// The policy's `inspect` section, for the Runtime API proxy.
struct InspectPolicy {
  bool configured = false;                   // the policy has an inspect section
  image::Mode mode = image::Mode::kMonitor;  // when configured (mode override applied)
  std::vector<std::string> detectors;        // when configured: the detectors to run
};

// The policy's `honeypots` section, for the supervisor, which plants the
// decoys before the program starts (fnguard/supervisor/decoys.h). The
// compiled image carries the matching rules: any access to a decoy file, and
// with `env` any read of a process's environment (/proc/**/environ), is a
// `honeypot` event.
struct HoneypotPolicy {
  bool env = false;                // plant decoy credentials in the environment
  std::vector<std::string> files;  // absolute, normal paths without glob characters
};

struct LoadedPolicy {
  std::string source;                     // file name, "<default>", or "<FNGUARD_POLICY>"
  std::vector<Warning> warnings;          // valid but worth saying
  std::vector<std::string> not_enforced;  // sections parsed but not enforced yet, one line each
  std::string effective_json;             // the effective policy after defaults and variables
  std::vector<uint8_t> image;             // compiled; passes image::image_validate
  InspectPolicy inspect;
  HoneypotPolicy honeypots;
  image::Mode top_mode = image::Mode::kMonitor;
  bool require_preload = true;
  bool require_kernel = false;
  // Loaded from the tree `fnguard layer build` prepared (load_policy_file_prepared).
  bool prepared = false;
};

// Parse, validate and compile. The text may be YAML or JSON.
Result<LoadedPolicy> load_policy_text(std::string_view text, std::string_view source_name,
                                      const CompileOptions& options);
Result<LoadedPolicy> load_policy_file(const std::string& path, const CompileOptions& options);
// The same, using the tree `fnguard layer build` wrote to `tree_path`
// (write_tree_file in yaml_tree.h) instead of parsing the YAML again, when
// that tree was made from exactly this text; otherwise (no such file,
// another text, a damaged file) the text is parsed, as load_policy_file
// does. Only the parse is skipped: the checks and the compile, which
// depend on this machine's environment, run either way.
// LoadedPolicy::prepared says whether the tree was used.
Result<LoadedPolicy> load_policy_file_prepared(const std::string& path,
                                               const std::string& tree_path,
                                               const CompileOptions& options);

// FNGUARD_POLICY's value: a path, or the policy itself (text with a newline,
// or starting with '{', is taken as the policy, named "<FNGUARD_POLICY>").
Result<LoadedPolicy> load_policy_setting(std::string_view setting, const CompileOptions& options);

// The built-in default: monitor everything, block nothing.
LoadedPolicy default_policy(const CompileOptions& options);

// Every problem in a policy, not only the first. load_policy_text() returns
// the first error (its message says how many more there are); `fnguard
// policy check` uses these to print all of them, one per line.
struct CheckResult {
  std::vector<Error> errors;           // in source order; empty when the policy is valid
  std::optional<LoadedPolicy> policy;  // set exactly when errors is empty
};
CheckResult check_policy_text(std::string_view text, std::string_view source_name,
                              const CompileOptions& options);
CheckResult check_policy_file(const std::string& path, const CompileOptions& options);

// Every key the parser accepts, as dotted paths ("files.read.rules[].allow";
// the matcher mapping of an exec rule is "process.exec.target.name"). The
// parser derives its unknown-key checks from this list, and a unit test
// checks that docs/POLICY.md names each one.
const std::vector<std::string>& schema_keys();
// The detectors `inspect.detectors` accepts.
const std::vector<std::string>& detector_names();

// The YAML text of the built-in default (docs/POLICY.md shows it).
const char* default_policy_text();

// Parses "off" | "monitor" | "block".
std::optional<image::Mode> parse_mode(std::string_view text);

}  // namespace fnguard::policy
