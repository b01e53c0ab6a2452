// The policy reader and validator: good YAML and JSON give the same image;
// each kind of mistake is reported at its exact line:col, all of them at once.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fnguard/image/format.h"
#include "fnguard/policy/policy.h"
#include "policy_test_util.h"

namespace fnguard::policy {
namespace {

CompileOptions test_options() { return lambda_variables(); }

// The repository root, from this file's path (CMake compiles it by absolute path).
std::string source_dir() {
  std::string file = __FILE__;
  return file.substr(0, file.rfind("/tests/unit/"));
}

std::vector<std::string> errors_of(const std::string& text) {
  std::vector<std::string> out;
  for (const Error& e : check_policy_text(text, "p.yaml", test_options()).errors) {
    out.push_back(e.to_string());
  }
  return out;
}

// The first error's "file:line:col".
std::string where_of(const std::string& text) {
  CheckResult r = check_policy_text(text, "p.yaml", test_options());
  if (r.errors.empty()) return "no error";
  return r.errors.front().where.to_string();
}

constexpr const char* kYaml = R"(version: 1
mode: block
files:
  read:
    mode: monitor
    default: allow
    rules:
      - deny: /etc/shadow
      - deny: /proc/*/environ
      - deny: $TASK_ROOT/**
        phase: invoke
  write:
    default: deny
    rules:
      - allow: /tmp/**
network:
  outbound:
    default: deny
    rules:
      - allow: "*.amazonaws.com:443"
      - allow: 10.0.0.0/8
  inbound: deny
process:
  exec:
    default: deny
    rules:
      - deny: {name: [xmrig, nc]}
      - allow: /usr/bin/env
  exec_from_writable: block
require:
  preload: true
  kernel: false
)";

constexpr const char* kJson = R"({
	"version": 1,
	"mode": "block",
	"files": {
		"read": {"mode": "monitor", "default": "allow", "rules": [
			{"deny": "/etc/shadow"}, {"deny": "/proc/*/environ"},
			{"deny": "$TASK_ROOT/**", "phase": "invoke"}]},
		"write": {"default": "deny", "rules": [{"allow": "/tmp/**"}]}
	},
	"network": {
		"outbound": {"default": "deny", "rules": [{"allow": "*.amazonaws.com:443"}, {"allow": "10.0.0.0/8"}]},
		"inbound": "deny"
	},
	"process": {
		"exec": {"default": "deny", "rules": [{"deny": {"name": ["xmrig", "nc"]}}, {"allow": "/usr/bin/env"}]},
		"exec_from_writable": "block"
	},
	"require": {"preload": true, "kernel": false}
})";

TEST(PolicyParse, YamlAndJsonWithTabsGiveTheSameImage) {
  CheckResult yaml = check_policy_text(kYaml, "p.yaml", test_options());
  CheckResult json = check_policy_text(kJson, "p.json", test_options());
  ASSERT_TRUE(yaml.policy) << yaml.errors.front().to_string();
  ASSERT_TRUE(json.policy) << json.errors.front().to_string();
  EXPECT_EQ(yaml.policy->image, json.policy->image);
  EXPECT_EQ(image::image_validate(yaml.policy->image.data(), yaml.policy->image.size()), nullptr);
  EXPECT_EQ(yaml.policy->top_mode, image::Mode::kBlock);
}

TEST(PolicyParse, TabsBetweenJsonTokensGoButTabsInValuesStay) {
  CheckResult r = check_policy_text(
      "{\t\"version\":\t1,\n\t\"files\": {\"read\": {\"rules\": [\t{\"deny\": \"/a\tb\"},"
      " {\"deny\": '/c\td'}\t]}}}",
      "p.json", test_options());
  ASSERT_TRUE(r.policy) << r.errors.front().to_string();
  EXPECT_NE(r.policy->effective_json.find("\"/a\\tb\""), std::string::npos);
  EXPECT_NE(r.policy->effective_json.find("\"/c\\td\""), std::string::npos);
}

TEST(PolicyParse, LoadReturnsTheFirstErrorAndCountsTheRest) {
  auto r =
      load_policy_text("version: 1\nmode: blok\nfiles: {reed: {}}\n", "p.yaml", test_options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().where.to_string(), "p.yaml:2:7");
  EXPECT_NE(r.error().message.find("1 more problem"), std::string::npos);
}

