// Reader side of the context page's sequence lock.
#include "fnguard/image/context.h"

#include <cstring>

namespace fnguard::image {

bool context_snapshot(const ContextPage* page, ContextPage* out) {
  if (page == nullptr) return false;
  for (int attempt = 0; attempt < 64; ++attempt) {
    uint32_t before = page->seq.load(std::memory_order_acquire);
    if ((before & 1u) != 0) continue;
    // The copy may race with a writer; the sequence check below discards it.
    std::memcpy(static_cast<void*>(out), static_cast<const void*>(page), sizeof *out);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (page->seq.load(std::memory_order_relaxed) == before) {
      return out->magic == kContextMagic;
    }
  }
  return false;
}

}  // namespace fnguard::image
