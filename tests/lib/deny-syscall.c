/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: runs a command with one system call failing with ENOSYS, as on a kernel that
 * lacks it, to reach the fallbacks the runtime keeps for older kernels.
 * usage: deny-syscall SYSCALL COMMAND [ARG...] */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: deny-syscall SYSCALL COMMAND [ARG...]\n");
        return 2;
    }
    int nr = seccomp_syscall_resolve_name(argv[1]);
    if (nr == __NR_SCMP_ERROR) {
        fprintf(stderr, "deny-syscall: unknown system call %s\n", argv[1]);
        return 2;
    }
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    int r = ctx ? 0 : -ENOMEM;
    /* Root may load a filter without no_new_privs, which the command must not inherit. */
    if (r == 0)
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (r == 0)
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
    if (r == 0)
        r = seccomp_load(ctx);
    if (r < 0) {
        fprintf(stderr, "deny-syscall: %s: %s\n", argv[1], strerror(-r));
        return 2;
    }
    seccomp_release(ctx);
    execvp(argv[2], argv + 2);
    fprintf(stderr, "deny-syscall: exec %s: %s\n", argv[2], strerror(errno));
    return 127;
}
