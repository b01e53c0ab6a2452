// The parsed policy tree that `fnguard layer build` ships (policy.tree):
// reading it gives exactly the tree, and so exactly the policy, that parsing
// the text gives; it is used only for the very text it was made from, and a
// damaged, truncated or foreign file is refused (the text is parsed then).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "fnguard/policy/policy.h"
#include "fnguard/policy/yaml_tree.h"
#include "policy_test_util.h"

namespace fnguard::policy {
namespace {

CompileOptions test_options() {
  CompileOptions o = lambda_variables();
  o.runtime_api = "127.0.0.1:9001";
  o.nameservers = {"169.254.78.1"};
  return o;
}

std::string source_dir() {
  std::string file = __FILE__;
  return file.substr(0, file.rfind("/tests/unit/"));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every policy the project ships or uses as an example or fuzz seed.
std::vector<std::string> policy_files() {
  std::string root = source_dir();
  return {root + "/policies/default.yaml",
          root + "/policies/strict.yaml",
          root + "/policies/strict.json",
          root + "/examples/lambda/policy.yaml",
          root + "/examples/demo/policy.yaml",
          root + "/tests/fuzz/policy_yaml_corpus/everything.yaml",
          root + "/tests/fuzz/policy_yaml_corpus/strict.yaml"};
}

void expect_same_tree(const Node& a, const Node& b, const std::string& at) {
  ASSERT_EQ(a.kind, b.kind) << at;
  EXPECT_EQ(a.text, b.text) << at;
  EXPECT_EQ(a.quoted, b.quoted) << at;
  EXPECT_EQ(a.verbatim, b.verbatim) << at;
  EXPECT_TRUE(b.where.file.empty()) << at;  // read_tree_file leaves it to the reporter
  EXPECT_EQ(a.where.line, b.where.line) << at;
  EXPECT_EQ(a.where.column, b.where.column) << at;
  ASSERT_EQ(a.items.size(), b.items.size()) << at;
  for (size_t i = 0; i < a.items.size(); ++i) {
    expect_same_tree(a.items[i], b.items[i], at + "[" + std::to_string(i) + "]");
  }
  ASSERT_EQ(a.entries.size(), b.entries.size()) << at;
  for (size_t i = 0; i < a.entries.size(); ++i) {
    expect_same_tree(a.entries[i].key, b.entries[i].key, at + "." + a.entries[i].key.text);
    expect_same_tree(a.entries[i].value, b.entries[i].value, at + "." + a.entries[i].key.text);
  }
}

TEST(PolicyTreeFile, ReadingTheFileGivesTheParsedTreeForEveryShippedPolicy) {
  for (const std::string& path : policy_files()) {
    std::string text = read_file(path);
    ASSERT_FALSE(text.empty()) << path;
    ReadResult parsed = read_yaml_tree(text, path);
    ASSERT_TRUE(parsed.errors.empty()) << path;
    std::string file = write_tree_file(parsed.root, text);
    std::optional<Node> read = read_tree_file(file, text);
    ASSERT_TRUE(read.has_value()) << path;
    expect_same_tree(parsed.root, *read, path);
  }
}

TEST(PolicyTreeFile, AFileMadeForAnotherTextIsRefused) {
  std::string text = read_file(source_dir() + "/policies/default.yaml");
  std::string file = write_tree_file(read_yaml_tree(text, "p.yaml").root, text);
  std::string edited = text;
  edited[edited.find("monitor")] = 'M';  // "mode: Monitor": one byte
  EXPECT_FALSE(read_tree_file(file, edited).has_value());
  EXPECT_FALSE(read_tree_file(file, text + "\n").has_value());
  EXPECT_TRUE(read_tree_file(file, text).has_value());
}

TEST(PolicyTreeFile, EveryTruncationAndEveryChangedByteIsRefused) {
  std::string text = read_file(source_dir() + "/policies/strict.yaml");
  std::string file = write_tree_file(read_yaml_tree(text, "p.yaml").root, text);
  for (size_t n = 0; n < file.size(); ++n) {
    EXPECT_FALSE(read_tree_file(file.substr(0, n), text).has_value()) << "length " << n;
  }
  for (size_t i = 0; i < file.size(); ++i) {
    std::string damaged = file;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x01);
    EXPECT_FALSE(read_tree_file(damaged, text).has_value()) << "byte " << i;
  }
  EXPECT_FALSE(read_tree_file(file + "x", text).has_value());
}

// Bodies that pass no digest check (what the fuzz target feeds): each rule
// the YAML reader enforces still holds.
std::string body_of(const std::string& yaml) {
  std::string file = write_tree_file(read_yaml_tree(yaml, "p.yaml").root, yaml);
  return file.substr(8 + 32 + 32);
}

TEST(PolicyTreeFile, TheBodyDecoderRefusesWhatTheReaderRefuses) {
  std::string good = body_of("a: 1\nb: 2\n");
  ASSERT_TRUE(decode_tree_body(good).has_value());
  // The second key's text is "b": make it "a" (a duplicate key).
  std::string dup = good;
  dup[dup.rfind('b')] = 'a';
  EXPECT_FALSE(decode_tree_body(dup).has_value());
  // A mapping key that is a list.
  std::string list_key = body_of("? [x]\n: 1\n");
  EXPECT_FALSE(decode_tree_body(list_key).has_value());
  // A NUL and a broken UTF-8 sequence in a scalar.
  std::string nul = good;
  nul[nul.rfind('2')] = '\0';
  EXPECT_FALSE(decode_tree_body(nul).has_value());
  std::string utf8 = good;
  utf8[utf8.rfind('2')] = static_cast<char>(0xc3);
  EXPECT_FALSE(decode_tree_body(utf8).has_value());
  // Nesting deeper than the reader allows, and a count larger than the input.
  // Lists of one list each, `levels` deep, around an empty scalar.
  auto nested = [](int levels) {
    std::string one_list =
        std::string("\x01\x00", 2) + std::string(12, '\0') + std::string("\x01\x00\x00\x00", 4);
    std::string out;
    for (int i = 0; i < levels; ++i) out += one_list;
    return out + std::string(14, '\0');
  };
  EXPECT_TRUE(decode_tree_body(nested(kMaxDepth - 1)).has_value());
  EXPECT_FALSE(decode_tree_body(nested(kMaxDepth + 3)).has_value());
  std::string huge = std::string("\x01\x00", 2) + std::string(12, '\0') + "\xff\xff\xff\x7f";
  EXPECT_FALSE(decode_tree_body(huge).has_value());
  EXPECT_FALSE(decode_tree_body(good + "x").has_value());
  EXPECT_FALSE(decode_tree_body("").has_value());
}

class TempFiles {
 public:
  TempFiles() {
    char tmpl[] = "/tmp/fnguard-tree-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  ~TempFiles() { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string write(const std::string& name, const std::string& content) const {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  // policy.yaml with `text`, and the policy.tree `fnguard layer build` makes
  // of it; returns their paths.
  std::pair<std::string, std::string> layer_files(const std::string& text) const {
    std::string policy = write("policy.yaml", text);
    std::string tree =
        write("policy.tree", write_tree_file(read_yaml_tree(text, policy).root, text));
    return {policy, tree};
  }

 private:
  std::string dir_;
};

TEST(PolicyTreeFile, ThePreparedLoadGivesTheSamePolicyAndSaysSo) {
  TempFiles t;
  for (const std::string& source : policy_files()) {
    auto [policy, tree] = t.layer_files(read_file(source));
    Result<LoadedPolicy> parsed = load_policy_file(policy, test_options());
    Result<LoadedPolicy> prepared = load_policy_file_prepared(policy, tree, test_options());
    ASSERT_TRUE(parsed.ok() && prepared.ok()) << source;
    EXPECT_TRUE(prepared->prepared) << source;
    EXPECT_FALSE(parsed->prepared) << source;
    EXPECT_EQ(prepared->image, parsed->image) << source;
    EXPECT_EQ(prepared->top_mode, parsed->top_mode) << source;
    EXPECT_EQ(prepared->inspect.detectors, parsed->inspect.detectors) << source;
    ASSERT_EQ(prepared->warnings.size(), parsed->warnings.size()) << source;
    for (size_t i = 0; i < parsed->warnings.size(); ++i) {
      EXPECT_EQ(prepared->warnings[i].where.to_string(), parsed->warnings[i].where.to_string());
      EXPECT_EQ(prepared->warnings[i].message, parsed->warnings[i].message);
    }
  }
}

TEST(PolicyTreeFile, AProblemFoundInThePreparedTreeNamesTheFileLineAndColumn) {
  TempFiles t;
  // Valid YAML, but $HOME is not set here: collect refuses it.
  std::string text = "version: 1\nfiles:\n  read:\n    rules:\n      - deny: $HOME/.aws/**\n";
  auto [policy, tree] = t.layer_files(text);
  CompileOptions no_home = test_options();
  no_home.home.clear();
  Result<LoadedPolicy> parsed = load_policy_file(policy, no_home);
  Result<LoadedPolicy> prepared = load_policy_file_prepared(policy, tree, no_home);
  ASSERT_FALSE(parsed.ok());
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.error().to_string(), parsed.error().to_string());
  EXPECT_EQ(prepared.error().where.file, policy);
  EXPECT_EQ(prepared.error().where.line, 5);
}

TEST(PolicyTreeFile, AWarningFromThePreparedTreeNamesTheFile) {
  TempFiles t;
  std::string text = "version: 1\ninspect:\n  detectors: [ssrf, ssrf]\n";
  auto [policy, tree] = t.layer_files(text);
  Result<LoadedPolicy> prepared = load_policy_file_prepared(policy, tree, test_options());
  ASSERT_TRUE(prepared.ok());
  ASSERT_TRUE(prepared->prepared);
  ASSERT_EQ(prepared->warnings.size(), 1u);
  EXPECT_EQ(prepared->warnings[0].where.to_string(), policy + ":3:21");
}

TEST(PolicyTreeFile, AnEditedPolicyIsParsedAgainAndItsEditApplies) {
  TempFiles t;
  std::string text = "version: 1\nmode: monitor\n";
  auto [policy, tree] = t.layer_files(text);
  t.write("policy.yaml", "version: 1\nmode: block\n");
  Result<LoadedPolicy> loaded = load_policy_file_prepared(policy, tree, test_options());
  ASSERT_TRUE(loaded.ok());
  EXPECT_FALSE(loaded->prepared);
  EXPECT_EQ(loaded->top_mode, image::Mode::kBlock);
}

TEST(PolicyTreeFile, AMissingOrUnreadableTreeFallsBackAndErrorsStayTheSame) {
  TempFiles t;
  std::string policy = t.write("policy.yaml", "version: 1\nmode: block\n");
  Result<LoadedPolicy> no_tree = load_policy_file_prepared(policy, t.path("none"), test_options());
  ASSERT_TRUE(no_tree.ok());
  EXPECT_FALSE(no_tree->prepared);
  EXPECT_EQ(no_tree->top_mode, image::Mode::kBlock);
  Result<LoadedPolicy> dir_tree = load_policy_file_prepared(policy, "/tmp", test_options());
  ASSERT_TRUE(dir_tree.ok());
  EXPECT_FALSE(dir_tree->prepared);
  // A policy with a mistake: the same first error either way.
  std::string bad = t.write("bad.yaml", "version: 1\nmode: sometimes\n");
  Result<LoadedPolicy> a = load_policy_file(bad, test_options());
  Result<LoadedPolicy> b = load_policy_file_prepared(bad, t.path("none"), test_options());
  ASSERT_FALSE(a.ok());
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(a.error().to_string(), b.error().to_string());
  Result<LoadedPolicy> missing =
      load_policy_file_prepared(t.path("nope.yaml"), t.path("none"), test_options());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().to_string(),
            load_policy_file(t.path("nope.yaml"), test_options()).error().to_string());
}

}  // namespace
}  // namespace fnguard::policy
