/* Connect to a forbidden port through io_uring. */
#include "evasion.h"
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <sys/socket.h>
int main(void) {
  struct io_uring ring;
  int rc = io_uring_queue_init(8, &ring, 0);
  if (rc < 0) { errno = -rc; result("io_uring_queue_init", -1); return 0; }
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((unsigned short)atoi(ev("EV_PORT_DENIED")));
  struct io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  io_uring_prep_connect(sqe, s, (struct sockaddr*)&a, sizeof a);
  io_uring_submit(&ring);
  struct io_uring_cqe* cqe;
  io_uring_wait_cqe(&ring, &cqe);
  if (cqe->res < 0) { errno = -cqe->res; result("io_uring connect", -1); }
  else result("io_uring connect", 0);
  return 0;
}
