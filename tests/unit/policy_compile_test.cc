// The compiled image decides as the policy says: decisions through
// image::decide_* on images from real policy text, including variables,
// mode overrides, built-in rules, phases and symbolic links.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fnguard/image/decide.h"
#include "fnguard/policy/policy.h"
#include "policy_test_util.h"

namespace fnguard::policy {
namespace {

using image::Control;
using image::Mode;
using image::Phase;
using image::Verdict;

CompileOptions test_options() { return lambda_variables(); }

LoadedPolicy must_load(const std::string& text, const CompileOptions& options = test_options()) {
  CheckResult r = check_policy_text(text, "p.yaml", options);
  if (!r.policy) {
    ADD_FAILURE() << r.errors.front().to_string();
    return {};
  }
  EXPECT_EQ(image::image_validate(r.policy->image.data(), r.policy->image.size()), nullptr);
  return std::move(*r.policy);
}

image::View view_of(const LoadedPolicy& p) { return image::View(p.image.data(), p.image.size()); }

std::string rule_of(const image::View& v, const image::Decision& d) {
  char buf[128];
  image::rule_name(v, d, buf, sizeof buf);
  return buf;
}

image::Decision connect4(const image::View& v, const char* ip, uint16_t port,
                         const char* name = nullptr, Phase phase = Phase::kAny) {
  uint8_t addr[4];
  EXPECT_EQ(inet_pton(AF_INET, ip, addr), 1);
  image::NetSubject s;
  s.family = AF_INET;
  s.addr = addr;
  s.port = port;
  const char* names[1] = {name};
  if (name != nullptr) {
    s.names = names;
    s.name_count = 1;
  }
  return image::decide_net(v, Control::kNetOutbound, s, phase);
}

// Every file "hashes" to bytes of 0xbb, unless `readable` is false (the
// file cannot be hashed).
bool hash_bb(void* readable, uint8_t out[32]) {
  if (readable == nullptr) return false;
  std::memset(out, 0xbb, 32);
  return true;
}

image::Decision exec_of(const image::View& v, const char* resolved, const char* invoked = nullptr,
                        bool readable = true) {
  image::ExecSubject s;
  s.resolved = resolved;
  s.invoked = invoked != nullptr ? invoked : resolved;
  s.hash = hash_bb;
  static int token;
  s.hash_ctx = readable ? &token : nullptr;
  return image::decide_exec(v, s, Phase::kAny);
}

TEST(PolicyCompile, FileRulesDecideFirstMatch) {
  LoadedPolicy p = must_load(R"(version: 1
mode: block
files:
  read:
    default: allow
    rules:
      - allow: /etc/shadow.public
      - deny: /etc/shadow*
      - deny: $TASK_ROOT/**
        phase: invoke
  write:
    default: deny
    rules:
      - allow: $TMP/**
)");
  image::View v = view_of(p);
  auto shadow = image::decide_path(v, Control::kFilesRead, "/etc/shadow", Phase::kAny);
  EXPECT_TRUE(shadow.blocks());
  EXPECT_EQ(rule_of(v, shadow), "files.read.rules[1]");
  EXPECT_FALSE(
      image::decide_path(v, Control::kFilesRead, "/etc/shadow.public", Phase::kAny).blocks());
  EXPECT_FALSE(image::decide_path(v, Control::kFilesRead, "/etc/passwd", Phase::kAny).blocks());
  // $TASK_ROOT expanded; phase honoured.
  EXPECT_TRUE(
      image::decide_path(v, Control::kFilesRead, "/var/task/index.py", Phase::kInvoke).blocks());
  EXPECT_FALSE(
      image::decide_path(v, Control::kFilesRead, "/var/task/index.py", Phase::kInit).blocks());
  EXPECT_FALSE(image::decide_path(v, Control::kFilesWrite, "/tmp/x", Phase::kAny).blocks());
  auto etc = image::decide_path(v, Control::kFilesWrite, "/etc/x", Phase::kAny);
  EXPECT_TRUE(etc.blocks());
  EXPECT_EQ(rule_of(v, etc), "files.write.default");
}

TEST(PolicyCompile, VariablesExpandAndNormalise) {
  CompileOptions o = test_options();
  o.tmp = "/scratch/tmp/";
  LoadedPolicy p = must_load(R"(version: 1
mode: block
files:
  read:
    rules:
      - deny: $TMP/../secret/**
      - deny: ${HOME}/.aws/credentials
      - deny: $RUNTIME_DIR//bootstrap/./x
)",
                             o);
  image::View v = view_of(p);
  EXPECT_TRUE(
      image::decide_path(v, Control::kFilesRead, "/scratch/secret/k", Phase::kAny).blocks());
  EXPECT_FALSE(
      image::decide_path(v, Control::kFilesRead, "/scratch/tmp/secret/k", Phase::kAny).blocks());
  EXPECT_TRUE(
      image::decide_path(v, Control::kFilesRead, "/home/sbx_user/.aws/credentials", Phase::kAny)
          .blocks());
  EXPECT_TRUE(
      image::decide_path(v, Control::kFilesRead, "/var/runtime/bootstrap/x", Phase::kAny).blocks());
  EXPECT_NE(p.effective_json.find("\"deny\": \"/scratch/secret/**\""), std::string::npos);
}

TEST(PolicyCompile, UnsetVariableIsAnErrorAtItsPlace) {
  CompileOptions o = test_options();
  o.runtime_dir.clear();
  CheckResult r = check_policy_text(
      "version: 1\nfiles:\n  read:\n    rules:\n      - deny: /x/$RUNTIME_DIR/y\n", "p.yaml", o);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].where.to_string(), "p.yaml:5:18");
  EXPECT_NE(r.errors[0].message.find("$RUNTIME_DIR"), std::string::npos);
  CheckResult unknown = check_policy_text(
      "version: 1\nfiles:\n  read:\n    rules:\n      - deny: $TASKROOT/y\n", "p.yaml", o);
  ASSERT_EQ(unknown.errors.size(), 1u);
  EXPECT_EQ(unknown.errors[0].where.to_string(), "p.yaml:5:15");
  EXPECT_EQ(unknown.errors[0].hint, "did you mean '$TASK_ROOT'?");
}

TEST(PolicyCompile, ModesInheritAndTheOverrideReplacesAll) {
  const char* text = R"(version: 1
mode: block
files:
  read:
    mode: monitor
    default: deny
    taint: monitor
  write:
    default: deny
process:
  exec_from_writable: off
)";
  LoadedPolicy p = must_load(text);
  image::View v = view_of(p);
  EXPECT_EQ(v.control(Control::kFilesRead).mode, Mode::kMonitor);
  EXPECT_EQ(v.control(Control::kFilesRead).taint_mode, Mode::kMonitor);
  EXPECT_EQ(v.control(Control::kFilesWrite).mode, Mode::kBlock);
  EXPECT_EQ(v.control(Control::kNetOutbound).mode, Mode::kBlock);
  EXPECT_EQ(v.control(Control::kExecFromWritable).mode, Mode::kOff);
  EXPECT_EQ(v.header().top_mode, Mode::kBlock);

  for (Mode m : {Mode::kOff, Mode::kMonitor, Mode::kBlock}) {
    CompileOptions o = test_options();
    o.mode_override = m;
    LoadedPolicy q = must_load(text, o);
    image::View w = view_of(q);
    EXPECT_EQ(w.header().top_mode, m);
    EXPECT_EQ(q.top_mode, m);
    for (size_t c = 0; c < image::kControlCount; ++c) {
      EXPECT_EQ(w.control(static_cast<Control>(c)).mode, m) << c;
    }
    EXPECT_EQ(w.control(Control::kFilesRead).taint_mode, m);
    EXPECT_EQ(w.control(Control::kFilesWrite).taint_mode, Mode::kOff);  // not configured
  }
  CompileOptions mon = test_options();
  mon.mode_override = Mode::kMonitor;
  LoadedPolicy monitored = must_load(text, mon);  // the view below reads its image
  image::View w = view_of(monitored);
  EXPECT_FALSE(image::decide_path(w, Control::kFilesWrite, "/etc/x", Phase::kAny).blocks());
  EXPECT_TRUE(image::decide_path(w, Control::kFilesWrite, "/etc/x", Phase::kAny).reports());
}

TEST(PolicyCompile, NetworkRulesAndBuiltinsComeFirst) {
  CompileOptions o = test_options();
  o.runtime_api = "127.0.0.1:9001";
  o.nameservers = {"169.254.78.1", "fe80::1%eth0"};
  LoadedPolicy p = must_load(R"(version: 1
mode: block
network:
  outbound:
    default: deny
    rules:
      - deny: 127.0.0.0/8
      - allow: "*.amazonaws.com:443"
      - allow: "[::1]:8080"
  inbound: deny
)",
                             o);
  image::View v = view_of(p);
  auto api = connect4(v, "127.0.0.1", 9001);
  EXPECT_FALSE(api.blocks());
  EXPECT_EQ(rule_of(v, api), "network.outbound.builtin.runtime_api");
  EXPECT_TRUE(connect4(v, "127.0.0.1", 9002).blocks());
  auto dns = connect4(v, "169.254.78.1", 53);
  EXPECT_EQ(rule_of(v, dns), "network.outbound.builtin.nameserver");
  EXPECT_TRUE(connect4(v, "169.254.78.1", 54).blocks());
  EXPECT_FALSE(connect4(v, "52.1.2.3", 443, "s3.us-east-1.amazonaws.com").blocks());
  EXPECT_TRUE(connect4(v, "52.1.2.3", 80, "s3.us-east-1.amazonaws.com").blocks());
  EXPECT_TRUE(connect4(v, "52.1.2.3", 443, "amazonaws.com").blocks());
  EXPECT_TRUE(connect4(v, "52.1.2.3", 443).blocks());
  EXPECT_EQ(v.control(Control::kNetInbound).default_verdict, Verdict::kDeny);
  EXPECT_NE(p.effective_json.find("\"name\": \"runtime_api\""), std::string::npos);
}

TEST(PolicyCompile, ExecRulesByNamePathAndDigest) {
  std::string digest(64, 'a');
  LoadedPolicy p = must_load(R"(version: 1
mode: block
process:
  exec:
    default: allow
    rules:
      - deny: {name: [xmrig, nc]}
      - deny: {sha256: )" + digest +
                             R"(}
      - deny: {path: /opt/bad/**}
      - deny: /usr/local/bin/evil
  exec_from_writable: block
)");
  image::View v = view_of(p);
  auto nc = exec_of(v, "/usr/bin/nc.openbsd", "/usr/bin/nc");
  EXPECT_TRUE(nc.blocks());
  EXPECT_EQ(rule_of(v, nc), "process.exec.rules[0]");
  EXPECT_EQ(rule_of(v, exec_of(v, "/x/xmrig")), "process.exec.rules[0]");
  EXPECT_EQ(rule_of(v, exec_of(v, "/opt/bad/a/b")), "process.exec.rules[2]");
  EXPECT_EQ(rule_of(v, exec_of(v, "/usr/local/bin/evil")), "process.exec.rules[3]");
  EXPECT_FALSE(exec_of(v, "/usr/bin/python3").blocks());
  // A file that cannot be hashed matches the sha256 deny rule (fail closed).
  auto unreadable = exec_of(v, "/usr/bin/python3", nullptr, /*readable=*/false);
  EXPECT_TRUE(unreadable.blocks());
  EXPECT_EQ(rule_of(v, unreadable), "process.exec.rules[1]");
  // Writable locations: the temporary directories, and exec from them is denied.
  EXPECT_TRUE(image::is_writable_location(v, "/tmp/payload"));
  EXPECT_TRUE(image::is_writable_location(v, "/dev/shm/x"));
  EXPECT_FALSE(image::is_writable_location(v, "/usr/bin/python3"));
  EXPECT_EQ(v.control(Control::kExecFromWritable).mode, Mode::kBlock);
  EXPECT_EQ(v.control(Control::kExecFromWritable).default_verdict, Verdict::kDeny);
}

TEST(PolicyCompile, WriteAllowGlobsAreWritableLocations) {
  LoadedPolicy p = must_load(R"(version: 1
files:
  write:
    default: deny
    rules:
      - allow: /var/cache/app/**
      - deny: /srv/**
)");
  image::View v = view_of(p);
  EXPECT_TRUE(image::is_writable_location(v, "/var/cache/app/bin/x"));
  EXPECT_FALSE(image::is_writable_location(v, "/srv/x"));
  // exec_from_writable left out: off.
  EXPECT_EQ(v.control(Control::kExecFromWritable).mode, Mode::kOff);
}

class SymlinkDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fnguard-policy-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_EQ(mkdir((dir_ + "/real").c_str(), 0700), 0);
    ASSERT_EQ(symlink((dir_ + "/real").c_str(), (dir_ + "/task").c_str()), 0);
    ASSERT_EQ(symlink("/bin/true-target", (dir_ + "/dangling").c_str()), 0);
    FILE* f = fopen((dir_ + "/real/tool").c_str(), "w");
    ASSERT_NE(f, nullptr);
    fclose(f);
    ASSERT_EQ(symlink((dir_ + "/real/tool").c_str(), (dir_ + "/real/alias").c_str()), 0);
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + dir_ + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }
  std::string dir_;
};

TEST_F(SymlinkDir, RulesFollowASymlinkedPrefix) {
  CompileOptions o = test_options();
  o.task_root = dir_ + "/task";
  LoadedPolicy p = must_load(R"(version: 1
mode: block
files:
  read:
    rules:
      - deny: $TASK_ROOT/**
process:
  exec:
    rules:
      - deny: $TASK_ROOT/alias
)",
                             o);
  image::View v = view_of(p);
  auto via_link =
      image::decide_path(v, Control::kFilesRead, (dir_ + "/task/a").c_str(), Phase::kAny);
  auto real = image::decide_path(v, Control::kFilesRead, (dir_ + "/real/a").c_str(), Phase::kAny);
  EXPECT_TRUE(via_link.blocks());
  EXPECT_TRUE(real.blocks());
  EXPECT_EQ(rule_of(v, real), "files.read.rules[0]");
  // A literal exec path resolves all the way to the file.
  auto tool = exec_of(v, (dir_ + "/real/tool").c_str());
  EXPECT_TRUE(tool.blocks());
  EXPECT_EQ(rule_of(v, tool), "process.exec.rules[0]");
  EXPECT_NE(p.effective_json.find("\"resolved\": \"" + dir_ + "/real/**\""), std::string::npos);
}

TEST(PolicyCompile, BinShAlsoMatchesWhatItResolvesTo) {
  char real[4096];
  if (realpath("/bin/sh", real) == nullptr || std::string(real) == "/bin/sh") {
    GTEST_SKIP() << "/bin/sh is not a symbolic link here";
  }
  LoadedPolicy p =
      must_load("version: 1\nmode: block\nprocess:\n  exec:\n    rules:\n      - deny: /bin/sh\n");
  image::View v = view_of(p);
  EXPECT_TRUE(exec_of(v, real, "/bin/sh").blocks());
}

TEST(PolicyCompile, FlagsAndNotEnforcedSections) {
  LoadedPolicy p = must_load(R"(version: 1
inspect:
  mode: monitor
  detectors: [path_traversal, ssrf]
honeypots:
  env: true
  files: [$TMP/.aws/credentials]
require:
  preload: false
  kernel: true
)");
  image::View v = view_of(p);
  uint32_t flags = v.header().flags;
  EXPECT_FALSE(flags & image::kRequirePreload);
  EXPECT_TRUE(flags & image::kRequireKernel);
  EXPECT_TRUE(flags & image::kInspectConfigured);
  EXPECT_TRUE(flags & image::kHoneypotsConfigured);
  EXPECT_FALSE(p.require_preload);
  EXPECT_TRUE(p.require_kernel);
  // inspect (the proxy), taint and honeypots (the enforcer) are all enforced.
  EXPECT_TRUE(p.not_enforced.empty());
  EXPECT_TRUE(p.honeypots.env);
  EXPECT_EQ(p.honeypots.files, std::vector<std::string>{"/tmp/.aws/credentials"});

  LoadedPolicy q = must_load("version: 1\n");
  EXPECT_TRUE(view_of(q).header().flags & image::kRequirePreload);
  EXPECT_FALSE(view_of(q).header().flags & image::kRequireKernel);
  EXPECT_TRUE(q.not_enforced.empty());
}

TEST(PolicyCompile, HoneypotFilesAreDeniedBeforeAnyRuleOfTheUsers) {
  LoadedPolicy p = must_load(R"(version: 1
mode: block
files:
  read:
    default: allow
    rules:
      - allow: /tmp/**
  write:
    default: deny
    rules:
      - allow: /tmp/**
honeypots:
  files: [$TMP/.aws/credentials]
)");
  image::View v = view_of(p);
  for (Control c : {Control::kFilesRead, Control::kFilesWrite}) {
    image::Decision d = image::decide_path(v, c, "/tmp/.aws/credentials", Phase::kAny);
    EXPECT_TRUE(d.blocks()) << image::control_name(c);
    EXPECT_TRUE(image::is_honeypot(v, d));
    EXPECT_EQ(rule_of(v, d), std::string(image::control_name(c)) + ".builtin.honeypot");
    // Its neighbours are the user's to decide.
    image::Decision n = image::decide_path(v, c, "/tmp/.aws/config", Phase::kAny);
    EXPECT_FALSE(n.blocks());
    EXPECT_FALSE(image::is_honeypot(v, n));
  }
  EXPECT_EQ(p.honeypots.files, std::vector<std::string>{"/tmp/.aws/credentials"});
  EXPECT_FALSE(p.honeypots.env);
  // Without honeypots.env, a process's environment is the user's rules' business.
  EXPECT_FALSE(
      image::decide_path(v, Control::kFilesRead, "/proc/self/environ", Phase::kAny).blocks());
  // A deny rule of the user's is still a violation, not a honeypot.
  LoadedPolicy q = must_load(R"(version: 1
mode: block
files:
  read:
    rules:
      - deny: /etc/shadow
)");
  image::View w = view_of(q);
  image::Decision shadow = image::decide_path(w, Control::kFilesRead, "/etc/shadow", Phase::kAny);
  EXPECT_TRUE(shadow.blocks());
  EXPECT_FALSE(image::is_honeypot(w, shadow));
}

TEST(PolicyCompile, HoneypotEnvWatchesEveryProcessEnvironment) {
  LoadedPolicy p = must_load("version: 1\nhoneypots:\n  env: true\n");
  image::View v = view_of(p);
  for (const char* path : {"/proc/self/environ", "/proc/42/environ", "/proc/thread-self/environ"}) {
    image::Decision d = image::decide_path(v, Control::kFilesRead, path, Phase::kAny);
    EXPECT_TRUE(d.reports()) << path;
    EXPECT_FALSE(d.blocks()) << path;  // monitor, the default mode
    EXPECT_TRUE(image::is_honeypot(v, d)) << path;
  }
  EXPECT_FALSE(
      image::decide_path(v, Control::kFilesRead, "/proc/self/status", Phase::kAny).reports());
  EXPECT_TRUE(p.honeypots.env);
  EXPECT_TRUE(p.honeypots.files.empty());
  EXPECT_TRUE(p.warnings.empty());
}

TEST(PolicyCompile, HoneypotsWithFilesReadOffAreAWarning) {
  LoadedPolicy p = must_load(R"(version: 1
files:
  read:
    mode: off
honeypots:
  files: [/tmp/decoy]
)");
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_NE(p.warnings[0].message.find("files.read is off"), std::string::npos);
  // Writes are still watched.
  image::View v = view_of(p);
  EXPECT_TRUE(image::is_honeypot(
      v, image::decide_path(v, Control::kFilesWrite, "/tmp/decoy", Phase::kAny)));
}

TEST(PolicyCompile, HoneypotsUnderModeOffPlantNothing) {
  CompileOptions o = test_options();
  o.mode_override = Mode::kOff;  // --mode off, FNGUARD_MODE=off
  LoadedPolicy p = must_load("version: 1\nhoneypots:\n  env: true\n  files: [/tmp/decoy]\n", o);
  EXPECT_FALSE(p.honeypots.env);
  EXPECT_TRUE(p.honeypots.files.empty());
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_NE(p.warnings[0].message.find("no decoy is planted"), std::string::npos);
}

TEST(PolicyCompile, DefaultPolicyWatchesAndNeverBlocks) {
  CompileOptions o = test_options();
  o.runtime_api = "127.0.0.1:9001";
  LoadedPolicy p = default_policy(o);
  EXPECT_EQ(p.source, "<default>");
  image::View v = view_of(p);
  ASSERT_EQ(image::image_validate(p.image.data(), p.image.size()), nullptr);
  EXPECT_EQ(p.top_mode, Mode::kMonitor);
  for (size_t c = 0; c < image::kControlCount; ++c) {
    EXPECT_NE(v.control(static_cast<Control>(c)).mode, Mode::kBlock) << c;
  }
  auto shadow = image::decide_path(v, Control::kFilesRead, "/etc/shadow", Phase::kAny);
  EXPECT_TRUE(shadow.reports());
  EXPECT_FALSE(shadow.blocks());
  EXPECT_FALSE(image::decide_path(v, Control::kFilesWrite, "/etc/x", Phase::kAny).reports());
  EXPECT_TRUE(exec_of(v, "/usr/bin/nc").reports());
  EXPECT_FALSE(exec_of(v, "/usr/bin/nc").blocks());
  EXPECT_FALSE(connect4(v, "8.8.8.8", 443).reports());
}

TEST(PolicyCompile, OptionsComeFromTheLambdaEnvironment) {
  setenv("LAMBDA_TASK_ROOT", "/var/task", 1);
  setenv("LAMBDA_RUNTIME_DIR", "/var/runtime", 1);
  setenv("TMPDIR", "/scratch", 1);
  setenv("HOME", "/home/u", 1);
  setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001", 1);
  CompileOptions o = compile_options_from_environment();
  EXPECT_EQ(o.task_root, "/var/task");
  EXPECT_EQ(o.runtime_dir, "/var/runtime");
  EXPECT_EQ(o.tmp, "/scratch");
  EXPECT_EQ(o.home, "/home/u");
  EXPECT_EQ(o.runtime_api, "127.0.0.1:9001");
  EXPECT_FALSE(o.mode_override.has_value());  // the caller's job

  // Outside Lambda: the launch directory and /tmp.
  unsetenv("LAMBDA_TASK_ROOT");
  unsetenv("LAMBDA_RUNTIME_DIR");
  unsetenv("TMPDIR");
  unsetenv("AWS_LAMBDA_RUNTIME_API");
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof cwd), nullptr);
  CompileOptions local = compile_options_from_environment();
  EXPECT_EQ(local.task_root, cwd);
  EXPECT_EQ(local.tmp, "/tmp");
  EXPECT_TRUE(local.runtime_dir.empty());
  EXPECT_TRUE(local.runtime_api.empty());
}

TEST(PolicyCompile, NameserversAreReadFromResolvConf) {
  char path[] = "/tmp/fnguard-resolv-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text =
      "# comment nameserver 9.9.9.9\n"
      "search example.com\n"
      "nameserver 10.0.0.2\n"
      "\tnameserver\t169.254.78.1   # trailing comment\r\n"
      "nameserver\n"
      "nameservers 1.1.1.1\n"
      "options ndots:2\n"
      "nameserver fe80::1%eth0";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  std::vector<std::string> got = read_nameservers(path);
  unlink(path);
  EXPECT_EQ(got, (std::vector<std::string>{"10.0.0.2", "169.254.78.1", "fe80::1%eth0"}));
  EXPECT_TRUE(read_nameservers("/nonexistent/resolv.conf").empty());
}

TEST(PolicyCompile, EffectiveJsonIsStable) {
  const char* text = "version: 1\nfiles:\n  read:\n    rules:\n      - deny: /etc/shadow\n";
  LoadedPolicy a = must_load(text);
  LoadedPolicy b = must_load(text);
  EXPECT_EQ(a.effective_json, b.effective_json);
  EXPECT_EQ(a.effective_json.rfind("{\n  \"version\": 1,\n", 0), 0u);
  EXPECT_EQ(a.effective_json.back(), '\n');
}

}  // namespace
}  // namespace fnguard::policy
