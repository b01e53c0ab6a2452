// Shared by the policy tests: the variables a Lambda function's policy
// expands ($TASK_ROOT, $RUNTIME_DIR, $TMP, $HOME), with Lambda's values.
#pragma once

#include "fnguard/policy/policy.h"

namespace fnguard::policy {

inline CompileOptions lambda_variables() {
  CompileOptions o;
  o.task_root = "/var/task";
  o.runtime_dir = "/var/runtime";
  o.tmp = "/tmp";
  o.home = "/home/sbx_user";
  return o;
}

}  // namespace fnguard::policy
