// A small native program the enforcer tests run under protection. Each
// argument group is one operation; each prints one line:
//   "<op> ok [data]"  or  "<op> err <errno>"
// so a test can assert the effect of every hooked call, including errno.
//
//   read PATH            open(O_RDONLY) + read; data = the content
//   write PATH TEXT      open(O_WRONLY|O_CREAT|O_TRUNC) + write
//   openat DIR REL       open DIR (O_DIRECTORY), openat(dirfd, REL) + read
//   fopen PATH MODE      fopen; for "r" data = content, else writes "x"
//   rename A B | link A B | symlink TARGET LINK | unlink P | mkdir P | rmdir P
//   chmod P | truncate P | creat P
//   fchmod P             open(P, O_RDONLY) + fchmod(fd, 0600)
//   errno PATH           errno=1234, open(PATH) read-only; data = errno after
//   threads N OK DENIED  N threads x 200 opens of each; data = "<ok> <denied>"
//   signal PATH          SIGUSR1 handler opens PATH; data = handler's result
//   closeall             close_range(3, ~0U, 0) and closefrom(3)
//   mkstemp TEMPLATE     mkstemp; data = the created name
//   mkfifo P             mkfifo(P, 0600)
//   flood N PATH         N opens of PATH, then "flood ok", then waits for a
//                        line on stdin (the test drains events meanwhile)
//   dup2 FD              dup2(1, FD)
//   cloexec FD           fcntl(FD, F_SETFD, FD_CLOEXEC)
//   close FD             close(FD)
//   exec PROG ARGS...    execv (the rest of the command line)
//   forkexec PROG ARGS.. fork, child execv, parent waits; data = exit status
//   freopen_null P MODE  fopen(P, "r"), then freopen(NULL, MODE); "w"/"a"
//                        write "PWNED", "r" data = the content
//   freopen_held P ACC MODE  a descriptor for P opened with a raw openat
//                        (as a shell's redirection hands one over: no hook
//                        sees it) for ACC ("r", "w", "rw" or "path":
//                        O_PATH), fdopen'ed, then freopen(NULL, MODE); as
//                        freopen_null for the rest
//   exchange A B         renameat2(A, B, RENAME_EXCHANGE)
//   linkfd P NEW         open(P, O_PATH), linkat(fd, "", NEW, AT_EMPTY_PATH)
//   fchownat_empty P     open(P, O_PATH), fchownat(fd, "", own uid and gid,
//                        AT_EMPTY_PATH)
//   reopen_deleted P     open(P, O_PATH), unlink(P), open /proc/self/fd/N
//                        read-only + read; data = the content
// glibc's public aliases of hooked functions (called by those names):
//   alias_open P | alias_open64 P | alias_fopen P   __open, __open64,
//                        _IO_fopen read-only + read; data = the content
//   alias_file_fopen P | alias_file_open P   _IO_file_fopen / _IO_file_open
//                        of P for reading into a closed FILE, + read
//   alias_write P TEXT   __open(O_WRONLY|O_CREAT|O_TRUNC) + write
//   alias_mknod P        __xmknod(P, a FIFO)
//   alias_close FD | alias_dup2 FD | alias_cloexec FD   __close, __dup2(1, FD),
//                        __fcntl(F_SETFD, FD_CLOEXEC)
//   alias_proc_open CMD  _IO_proc_open(closed FILE, CMD, "r"); data = output
//                        (must be the last operation: the program ends)
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <string>

// glibc's public aliases (exported, declared by no header).
extern "C" {
int __open(const char*, int, ...);
int __open64(const char*, int, ...);
FILE* _IO_fopen(const char*, const char*);
FILE* _IO_file_fopen(FILE*, const char*, const char*, int);
FILE* _IO_file_open(FILE*, const char*, int, int, int, int);
int _IO_file_close_it(FILE*);
FILE* _IO_proc_open(FILE*, const char*, const char*);
int __xmknod(int, const char*, mode_t, dev_t*);
int __close(int);
int __dup2(int, int);
int __fcntl(int, int, ...);
}

