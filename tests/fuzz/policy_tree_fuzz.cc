// libFuzzer target: the body of a prepared policy tree (policy.tree, which
// `fnguard layer build` writes; yaml_tree.h) through the decoder, and a
// decoded tree on through the checks and the compile. Any input may be
// refused; none may crash, hang or leak. A decoded tree must encode to a
// body that decodes to the same encoding, and an accepted policy must
// compile to an image that image_validate() accepts.
// Seeds: the shipped policies' bodies (policy_tree_corpus/).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fnguard/image/format.h"
#include "fnguard/policy/collect.h"
#include "fnguard/policy/compile.h"
#include "fnguard/policy/yaml_tree.h"
#include "policy_fuzz_common.h"

namespace fp = fnguard::policy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fp::CompileOptions& options = fnguard::fuzz::fuzz_compile_options();
  std::string_view body(reinterpret_cast<const char*>(data), size);
  std::optional<fp::Node> root = fp::decode_tree_body(body);
  if (!root) return 0;
  // Header: magic, text digest, body digest (72 bytes).
  std::string file = fp::write_tree_file(*root, "");
  std::optional<fp::Node> again = fp::read_tree_file(file, "");
  if (!again || fp::write_tree_file(*again, "") != file) __builtin_trap();
  fp::CollectResult collected = fp::collect_policy(*root, options);
  if (!collected.errors.empty()) return 0;
  fp::LoadedPolicy loaded = fp::compile_policy(collected.model, "fuzz.tree", options);
  if (fnguard::image::image_validate(loaded.image.data(), loaded.image.size()) != nullptr) {
    __builtin_trap();
  }
  return 0;
}
