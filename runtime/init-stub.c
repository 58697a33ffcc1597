/* SPDX-License-Identifier: Apache-2.0 */
/* podrun-init-stub: the last program a new container runs before the user's.
 *
 * CVE-2019-5736: whatever execs the user's program must not be the runtime's binary on the
 * host, or a program given as `#!/proc/self/exe` (or a process that opens /proc/PID/exe of it)
 * reaches that binary and can overwrite it once the runtime has exited. Re-executing the whole
 * runtime from a sealed copy closes that, at the price of copying it and of a second C library
 * start-up (about a millisecond on virtual machines, where glibc's CPU probing traps). This
 * program is the cheaper way for a container whose init nothing else can see while the runtime
 * builds it: the runtime copies these few kilobytes into a sealed memfd and execs them once the
 * container is set up and its privileges are dropped; the stub waits for `start` and execs the
 * user's program, so /proc/self/exe names the sealed stub from then on.
 *
 * It is freestanding (no C library: raw system calls, its own _start) because avoiding a C
 * library start-up is its reason to exist.
 *
 * argv: podrun-init FIFO_FD EXE ARGV0 [ARG...]
 *   FIFO_FD  an O_PATH fd of the container's exec.fifo: opening it for writing waits for
 *            `start`; it is closed before the exec
 *   EXE      the resolved path of the program, ARGV0... its argv; the environment is passed on */
#include <asm/unistd.h>
#include <linux/errno.h>
#include <linux/fcntl.h>

#define NORETURN __attribute__((noreturn))
#define NOSSP    __attribute__((no_stack_protector))

#if defined(__x86_64__)
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  xor %rbp, %rbp\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call stub_main\n"
        "  hlt\n");

static NOSSP long sys4(long n, long a, long b, long c, long d)
{
    register long r10 __asm__("r10") = d;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  mov x29, #0\n"
        "  mov x30, #0\n"
        "  mov x0, sp\n"
        "  and sp, x0, #-16\n"
        "  bl stub_main\n");

static NOSSP long sys4(long n, long a, long b, long c, long d)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
    return x0;
}
#else
#error "the init stub has no system call entry for this architecture"
#endif

static NOSSP long sys3(long n, long a, long b, long c)
{
    return sys4(n, a, b, c, 0);
}

static NOSSP unsigned long str_len(const char *s)
{
    unsigned long n = 0;
    while (s[n])
        n++;
    return n;
}

static NOSSP void put(const char *s)
{
    sys3(__NR_write, 2, (long)s, (long)str_len(s));
}

/* The texts of the errors an exec or an open can meet; others print as a number. */
static NOSSP const char *error_text(long e)
{
    switch (e) {
    case ENOENT:
        return "No such file or directory";
    case EACCES:
        return "Permission denied";
    case ENOEXEC:
        return "Exec format error";
    case EPERM:
        return "Operation not permitted";
    case ENOTDIR:
        return "Not a directory";
    case EISDIR:
        return "Is a directory";
    case ELOOP:
        return "Too many levels of symbolic links";
    case ENAMETOOLONG:
        return "File name too long";
    case ETXTBSY:
        return "Text file busy";
    case E2BIG:
        return "Argument list too long";
    case ENOMEM:
        return "Cannot allocate memory";
    case EINVAL:
        return "Invalid argument";
    case EIO:
        return "Input/output error";
    case ELIBBAD:
        return "Accessing a corrupted shared library";
    case EBADF:
        return "Bad file descriptor";
    case EINTR:
        return "Interrupted system call";
    default:
        return 0;
    }
}

static NOSSP NORETURN void die(const char *what, const char *path, long err)
{
    char num[24];
    char *p = num + sizeof(num);
    unsigned long v = (unsigned long)(err < 0 ? -err : err);
    *--p = '\0';
    do
        *--p = (char)('0' + v % 10);
    while ((v /= 10) && p > num);
    const char *text = error_text(err < 0 ? -err : err);
    put("podrun-runtime: ");
    put(what);
    if (path) {
        put(" `");
        put(path);
        put("`");
    }
    if (err) {
        put(": ");
        put(text ? text : "error ");
        if (!text)
            put(p);
    }
    put("\n");
    /* 127, as a shell says of a program it could not run. */
    for (;;)
        sys3(__NR_exit_group, 127, 0, 0);
}

static NOSSP long parse_fd(const char *s)
{
    long v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 1000000)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

static NOSSP void wait_for_start(const char *fifo_fd_text)
{
    long fifo = parse_fd(fifo_fd_text);
    if (fifo < 0)
        die("init stub: not an fd number:", fifo_fd_text, 0);
    /* "/proc/self/fd/" + the number: the O_PATH fd can only be opened through its magic link. */
    static const char prefix[] = "/proc/self/fd/";
    char path[sizeof(prefix) + 24];
    unsigned long i = 0;
    for (; prefix[i]; i++)
        path[i] = prefix[i];
    for (const char *s = fifo_fd_text; *s; s++)
        path[i++] = *s;
    path[i] = '\0';
    long fd;
    do
        fd = sys4(__NR_openat, AT_FDCWD, (long)path, O_WRONLY | O_CLOEXEC, 0);
    while (fd == -EINTR);
    if (fd < 0)
        die("open exec fifo", path, fd);
    long w;
    do
        w = sys3(__NR_write, fd, (long)"0", 1);
    while (w == -EINTR);
    if (w != 1)
        die("write exec fifo", path, w < 0 ? w : EIO);
    sys3(__NR_close, fd, 0, 0);
    sys3(__NR_close, fifo, 0, 0);
}

NOSSP NORETURN void stub_main(long *sp)
{
    long argc = sp[0];
    char **argv = (char **)(sp + 1);
    char **envp = argv + argc + 1;
    if (argc < 4)
        die("init stub: usage: podrun-init FIFO_FD EXE ARGV0 [ARG...]", 0, 0);
    wait_for_start(argv[1]);
    long r = sys3(__NR_execve, (long)argv[2], (long)(argv + 3), (long)envp);
    die("exec", argv[2], r);
}
