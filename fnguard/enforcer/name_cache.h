// Which domain names this process resolved to which addresses, so that a
// connect() to an address can be matched against domain rules
// ("api.example.com:443"). Filled by the getaddrinfo/gethostbyname* hooks
// after a successful look-up; read by the connect/sendto/sendmsg hooks.
//
// A fixed table of kSlots entries in static storage, written and read with
// atomics (a per-slot sequence counter), so it needs no malloc and no lock
// and is safe from signal handlers and forked children. Writers take slots
// round-robin; the oldest entries are overwritten when the table is full.
//
// Limits, stated plainly:
// - Only names looked up through libc in this process (or in its parent
//   before fork) are known. A process that resolves names itself (its own
//   DNS client, DNS over HTTPS, a hard-coded address) gets no domain match:
//   its connections are decided by address rules and the default, which is
//   the safe direction for a deny-by-default policy.
// - Names longer than kNameMax - 1 characters are not recorded (no match).
// - A name that resolved to an address grants that address for the domain
//   rules, also to connections that did not mean that name (shared CDN
//   addresses). That is inherent to name-based rules enforced at connect().
#pragma once

#include <cstddef>
#include <cstdint>

namespace fnguard::enforcer {

inline constexpr size_t kNameCacheSlots = 512;
inline constexpr size_t kNameMax = 128;

// Lower-cases `name`, drops one trailing dot, and records (name, address).
// `family` is AF_INET (4-byte addr) or AF_INET6 (16 bytes); IPv4-mapped IPv6
// addresses are stored as IPv4. Numeric names (address literals) are ignored.
void name_cache_record(const char* name, int family, const void* addr);

// Copies up to `max` names recorded for (family, addr) into out[i]
// (each kNameMax bytes), without duplicates. Returns how many.
size_t name_cache_lookup(int family, const void* addr, char (*out)[kNameMax], size_t max);

// For tests: forget everything.
void name_cache_clear();

}  // namespace fnguard::enforcer
