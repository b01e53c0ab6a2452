// How the supervisor (`fnguard run`, the Lambda wrapper) and the in-process
// enforcer find each other. Everything crosses through inherited file
// descriptors named in one environment variable:
//
//   LD_PRELOAD=<lib>/libfnguard.so[:<whatever was there>]
//   FNGUARD_ENFORCER=image=<fd>,context=<fd>,events=<fd>[,gate=<fd>]
//
// - image:   sealed memfd holding the compiled policy (fnguard/image/format.h)
// - context: memfd with F_SEAL_FUTURE_WRITE holding the ContextPage
// - events:  the write end of a SOCK_DGRAM socketpair; one datagram is one
//            event as a JSON object (no newline). The supervisor folds repeats,
//            adds nothing the enforcer knows better, and writes the sink.
// - gate:    only for the first process. An enforcer that started sends a
//            `hello` datagram and closes the gate: it is enforcing from then
//            on. One that could not start (bad image) sends a lifecycle error
//            and blocks reading one byte from this fd before the program's
//            main runs: the supervisor either allows an unprotected run
//            (require.preload: false) or kills it. No hello at all (the loader
//            ignored the preload) is caught by the supervisor's hello deadline.
//
// The descriptors are moved by the supervisor to high numbers (kFirstFd and
// up) and are not close-on-exec. The enforcer keeps them: close(),
// close_range(), closefrom(), dup2()/dup3() onto them are intercepted, and every
// exec path puts LD_PRELOAD and FNGUARD_ENFORCER back into the environment it
// passes on, so scrubbing the environment does not drop protection.
#pragma once

namespace fnguard::enforcer {

inline constexpr const char* kEnvEnforcer = "FNGUARD_ENFORCER";
inline constexpr const char* kEnvPreload = "LD_PRELOAD";
inline constexpr int kFirstFd = 1019;  // image, context, events, gate: 1019..1022

// The hello datagram the enforcer sends on load, before main():
//   {"fnguard_hello":1,"pid":<pid>}
inline constexpr const char* kHelloPrefix = "{\"fnguard_hello\":1";

}  // namespace fnguard::enforcer