namespace {

void result(const char* op, int rc, const std::string& data = "") {
  if (rc < 0) {
    printf("%s err %d\n", op, errno);
  } else {
    printf("%s ok%s%s\n", op, data.empty() ? "" : " ", data.c_str());
  }
  fflush(stdout);
}

std::string read_fd(int fd) {
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

std::atomic<int> g_ok{0}, g_denied{0};
const char* g_thread_ok;
const char* g_thread_denied;

void* thread_main(void*) {
  for (int i = 0; i < 200; ++i) {
    int fd = open(g_thread_ok, O_RDONLY);
    if (fd >= 0) {
      ++g_ok;
      close(fd);
    }
    fd = open(g_thread_denied, O_RDONLY);
    if (fd < 0 && errno == EACCES) ++g_denied;
    if (fd >= 0) close(fd);
  }
  return nullptr;
}

const char* g_signal_path;
volatile int g_signal_result = 0;

void on_signal(int) {
  int saved = errno;
  int fd = open(g_signal_path, O_RDONLY);
  g_signal_result = fd >= 0 ? 0 : errno;
  if (fd >= 0) close(fd);
  errno = saved;
}

// A FILE that glibc's _IO_file_* functions can open into: a stream whose
// file was closed (what freopen() does before it reopens).
FILE* closed_stream() {
  FILE* f = fopen("/dev/null", "r");
  if (f != nullptr) _IO_file_close_it(f);
  return f;
}

std::string read_stream(FILE* f) {
  std::string out;
  char buf[256];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string op = argv[i];
    auto arg = [&](int k) -> const char* { return i + k < argc ? argv[i + k] : ""; };
    if (op == "read") {
      int fd = open(arg(1), O_RDONLY);
      std::string data = fd >= 0 ? read_fd(fd) : "";
      if (fd >= 0) close(fd);
      result("read", fd, data);
      i += 1;
    } else if (op == "write") {
      int fd = open(arg(1), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ssize_t n = write(fd, arg(2), strlen(arg(2)));
        (void)n;
        close(fd);
      }
      result("write", fd);
      i += 2;
    } else if (op == "openat") {
      int dir = open(arg(1), O_RDONLY | O_DIRECTORY);
      int fd = dir >= 0 ? openat(dir, arg(2), O_RDONLY) : -1;
      std::string data = fd >= 0 ? read_fd(fd) : "";
      result("openat", fd, data);
      if (fd >= 0) close(fd);
      if (dir >= 0) close(dir);
      i += 2;
    } else if (op == "fopen") {
      FILE* f = fopen(arg(1), arg(2));
      std::string data;
      if (f != nullptr) {
        if (arg(2)[0] == 'r') {
          char buf[256];
          size_t n = fread(buf, 1, sizeof buf, f);
          data.assign(buf, n);
        } else {
          fputs("x", f);
        }
        fclose(f);
      }
      result("fopen", f != nullptr ? 0 : -1, data);
      i += 2;
    } else if (op == "rename") {
      result("rename", rename(arg(1), arg(2)));
      i += 2;
    } else if (op == "link") {
      result("link", link(arg(1), arg(2)));
      i += 2;
    } else if (op == "symlink") {
      result("symlink", symlink(arg(1), arg(2)));
      i += 2;
    } else if (op == "unlink") {
      result("unlink", unlink(arg(1)));
      i += 1;
    } else if (op == "mkdir") {
      result("mkdir", mkdir(arg(1), 0755));
      i += 1;
    } else if (op == "rmdir") {
      result("rmdir", rmdir(arg(1)));
      i += 1;
    } else if (op == "chmod") {
      result("chmod", chmod(arg(1), 0600));
      i += 1;
    } else if (op == "fchmod") {
      int fd = open(arg(1), O_RDONLY);
      int rc = fd >= 0 ? fchmod(fd, 0600) : -1;
      if (fd >= 0) close(fd);
      result("fchmod", rc);
      i += 1;
    } else if (op == "truncate") {
      result("truncate", truncate(arg(1), 0));
      i += 1;
    } else if (op == "creat") {
      int fd = creat(arg(1), 0644);
      if (fd >= 0) close(fd);
      result("creat", fd);
      i += 1;
    } else if (op == "errno") {
      errno = 1234;
      int fd = open(arg(1), O_RDONLY);
      int after = errno;
      if (fd >= 0) close(fd);
      result("errno", fd, std::to_string(after));
      i += 1;
    } else if (op == "threads") {
      int n = atoi(arg(1));
      g_thread_ok = argv[i + 2];
      g_thread_denied = argv[i + 3];
      pthread_t threads[64];
      if (n > 64) n = 64;
      for (int t = 0; t < n; ++t) pthread_create(&threads[t], nullptr, thread_main, nullptr);
      for (int t = 0; t < n; ++t) pthread_join(threads[t], nullptr);
      result("threads", 0, std::to_string(g_ok.load()) + " " + std::to_string(g_denied.load()));
      i += 3;
    } else if (op == "signal") {
      g_signal_path = argv[i + 1];
      signal(SIGUSR1, on_signal);
      raise(SIGUSR1);
      result("signal", 0, std::to_string(g_signal_result));
      i += 1;
    } else if (op == "closeall") {
      int rc = close_range(3, ~0U, 0);
      closefrom(3);
      result("closeall", rc);
    } else if (op == "mkstemp") {
      std::string tmpl = arg(1);
      int fd = mkstemp(tmpl.data());
      if (fd >= 0) close(fd);
      result("mkstemp", fd, fd >= 0 ? tmpl : "");
      i += 1;
    } else if (op == "mkfifo") {
      result("mkfifo", mkfifo(arg(1), 0600));
      i += 1;
    } else if (op == "flood") {
      int n = atoi(arg(1));
      for (int k = 0; k < n; ++k) {
        int fd = open(arg(2), O_RDONLY);
        if (fd >= 0) close(fd);
      }
      result("flood", 0);
      char line[8];
      ssize_t got = read(0, line, sizeof line);
      (void)got;
      i += 2;
    } else if (op == "dup2") {
      result("dup2", dup2(1, atoi(arg(1))));
      i += 1;
    } else if (op == "cloexec") {
      result("cloexec", fcntl(atoi(arg(1)), F_SETFD, FD_CLOEXEC));
      i += 1;
    } else if (op == "close") {
      result("close", close(atoi(arg(1))));
      i += 1;
    } else if (op == "exec") {
      execv(argv[i + 1], argv + i + 1);
      result("exec", -1);
      return 127;
    } else if (op == "forkexec") {
      pid_t pid = fork();
      if (pid == 0) {
        execv(argv[i + 1], argv + i + 1);
        _exit(127);
      }
      int status = 0;
      waitpid(pid, &status, 0);
      result("forkexec", 0, std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128));
      return 0;
    } else if (op == "freopen_null") {
      FILE* f = fopen(arg(1), "r");
      FILE* g = f != nullptr ? freopen(nullptr, arg(2), f) : nullptr;
      std::string data;
      if (g != nullptr) {
        if (arg(2)[0] == 'r') {
          data = read_stream(g);
        } else {
          fputs("PWNED", g);
        }
        fclose(g);
      }
      result("freopen_null", g != nullptr ? 0 : -1, data);
      i += 2;
    } else if (op == "freopen_held") {
      std::string acc = arg(2);
      int flags = acc == "w" ? O_WRONLY : acc == "rw" ? O_RDWR : acc == "path" ? O_PATH : O_RDONLY;
      int fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, arg(1), flags));
      FILE* f = fd >= 0 ? fdopen(fd, acc == "w" ? "w" : acc == "rw" ? "r+" : "r") : nullptr;
      FILE* g = f != nullptr ? freopen(nullptr, arg(3), f) : nullptr;
      std::string data;
      if (g != nullptr) {
        if (arg(3)[0] == 'r' && strchr(arg(3), '+') == nullptr) {
          data = read_stream(g);
        } else {
          fputs("PWNED", g);
        }
        fclose(g);
      }
      result("freopen_held", g != nullptr ? 0 : -1, data);
      i += 3;
    } else if (op == "exchange") {
      result("exchange", renameat2(AT_FDCWD, arg(1), AT_FDCWD, arg(2), RENAME_EXCHANGE));
      i += 2;
    } else if (op == "linkfd") {
      int fd = open(arg(1), O_PATH);
      int rc = fd >= 0 ? linkat(fd, "", AT_FDCWD, arg(2), AT_EMPTY_PATH) : -1;
      result("linkfd", rc);
      if (fd >= 0) close(fd);
      i += 2;
    } else if (op == "fchownat_empty") {
      int fd = open(arg(1), O_PATH);
      int rc = fd >= 0 ? fchownat(fd, "", geteuid(), getegid(), AT_EMPTY_PATH) : -1;
      result("fchownat_empty", rc);
      if (fd >= 0) close(fd);
      i += 1;
    } else if (op == "reopen_deleted") {
      int path_fd = open(arg(1), O_PATH);
      int fd = -1;
      if (path_fd >= 0 && unlink(arg(1)) == 0) {
        fd = open(("/proc/self/fd/" + std::to_string(path_fd)).c_str(), O_RDONLY);
      }
      std::string data = fd >= 0 ? read_fd(fd) : "";
      result("reopen_deleted", fd, data);
      if (fd >= 0) close(fd);
      if (path_fd >= 0) close(path_fd);
      i += 1;
    } else if (op == "alias_open" || op == "alias_open64") {
      int fd = op == "alias_open" ? __open(arg(1), O_RDONLY) : __open64(arg(1), O_RDONLY);
      std::string data = fd >= 0 ? read_fd(fd) : "";
      if (fd >= 0) close(fd);
      result(op.c_str(), fd, data);
      i += 1;
    } else if (op == "alias_fopen" || op == "alias_file_fopen" || op == "alias_file_open") {
      FILE* f = nullptr;
      if (op == "alias_fopen") {
        f = _IO_fopen(arg(1), "r");
      } else if (FILE* closed = closed_stream(); closed != nullptr) {
        f = op == "alias_file_fopen" ? _IO_file_fopen(closed, arg(1), "r", 1)
                                     : _IO_file_open(closed, arg(1), O_RDONLY, 0666, 8, 1);
      }
      std::string data = f != nullptr ? read_fd(fileno(f)) : "";
      result(op.c_str(), f != nullptr ? 0 : -1, data);
      i += 1;
    } else if (op == "alias_write") {
      int fd = __open(arg(1), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ssize_t n = write(fd, arg(2), strlen(arg(2)));
        (void)n;
        close(fd);
      }
      result("alias_write", fd);
      i += 2;
    } else if (op == "alias_mknod") {
      dev_t dev = 0;
      result("alias_mknod", __xmknod(0, arg(1), S_IFIFO | 0600, &dev));
      i += 1;
    } else if (op == "alias_close") {
      result("alias_close", __close(atoi(arg(1))));
      i += 1;
    } else if (op == "alias_dup2") {
      result("alias_dup2", __dup2(1, atoi(arg(1))));
      i += 1;
    } else if (op == "alias_cloexec") {
      result("alias_cloexec", __fcntl(atoi(arg(1)), F_SETFD, FD_CLOEXEC));
      i += 1;
    } else if (op == "alias_proc_open") {
      // _IO_proc_open writes a pid and a list link past the FILE (popen's
      // own stream is larger): in fopen's allocation they land on the
      // stream's lock, so this program ends at once, without stdio's exit
      // handling (the operation must come last).
      FILE* closed = closed_stream();
      FILE* f = closed != nullptr ? _IO_proc_open(closed, arg(1), "r") : nullptr;
      std::string data = f != nullptr ? read_fd(fileno(f)) : "";
      result("alias_proc_open", f != nullptr ? 0 : -1, data);
      _exit(0);
    } else {
      fprintf(stderr, "enforcer_probe: unknown operation %s\n", op.c_str());
      return 2;
    }
  }
  return 0;
}
