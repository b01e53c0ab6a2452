// A program without a C library: its entry point exits at once. The start
// cost of an exec with nothing in user space, for start_floor_bench.
#if defined(__x86_64__)
__asm__(".globl _start\n_start:\n  mov $60, %eax\n  xor %edi, %edi\n  syscall\n");
#elif defined(__aarch64__)
__asm__(".globl _start\n_start:\n  mov x8, #93\n  mov x0, #0\n  svc #0\n");
#else
#error "start_floor_nolibc: x86_64 and arm64 only"
#endif
