// File decisions the network hooks need: a pathname AF_UNIX socket is a file
// in the file system, and binding or connecting to one is decided by
// files.write (fnguard/enforcer/hooks_files.cc, which owns the path logic).
#pragma once

namespace fnguard::enforcer {

// Decides the socket file of a pathname AF_UNIX address (relative to the
// working directory, as the kernel reads it) as a files.write access, with
// the same lexical and symbolic-link checks as a path operation. `create`:
// bind(), which creates the socket file (the last component is not
// followed, as for mknod); otherwise connect() or a datagram sent to it,
// which the kernel allows only with write permission on the socket file
// (links followed). Returns 0 to proceed or EACCES; reports violations and
// preserves errno.
int check_unix_socket_path(const char* path, bool create, const char* op, const void* caller);

}  // namespace fnguard::enforcer
