// Placeholder until the enforcer lands.
#include "fnguard/enforcer/runtime.h"
