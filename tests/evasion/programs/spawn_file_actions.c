/* posix_spawn file actions: glibc opens the file in the child, before the
 * exec, with an internal call; /bin/cat then reads the secret from its
 * stdin and prints it. */
#include "evasion.h"
#include <spawn.h>
#include <sys/wait.h>
extern char** environ;
int main(void) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  int rc = posix_spawn_file_actions_addopen(&actions, 0, ev("EV_SECRET"), O_RDONLY, 0);
  printf("result: posix_spawn_file_actions_addopen returned %d (%s)\n", rc, strerror(rc));
  fflush(stdout);
  if (rc == 0) {
    char* argv[] = {(char*)"cat", NULL};
    pid_t pid = 0;
    rc = posix_spawn(&pid, "/bin/cat", &actions, NULL, argv, environ);
    printf("result: posix_spawn returned %d\n", rc);
    fflush(stdout);
    if (rc == 0) waitpid(pid, NULL, 0);
  }
  posix_spawn_file_actions_destroy(&actions);
  return 0;
}
