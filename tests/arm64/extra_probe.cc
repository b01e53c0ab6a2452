// Operations tests/unit/programs/enforcer_probe.cc does not have, for the
// arm64 enforcer test (tests/unit/enforcer_arm64_test.cc), cross-compiled for
// aarch64 and run under qemu-user: the native tests drive python3 for these,
// which has no arm64 build here. Each argument group is one operation
// printing one line, "<op> ok [data]" or "<op> err <errno>", like
// enforcer_probe.cc:
//
//   connect ADDR PORT    TCP connect to an IPv4 literal
//   resolve NAME PORT    getaddrinfo(NAME) (IPv4, TCP), then connect to the
//                        first address: domain rules match through the name
//                        cache the enforcer fills from getaddrinfo
//   spawn PROG ARGS...   posix_spawn (the rest of the command line), wait;
//                        data = the exit status. (glibc's fork() hangs in an
//                        arm64 guest under Debian 12's qemu 7.2; posix_spawn
//                        does not use it.)
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

void result(const char* op, int rc, int err) {
  if (rc < 0) {
    printf("%s err %d\n", op, err);
  } else {
    printf("%s ok\n", op);
  }
  fflush(stdout);
}

int connect_to(const sockaddr* addr, socklen_t len, int* err) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *err = errno;
    return -1;
  }
  int rc = connect(fd, addr, len);
  *err = errno;
  close(fd);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const char* op = argv[i];
    if (strcmp(op, "spawn") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "extra_probe: spawn needs a program\n");
        return 2;
      }
      pid_t pid = 0;
      int rc = posix_spawn(&pid, argv[i + 1], nullptr, nullptr, argv + i + 1, environ);
      if (rc != 0) {
        result("spawn", -1, rc);
        return 0;
      }
      int status = 0;
      waitpid(pid, &status, 0);
      printf("spawn ok %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
      fflush(stdout);
      return 0;
    }
    if (i + 2 >= argc) {
      fprintf(stderr, "extra_probe: %s needs two arguments\n", op);
      return 2;
    }
    const char* host = argv[i + 1];
    const char* port = argv[i + 2];
    i += 2;
    int err = 0;
    if (strcmp(op, "connect") == 0) {
      sockaddr_in in{};
      in.sin_family = AF_INET;
      in.sin_port = htons(static_cast<uint16_t>(atoi(port)));
      if (inet_pton(AF_INET, host, &in.sin_addr) != 1) {
        fprintf(stderr, "extra_probe: %s is not an IPv4 address\n", host);
        return 2;
      }
      int rc = connect_to(reinterpret_cast<sockaddr*>(&in), sizeof in, &err);
      result("connect", rc, err);
    } else if (strcmp(op, "resolve") == 0) {
      addrinfo hints{};
      hints.ai_family = AF_INET;
      hints.ai_socktype = SOCK_STREAM;
      addrinfo* found = nullptr;
      int gai = getaddrinfo(host, port, &hints, &found);
      if (gai != 0 || found == nullptr) {
        printf("resolve gai %d\n", gai);
        fflush(stdout);
        continue;
      }
      int rc = connect_to(found->ai_addr, found->ai_addrlen, &err);
      freeaddrinfo(found);
      result("resolve", rc, err);
    } else {
      fprintf(stderr, "extra_probe: unknown operation %s\n", op);
      return 2;
    }
  }
  return 0;
}
