// Decisions over a compiled image: given a control and a subject (a path, an
// exec target, a network destination), find the first rule that matches, or
// the control's default. Shared by the in-process enforcer, the seccomp exec
// supervisor and the tests, so every layer decides the same way.
//
// No allocation, no locks, no errno changes: callable from any hook.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fnguard/image/format.h"

namespace fnguard::image {

inline constexpr uint32_t kNoRule = 0xffffffffu;
// The decision came from the control's `taint` setting: the operation's
// argument carries a value from the current invocation's event. Named
// "<control>.taint" in events.
inline constexpr uint32_t kTaintRule = 0xfffffffeu;

struct Decision {
  Control control = Control::kFilesRead;
  Verdict verdict = Verdict::kAllow;
  Mode mode = Mode::kOff;
  uint32_t rule = kNoRule;  // global rule index, or kNoRule for the default

  // The operation must fail (EACCES/EPERM) and be reported.
  bool blocks() const { return verdict == Verdict::kDeny && mode == Mode::kBlock; }
  // The operation breaks the policy and is reported (blocked or not).
  bool reports() const { return verdict == Verdict::kDeny && mode != Mode::kOff; }
};

// files.read, files.write, kWritable: `path` is a normal absolute path.
Decision decide_path(const View& view, Control control, const char* path, Phase phase);

// An exec whose program cannot be determined (an unknown loader option, an
// unreadable script the caller could have written): a violation of the
// controls that program could break, in the stronger of their modes, named
// "<control>.unverifiable". `exec_applies`: process.exec could deny it. The
// preload and exec supervision decide such execs alike.
struct UnverifiableDecision {
  Decision decision;
  const char* rule = nullptr;  // "process.exec.unverifiable" or the exec_from_writable one
};
UnverifiableDecision decide_unverifiable(const View& view, bool exec_applies);

// files.read, files.write: the first deny rule whose glob can match a path
// inside the directory `dir_slash` ("/tmp/x/", with its trailing slash),
// for an operation that moves or removes the whole tree under it (a
// directory rename gives every file below a new name). Allow rules and the
// default do not count: the result names a deny rule or allows.
Decision decide_inside(const View& view, Control control, const char* dir_slash, Phase phase);

// A candidate for process.exec. `resolved` is the canonical path of the file
// (symbolic links resolved); `invoked` the normal absolute path as the caller
// named it (may equal `resolved`). Path globs match `resolved`; names match
// the basename of either, or of a link between them (`link_names`). The
// digest is computed only if a sha256 rule is reached, through `hash`
// (returns false when the file cannot be hashed, in which case a sha256
// deny rule matches and a sha256 allow rule does not: fail closed).
struct ExecSubject {
  const char* resolved = nullptr;
  const char* invoked = nullptr;
  bool (*hash)(void* ctx, uint8_t out[32]) = nullptr;
  void* hash_ctx = nullptr;
  // More names the program was reached by: the basenames along the chain of
  // symbolic links from `invoked` to `resolved` ("nc" for other -> nc ->
  // nc.openbsd). Name rules match these too; may be none.
  const char* const* link_names = nullptr;
  size_t link_name_count = 0;
};
Decision decide_exec(const View& view, const ExecSubject& subject, Phase phase);

// A network destination or local address. `family` is AF_INET or AF_INET6
// (IPv4-mapped IPv6 addresses are matched as IPv4); `addr` is in network byte
// order; `port` in host order. `names` are the domain names this process
// resolved to that address (lower-case, no trailing dot), possibly none.
struct NetSubject {
  int family = 0;
  const uint8_t* addr = nullptr;
  uint16_t port = 0;
  const char* const* names = nullptr;
  size_t name_count = 0;
};
Decision decide_net(const View& view, Control control, const NetSubject& subject, Phase phase);

// True when `path` lies in a location exec_from_writable treats as writable.
bool is_writable_location(const View& view, const char* path);

// True when the decision came from a honeypot rule (a decoy was touched):
// its event is of kind "honeypot", not "violation".
bool is_honeypot(const View& view, const Decision& decision);

// Writes the rule's name for events ("files.read.rules[2]",
// "files.read.default", "network.outbound.builtin.runtime_api") into out.
// Returns the length written (truncated to fit, always NUL-terminated).
size_t rule_name(const View& view, const Decision& decision, char* out, size_t cap);

}  // namespace fnguard::image
