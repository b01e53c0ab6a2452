// The invocation context page: what the supervisor (Runtime API proxy) knows
// about the invocation in progress, published to every protected process.
//
// The supervisor creates a memfd of sizeof(ContextPage), maps it read-write,
// then applies F_SEAL_FUTURE_WRITE (and shrink/grow/seal), so the protected
// processes can only map it read-only: they can read the request id but not
// forge it. Writes follow a sequence lock: `seq` is odd while the supervisor
// writes; readers copy the page and retry if `seq` changed or was odd.
#pragma once

#include <atomic>
#include <cstdint>

#include "fnguard/image/format.h"

namespace fnguard::image {

inline constexpr uint32_t kContextMagic = 0x31435846;  // "FXC1"
inline constexpr size_t kMaxTaints = 64;

struct TaintValue {
  uint16_t field_offset, field_length;  // into ContextPage::taint_data, e.g. "queryStringParameters.file"
  uint16_t value_offset, value_length;  // the value taken from the event
};

struct ContextPage {
  uint32_t magic;
  std::atomic<uint32_t> seq;
  uint64_t invocation;   // increments with each invocation; 0 before the first
  Phase phase;           // kAny outside Lambda, else kInit or kInvoke
  uint8_t degraded;      // 1 when the proxy lost track (events then omit request data)
  // 1 once the kernel backstop's exec supervision is running for this
  // process tree (set before the program's exec is answered; never
  // cleared: a supervisor that stops leaves its filter refusing execs). The
  // preload then leaves to it the checks that need a system call per item
  // (the symbolic links of search path directories) and keeps the ones it
  // can make from memory. Read without the sequence lock: one byte, set once.
  std::atomic<uint8_t> exec_supervised;
  uint8_t reserved[5];
  uint64_t deadline_ms;  // epoch milliseconds, 0 when unknown
  char request_id[64];
  char function_arn[256];
  char trace_id[256];
  uint32_t taint_count;
  TaintValue taints[kMaxTaints];
  char taint_data[8192];
};

// Copies the page consistently (sequence lock). Returns false when the page is
// absent, has a wrong magic, or kept changing for too long. No allocation.
bool context_snapshot(const ContextPage* page, ContextPage* out);

}  // namespace fnguard::image
