// Shared body of the policy parser fuzz targets: any input may be refused,
// none may crash, hang or leak, and an accepted policy must compile to an
// image that image_validate() accepts and that decisions can run over.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fnguard/image/decide.h"
#include "fnguard/policy/policy.h"

namespace fnguard::fuzz {

// A Lambda function's values for everything the compile substitutes.
inline const policy::CompileOptions& fuzz_compile_options() {
  static const policy::CompileOptions options = [] {
    policy::CompileOptions o;
    o.task_root = "/var/task";
    o.runtime_dir = "/var/runtime";
    o.tmp = "/tmp";
    o.home = "/home/sbx_user";
    o.runtime_api = "127.0.0.1:9001";
    o.nameservers = {"169.254.78.1"};
    return o;
  }();
  return options;
}

inline int fuzz_policy_text(const uint8_t* data, size_t size, const char* source) {
  const policy::CompileOptions& options = fuzz_compile_options();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto loaded = policy::load_policy_text(text, source, options);
  if (!loaded.ok()) {
    if (loaded.error().message.empty()) __builtin_trap();  // every error says something
    return 0;
  }
  const auto& image_bytes = loaded->image;
  if (image::image_validate(image_bytes.data(), image_bytes.size()) != nullptr) __builtin_trap();
  if (loaded->effective_json.empty() || loaded->effective_json[0] != '{') __builtin_trap();
  image::View view(image_bytes.data(), image_bytes.size());
  (void)image::decide_path(view, image::Control::kFilesRead, "/etc/shadow", image::Phase::kAny);
  image::ExecSubject exec;
  exec.resolved = "/usr/bin/nc";
  exec.invoked = "/bin/nc";
  (void)image::decide_exec(view, exec, image::Phase::kInvoke);
  static const uint8_t kAddr[4] = {10, 1, 2, 3};
  static const char* const kNames[1] = {"api.example.com"};
  image::NetSubject net;
  net.family = 2;  // AF_INET
  net.addr = kAddr;
  net.port = 443;
  net.names = kNames;
  net.name_count = 1;
  (void)image::decide_net(view, image::Control::kNetOutbound, net, image::Phase::kAny);
  return 0;
}

}  // namespace fnguard::fuzz