// Found by the JSON fuzz target: an escaped NUL reached the compiled image,
// whose strings are NUL-terminated, and produced an image the enforcer refuses.
TEST(PolicyParse, EscapedNulInAStringIsAnError) {
  std::string json = R"({"version": 1, "process": {"exec": {"rules": [{"deny": {"name": "nc\u0000x"}}]}}})";
  auto errors = errors_of(json);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("p.yaml:1:"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("NUL character"), std::string::npos) << errors[0];
  EXPECT_EQ(errors_of("version: 1\nfiles:\n  read:\n    rules:\n      - deny: \"/etc/\\0x\"\n").size(), 1u);
}

TEST(PolicyParse, UnknownKeySuggestsTheNearestOne) {
  auto errors = errors_of("version: 1\nfiles:\n  reads:\n    default: allow\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "p.yaml:3:3: unknown key 'reads' in files (did you mean 'read'?)");
  EXPECT_EQ(where_of("version: 1\nfiles:\n  read:\n    rulez: []\n"), "p.yaml:4:5");
  EXPECT_EQ(where_of("version: 1\nnetwork:\n  outbound:\n    rules:\n      - alow: x.com\n"),
            "p.yaml:5:9");
}

// The schema lists nested keys as dotted paths ("files.read"); a key that
// is itself such a path names nothing and is refused like any other.
TEST(PolicyParse, ADottedKeyIsUnknownWhereverItStands) {
  EXPECT_EQ(where_of("version: 1\nfiles.read:\n  default: deny\n"), "p.yaml:2:1");
  EXPECT_EQ(where_of("version: 1\nfiles:\n  read.default: deny\n"), "p.yaml:3:3");
  EXPECT_EQ(where_of("version: 1\nfiles:\n  read:\n    rules[].allow: /x\n"), "p.yaml:4:5");
  EXPECT_EQ(where_of("version: 1\nprocess:\n  exec:\n    rules:\n      - deny:\n"
                     "          target.name: nc\n"),
            "p.yaml:6:11");
}

TEST(PolicyParse, EveryErrorIsReportedInSourceOrder) {
  auto errors = errors_of(
      "version: 1\n"
      "mode: loud\n"  // 2:7
      "files:\n"
      "  read:\n"
      "    default: maybe\n"  // 5:14
      "    rules:\n"
      "      - deny: $NOPE/x\n"      // 7:15
      "        phase: later\n"       // 8:16
      "require: {preload: yes}\n");  // 9:20
  ASSERT_EQ(errors.size(), 5u);
  EXPECT_EQ(errors[0].substr(0, 10), "p.yaml:2:7");
  EXPECT_EQ(errors[1].substr(0, 11), "p.yaml:5:14");
  EXPECT_EQ(errors[2].substr(0, 11), "p.yaml:7:15");
  EXPECT_EQ(errors[3].substr(0, 11), "p.yaml:8:16");
  EXPECT_EQ(errors[4].substr(0, 11), "p.yaml:9:20");
}

TEST(PolicyParse, VersionIsRequiredAndMustBeOne) {
  EXPECT_EQ(where_of("mode: block\n"), "p.yaml:1:1");
  EXPECT_EQ(where_of("version: 2\n"), "p.yaml:1:10");
  EXPECT_EQ(where_of("version: \"1\"\n"), "p.yaml:1:10");
  EXPECT_EQ(where_of("- version: 1\n"), "p.yaml:1:1");
}

TEST(PolicyParse, WrongTypesPointAtTheValue) {
  EXPECT_EQ(where_of("version: 1\nfiles: [a]\n"), "p.yaml:2:8");
  EXPECT_EQ(where_of("version: 1\nfiles:\n  read:\n    rules: {deny: /x}\n"), "p.yaml:4:12");
  EXPECT_EQ(where_of("version: 1\nfiles:\n  read:\n    rules:\n      - /etc/shadow\n"),
            "p.yaml:5:9");
  EXPECT_EQ(where_of("version: 1\nfiles:\n  read:\n    rules:\n      - deny: [/a, /b]\n"),
            "p.yaml:5:15");
  EXPECT_EQ(where_of("version: 1\nrequire:\n  kernel: \"true\"\n"), "p.yaml:3:11");
  EXPECT_EQ(where_of("version: 1\nfiles:\n  read:\n    rules:\n      - {allow: /a, deny: /b}\n"),
            "p.yaml:5:9");
}

TEST(PolicyParse, BadGlobPointsIntoTheString) {
  // The unclosed "[" is the 6th character of the value that starts at col 15.
  auto errors = errors_of("version: 1\nfiles:\n  read:\n    rules:\n      - deny: /etc/[ab\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].substr(0, 11), "p.yaml:5:20");
  EXPECT_NE(errors[0].find("not closed"), std::string::npos);
  // In quotes, the column still lands on the "[".
  EXPECT_EQ(where_of("version: 1\nfiles:\n  read:\n    rules:\n      - deny: \"/etc/[ab\"\n"),
            "p.yaml:5:21");
  EXPECT_EQ(where_of("version: 1\nfiles:\n  read:\n    rules:\n      - deny: /a/***\n"),
            "p.yaml:5:18");
  EXPECT_EQ(where_of("version: 1\nfiles:\n  read:\n    rules:\n      - deny: etc/passwd\n"),
            "p.yaml:5:15");
}

TEST(PolicyParse, BadNetworkTargetsAreErrors) {
  auto at = [](const std::string& target) {
    return where_of("version: 1\nnetwork:\n  outbound:\n    rules:\n      - allow: \"" + target +
                    "\"\n");
  };
  for (const char* bad : {"10.0.0.1/8", "10.0.0.0/33", "300.1.1.1", "1.2.3", "x.com:0",
                          "x.com:65536", "[::1", "[::1]x", "::1/129", "bad_host!", "-x.com", "a..b",
                          "*.", "x.*.com", "https://x.com", "443", "a b", "[::1]:"}) {
    EXPECT_EQ(at(bad), "p.yaml:5:16") << bad;
  }
}

TEST(PolicyParse, ExecMatchersAreChecked) {
  const std::string pre = "version: 1\nprocess:\n  exec:\n    rules:\n      - deny: ";
  EXPECT_EQ(where_of(pre + "{sha256: abcd}\n"), "p.yaml:5:24");
  EXPECT_EQ(where_of(pre + "{sha256: " + std::string(64, 'g') + "}\n"), "p.yaml:5:24");
  EXPECT_EQ(where_of(pre + "{name: bin/nc}\n"), "p.yaml:5:22");
  EXPECT_EQ(where_of(pre + "{name: []}\n"), "p.yaml:5:22");
  EXPECT_EQ(where_of(pre + "{name: nc, path: /x}\n"), "p.yaml:5:15");
  EXPECT_EQ(where_of(pre + "{hash: x}\n"), "p.yaml:5:15");  // the mapping, then the key
  EXPECT_EQ(where_of(pre + "{path: /usr/bin/[}\n"), "p.yaml:5:31");
  EXPECT_EQ(where_of(pre + "{sha256: " + std::string(64, 'A') + "}\n"), "no error");
}

TEST(PolicyParse, ModesPhasesAndSectionsAreChecked) {
  EXPECT_EQ(where_of("version: 1\nprocess:\n  exec_from_writable: on\n"), "p.yaml:3:23");
  EXPECT_EQ(where_of("version: 1\nnetwork:\n  inbound: {mode: block, default: nope}\n"),
            "p.yaml:3:35");
  EXPECT_EQ(where_of("version: 1\nnetwork:\n  inbound: [deny]\n"), "p.yaml:3:12");
  EXPECT_EQ(where_of("version: 1\nfiles:\n  write:\n    taint: always\n"), "p.yaml:4:12");
  EXPECT_EQ(where_of("version: 1\ninspect:\n  detectors: [ssrf, xss]\n"), "p.yaml:3:21");
  EXPECT_EQ(where_of("version: 1\nhoneypots:\n  files: [/tmp/*.key]\n"), "p.yaml:3:11");
  EXPECT_EQ(where_of("version: 1\nhoneypots:\n  env: 1\n"), "p.yaml:3:8");
}

TEST(PolicyParse, YamlFeaturesOutsideThePolicyLanguageAreRefused) {
  // Duplicate keys, anchors, aliases, tags, several documents.
  EXPECT_EQ(where_of("version: 1\nmode: block\nmode: off\n"), "p.yaml:3:1");
  EXPECT_EQ(where_of("version: 1\nmode: &m block\n"), "p.yaml:2:7");
  auto alias = errors_of("version: 1\nx: &a 1\ny: *a\n");
  ASSERT_GE(alias.size(), 1u);
  EXPECT_NE(alias.back().find("not supported"), std::string::npos);
  EXPECT_EQ(where_of("version: 1\nmode: !!str block\n"), "p.yaml:2:7");
  EXPECT_EQ(where_of("version: 1\n---\nversion: 1\n"), "p.yaml:2:1");
  // An unquoted "*:443" is a YAML alias; the hint says to quote it.
  auto star = errors_of("version: 1\nnetwork:\n  outbound:\n    rules:\n      - allow: *:443\n");
  ASSERT_EQ(star.size(), 1u);
  EXPECT_NE(star[0].find("quote"), std::string::npos);
}

TEST(PolicyParse, SyntaxErrorsAndEncodingsHaveLocations) {
  EXPECT_EQ(where_of("version: 1\nfiles:\n  read: {rules: [\n"), "p.yaml:4:1");
  EXPECT_EQ(where_of("version: 1\nmode: \xff\n"), "p.yaml:2:7");
  EXPECT_EQ(where_of("version: 1\nmode: \xc0\xaf\n"), "p.yaml:2:7");  // overlong "/"
  EXPECT_EQ(where_of(std::string("version: 1\nmode: a\0b\n", 21)), "p.yaml:2:8");
  EXPECT_NE(where_of(""), "no error");
  EXPECT_EQ(where_of("{\"version\": 1, \"mode\": \"block\",}"), "no error");  // YAML flow allows it
}

TEST(PolicyParse, DeepNestingIsRefusedNotRecursed) {
  std::string deep = "version: 1\nx: " + std::string(5000, '[') + std::string(5000, ']') + "\n";
  EXPECT_EQ(where_of(deep).substr(0, 8), "p.yaml:2");
}

TEST(PolicyParse, ThousandsOfErrorsAreCappedWithAFinalLine) {
  std::string text = "version: 1\n";
  for (int i = 0; i < 500; ++i) text += "bad" + std::to_string(i) + ": 1\n";
  auto errors = errors_of(text);
  ASSERT_EQ(errors.size(), 101u);
  EXPECT_EQ(errors[0].rfind("p.yaml:2:1: unknown key 'bad0' at the top level", 0), 0u);
  EXPECT_NE(errors[100].find("more than 100 problems"), std::string::npos);
}

TEST(PolicyParse, RulesAfterACatchAllAreAWarningNotAnError) {
  CheckResult r = check_policy_text(
      "version: 1\nfiles:\n  read:\n    rules:\n      - allow: /**\n      - deny: /etc/shadow\n",
      "p.yaml", test_options());
  ASSERT_TRUE(r.policy);
  ASSERT_EQ(r.policy->warnings.size(), 1u);
  EXPECT_EQ(r.policy->warnings[0].where.to_string(), "p.yaml:6:9");
  EXPECT_NE(r.policy->warnings[0].message.find("never reached"), std::string::npos);
  // A catch-all limited to one phase does not hide what follows.
  CheckResult phased = check_policy_text(
      "version: 1\nfiles:\n  read:\n    rules:\n      - allow: /**\n        phase: init\n"
      "      - deny: /etc/shadow\n",
      "p.yaml", test_options());
  ASSERT_TRUE(phased.policy);
  EXPECT_TRUE(phased.policy->warnings.empty());
}

TEST(PolicyParse, ADenyOfAProcFileWithoutItsThreadNamesIsAWarning) {
  CheckResult r = check_policy_text(R"(version: 1
files:
  read:
    rules:
      - deny: /proc/*/environ
      - deny: /proc/**/mem
      - deny: /proc/*/task/*/environ
      - allow: /proc/*/status
)",
                                    "p.yaml", test_options());
  ASSERT_TRUE(r.policy);
  ASSERT_EQ(r.policy->warnings.size(), 1u);
  EXPECT_EQ(r.policy->warnings[0].where.to_string(), "p.yaml:5:15");
  EXPECT_NE(r.policy->warnings[0].message.find("does not match /proc/PID/task/TID/environ"),
            std::string::npos);
  EXPECT_NE(r.policy->warnings[0].message.find("write /proc/**/environ"), std::string::npos);
}

TEST(PolicyParse, MissingFileIsAClearError) {
  CheckResult r = check_policy_file("/nonexistent/policy.yaml", test_options());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].where.file, "/nonexistent/policy.yaml");
  EXPECT_NE(r.errors[0].message.find("No such file"), std::string::npos);
}

TEST(PolicyParse, ShippedPoliciesAreValid) {
  for (const char* name : {"default.yaml", "strict.yaml", "strict.json"}) {
    std::string path = source_dir() + "/policies/" + name;
    CheckResult r = check_policy_file(path, test_options());
    EXPECT_TRUE(r.policy) << path << ": " << (r.errors.empty() ? "" : r.errors[0].to_string());
  }
}

}  // namespace
}  // namespace fnguard::policy
