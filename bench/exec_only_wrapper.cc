// The least an AWS_LAMBDA_EXEC_WRAPPER can do: exec the runtime command it
// is given, unchanged. lambda_bench starts the runtime through it as a third
// side, so that the cost of one more exec of a small static binary (which any
// wrapper pays, whatever it does) is measured in the same run as fnguard.
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  execv(argv[1], argv + 1);
  return 127;
}
