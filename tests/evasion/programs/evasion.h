/* Shared helpers for the evasion programs. Each program tries one way around
 * the policy and prints "result: ..." lines; the driver (evasion_test.py)
 * checks the effect (marker file, connection, secret content) and the
 * events. Inputs come from the environment the driver sets:
 *   EV_ROOT    the test's directory (/tmp/...)
 *   EV_WORK    a directory the policy lets the program write (EV_ROOT/work)
 *   EV_MARKER  the file that /usr/bin/touch would create (EV_WORK/marker)
 *   EV_SECRET  a file the policy forbids reading (EV_ROOT/secret/data)
 *   EV_DENIED  a directory the policy forbids writing (EV_ROOT/denied)
 *   EV_PORT_DENIED  a loopback TCP port the policy forbids connecting to
 *   EV_PAYLOAD      a shared library whose constructor creates EV_MARKER */
#pragma once
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline const char* ev(const char* name) {
  const char* v = getenv(name);
  if (v == NULL) {
    fprintf(stderr, "evasion: %s is not set\n", name);
    _exit(99);
  }
  return v;
}

static inline void result(const char* what, long rc) {
  if (rc < 0) printf("result: %s failed: %s\n", what, strerror(errno));
  else printf("result: %s succeeded (%ld)\n", what, rc);
  fflush(stdout);
}

/* Copies a file with raw system calls. Returns 0 or -1. */
static inline int copy_file(const char* from, const char* to, int mode) {
  int in = (int)syscall(SYS_openat, AT_FDCWD, from, O_RDONLY | O_CLOEXEC);
  if (in < 0) return -1;
  int out = (int)syscall(SYS_openat, AT_FDCWD, to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (out < 0) { close(in); return -1; }
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0) {
    if (write(out, buf, (size_t)n) != n) { n = -1; break; }
  }
  close(in);
  close(out);
  return n < 0 ? -1 : 0;
}

/* Prints what was read from fd, so the driver can see a leaked secret. */
static inline void dump_fd(const char* what, int fd) {
  char buf[256];
  long n = read(fd, buf, sizeof buf - 1);
  if (n < 0) { result(what, -1); return; }
  buf[n] = 0;
  printf("result: %s read: %s\n", what, buf);
  fflush(stdout);
}

/* argv for /usr/bin/touch EV_MARKER. */
#define TOUCH_ARGV(name) char* name[] = {(char*)"touch", (char*)ev("EV_MARKER"), NULL}

/* Writes machine code that returns 42 ("mov eax, 42; ret" or "mov w0, #42;
 * ret") to EV_WORK/code.bin and returns the descriptor, open read-write, or
 * -1. */
static inline int write_code_file(void) {
#if defined(__x86_64__)
  static const unsigned char code[] = {0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3};
#elif defined(__aarch64__)
  static const unsigned char code[] = {0x40, 0x05, 0x80, 0x52, 0xc0, 0x03, 0x5f, 0xd6};
#endif
  char path[4096];
  snprintf(path, sizeof path, "%s/code.bin", ev("EV_WORK"));
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0755);
  result("write code to the work directory", fd);
  if (fd < 0) return -1;
  if (write(fd, code, sizeof code) != (ssize_t)sizeof code) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Calls the code at `p` (write_code_file's) and creates EV_MARKER when it
 * ran. */
static inline void run_code(void* p) {
  int (*fn)(void) = (int (*)(void))p;
  int v = fn();
  printf("result: code from the writable file ran and returned %d\n", v);
  if (v == 42) {
    int m = open(ev("EV_MARKER"), O_WRONLY | O_CREAT, 0644);
    if (m >= 0) close(m);
  }
}
