// The lock-free name table (see name_cache.h).
//
// Each slot carries a sequence counter: odd while a writer fills it, bumped
// to the next even value when done. A writer claims a slot by moving its
// counter from even to odd with compare-and-swap (so two writers never fill
// one slot); a reader copies the slot and keeps the copy only if the counter
// was even and unchanged across the copy. The payload is accessed with
// relaxed atomic byte operations, so there is no data race in the C++ sense.
#include "fnguard/enforcer/name_cache.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>

namespace fnguard::enforcer {
namespace {

struct Slot {
  std::atomic<uint32_t> seq;
  std::atomic<uint8_t> family;  // 0 = empty, 4 or 6
  std::atomic<uint8_t> addr[16];
  std::atomic<char> name[kNameMax];
};

Slot g_slots[kNameCacheSlots];
// A hash of each slot's address, kept apart so that a lookup (on every
// connect with domain rules) touches one word per slot instead of a slot.
// 0 = empty. A match is confirmed by reading the slot itself.
std::atomic<uint32_t> g_keys[kNameCacheSlots];
std::atomic<uint32_t> g_next{0};
std::atomic<bool> g_any{false};

constexpr auto kRelaxed = std::memory_order_relaxed;

// Maps (family, addr) to (4|6, 16 bytes, zero-padded). False for other families.
bool canonical(int family, const void* addr, uint8_t* tag, uint8_t out[16]) {
  const uint8_t* a = static_cast<const uint8_t*>(addr);
  for (int i = 0; i < 16; ++i) out[i] = 0;
  if (family == AF_INET) {
    for (int i = 0; i < 4; ++i) out[i] = a[i];
    *tag = 4;
    return true;
  }
  if (family == AF_INET6) {
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    bool mapped = true;
    for (int i = 0; i < 12; ++i) mapped = mapped && a[i] == kMapped[i];
    if (mapped) {
      for (int i = 0; i < 4; ++i) out[i] = a[12 + i];
      *tag = 4;
    } else {
      for (int i = 0; i < 16; ++i) out[i] = a[i];
      *tag = 6;
    }
    return true;
  }
  return false;
}

// Reads slot `s` into the caller's buffers; false if it is being written,
// empty, or changed while being read.
bool read_slot(const Slot& s, uint8_t* tag, uint8_t addr[16], char name[kNameMax]) {
  uint32_t before = s.seq.load(std::memory_order_acquire);
  if ((before & 1u) != 0) return false;
  *tag = s.family.load(kRelaxed);
  if (*tag == 0) return false;
  for (int i = 0; i < 16; ++i) addr[i] = s.addr[i].load(kRelaxed);
  for (size_t i = 0; i < kNameMax; ++i) {
    name[i] = s.name[i].load(kRelaxed);
    if (name[i] == '\0') break;
  }
  name[kNameMax - 1] = '\0';
  std::atomic_thread_fence(std::memory_order_acquire);
  return s.seq.load(kRelaxed) == before;
}

uint32_t key_hash(uint8_t tag, const uint8_t addr[16]) {
  uint32_t h = 2166136261u ^ tag;  // FNV-1a
  for (int i = 0; i < 16; ++i) h = (h ^ addr[i]) * 16777619u;
  return h == 0 ? 1 : h;
}

bool same_name(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}

bool is_numeric(const char* name) {
  uint8_t buf[16];
  return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

}  // namespace

void name_cache_record(const char* name, int family, const void* addr) {
  if (name == nullptr || addr == nullptr) return;
  uint8_t tag = 0;
  uint8_t key[16];
  if (!canonical(family, addr, &tag, key)) return;
  char lower[kNameMax];
  size_t n = 0;
  for (; name[n] != '\0'; ++n) {
    if (n + 1 >= kNameMax) return;  // too long to record
    char c = name[n];
    lower[n] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  if (n > 0 && lower[n - 1] == '.') --n;
  lower[n] = '\0';
  if (n == 0 || is_numeric(lower)) return;

  // Already known: nothing to do (repeated look-ups must not churn the table).
  for (size_t i = 0; i < kNameCacheSlots; ++i) {
    uint8_t t;
    uint8_t a[16];
    char existing[kNameMax];
    if (!read_slot(g_slots[i], &t, a, existing)) continue;
    if (t != tag) continue;
    bool same = true;
    for (int k = 0; k < 16; ++k) same = same && a[k] == key[k];
    if (same && same_name(existing, lower)) return;
  }

  for (size_t attempt = 0; attempt < kNameCacheSlots; ++attempt) {
    Slot& s = g_slots[g_next.fetch_add(1, kRelaxed) % kNameCacheSlots];
    uint32_t seq = s.seq.load(kRelaxed);
    if ((seq & 1u) != 0) continue;  // another writer holds it
    if (!s.seq.compare_exchange_strong(seq, seq + 1, std::memory_order_acquire, kRelaxed)) continue;
    std::atomic_thread_fence(std::memory_order_release);
    size_t index = static_cast<size_t>(&s - g_slots);
    s.family.store(tag, kRelaxed);
    for (int i = 0; i < 16; ++i) s.addr[i].store(key[i], kRelaxed);
    for (size_t i = 0; i <= n; ++i) s.name[i].store(lower[i], kRelaxed);
    g_keys[index].store(key_hash(tag, key), kRelaxed);
    s.seq.store(seq + 2, std::memory_order_release);
    g_any.store(true, std::memory_order_release);
    return;
  }
}

size_t name_cache_lookup(int family, const void* addr, char (*out)[kNameMax], size_t max) {
  uint8_t tag = 0;
  uint8_t key[16];
  if (!g_any.load(std::memory_order_acquire)) return 0;  // nothing was ever looked up
  if (addr == nullptr || max == 0 || !canonical(family, addr, &tag, key)) return 0;
  uint32_t wanted = key_hash(tag, key);
  size_t found = 0;
  for (size_t i = 0; i < kNameCacheSlots && found < max; ++i) {
    if (g_keys[i].load(kRelaxed) != wanted) continue;
    uint8_t t;
    uint8_t a[16];
    if (!read_slot(g_slots[i], &t, a, out[found])) continue;
    if (t != tag) continue;
    bool same = true;
    for (int k = 0; k < 16; ++k) same = same && a[k] == key[k];
    if (!same) continue;
    bool duplicate = false;
    for (size_t j = 0; j < found && !duplicate; ++j) duplicate = same_name(out[j], out[found]);
    if (!duplicate) ++found;
  }
  return found;
}

void name_cache_clear() {
  for (Slot& s : g_slots) {
    uint32_t seq = s.seq.load(kRelaxed);
    if ((seq & 1u) != 0) continue;
    if (!s.seq.compare_exchange_strong(seq, seq + 1, std::memory_order_acquire, kRelaxed)) continue;
    s.family.store(0, kRelaxed);
    g_keys[static_cast<size_t>(&s - g_slots)].store(0, kRelaxed);
    s.seq.store(seq + 2, std::memory_order_release);
  }
}

}  // namespace fnguard::enforcer
