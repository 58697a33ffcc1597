/* SPDX-License-Identifier: Apache-2.0 */
/* exec: run a process in a running container. */
#include "commands.h"
#include "log.h"
#include "util.h"

enum {
    O_CONSOLE = 1,
    O_CWD,
    O_ENV,
    O_TTY,
    O_USER,
    O_GIDS,
    O_PROCESS,
    O_DETACH,
    O_PIDFILE,
    O_LABEL,
    O_APPARMOR,
    O_NNP,
    O_CAP,
    O_PRESERVE,
    O_CGROUP,
    O_IGNORE_PAUSED,
};

static const struct opt_def exec_opts[] = {
    {"console-socket", 0, OPT_ARG, O_CONSOLE},
    {"cwd", 0, OPT_ARG, O_CWD},
    {"env", 'e', OPT_ARG, O_ENV},
    {"tty", 't', OPT_NONE, O_TTY},
    {"user", 'u', OPT_ARG, O_USER},
    {"additional-gids", 'g', OPT_ARG, O_GIDS},
    {"process", 'p', OPT_ARG, O_PROCESS},
    {"detach", 'd', OPT_NONE, O_DETACH},
    {"pid-file", 0, OPT_ARG, O_PIDFILE},
    {"process-label", 0, OPT_ARG, O_LABEL},
    {"apparmor", 0, OPT_ARG, O_APPARMOR},
    {"no-new-privs", 0, OPT_NONE, O_NNP},
    {"cap", 'c', OPT_ARG, O_CAP},
    {"preserve-fds", 0, OPT_ARG, O_PRESERVE},
    {"cgroup", 0, OPT_ARG, O_CGROUP},
    {"ignore-paused", 0, OPT_NONE, O_IGNORE_PAUSED},
    {NULL, 0, 0, 0},
};

struct exec_parse {
    struct rt_exec_opts o;
    pr_error *err;
};

static int on_exec(int key, const char *v, void *data)
{
    struct exec_parse *p = data;
    long long n;
    switch (key) {
    case O_CONSOLE:
        p->o.console_socket = v;
        break;
    case O_CWD:
        p->o.cwd = v;
        break;
    case O_ENV:
        if (!strchr(v, '=')) {
            pr_err(&p->err, 0, "--env \"%s\": expected NAME=VALUE", v);
            return -EINVAL;
        }
        strv_extend(&p->o.env, v);
        break;
    case O_TTY:
        p->o.tty = true;
        break;
    case O_USER:
        p->o.user = v;
        break;
    case O_GIDS:
        if (parse_int_arg("--additional-gids", v, 0, 4294967294LL, &n, &p->err) < 0)
            return -EINVAL;
        p->o.additional_gids =
            xrealloc(p->o.additional_gids, (p->o.n_additional_gids + 1) * sizeof(gid_t));
        p->o.additional_gids[p->o.n_additional_gids++] = (gid_t)n;
        break;
    case O_PROCESS:
        p->o.process_file = v;
        break;
    case O_DETACH:
        p->o.detach = true;
        break;
    case O_PIDFILE:
        p->o.pid_file = v;
        break;
    case O_LABEL:
    case O_APPARMOR:
        if (*v) {
            pr_err(&p->err, 0, "--%s: %s is not supported on this host",
                   key == O_LABEL ? "process-label" : "apparmor",
                   key == O_LABEL ? "SELinux" : "AppArmor");
            return -EINVAL;
        }
        break;
    case O_NNP:
        p->o.no_new_privs = true;
        break;
    case O_CAP:
        strv_extend(&p->o.caps, v);
        break;
    case O_PRESERVE:
        if (parse_int_arg("--preserve-fds", v, 0, 65536, &n, &p->err) < 0)
            return -EINVAL;
        p->o.preserve_fds = (int)n;
        break;
    case O_CGROUP:
        strv_extend(&p->o.cgroups, v);
        break;
    case O_IGNORE_PAUSED:
        /* The new process would join the frozen cgroup before it could even exec, and the
         * caller would wait on it until someone resumed the container. */
        pr_err(&p->err, 0,
               "--ignore-paused: exec into a paused container is not supported; "
               "resume it first");
        return -EINVAL;
    }
    return 0;
}

int cmd_exec(struct rt_global *g, int argc, char **argv, pr_error **err)
{
    struct exec_parse p = {0};
    int first;
    int r = parse_opts(argc, argv, exec_opts, on_exec, &p, &first, err);
    _cleanup_strv_ char **env = p.o.env, **caps = p.o.caps, **cgroups = p.o.cgroups;
    _cleanup_free_ gid_t *gids = p.o.additional_gids;
    if (p.err) {
        pr_error_free(*err);
        *err = steal_pointer(&p.err);
        return -EINVAL;
    }
    if (r < 0)
        return r;
    if (first >= argc)
        return pr_err(err, 0, "exec: expected a container id");
    p.o.id = argv[first];
    p.o.args = argv + first + 1;
    if (p.o.process_file && p.o.args[0])
        return pr_err(err, 0, "exec: give either --process or a command, not both");
    pid_t pid;
    int pty = -1;
    if ((r = rt_container_exec(g, &p.o, &pid, &pty, err)) < 0)
        return r;
    if (p.o.detach)
        return 0;
    return rt_wait_foreground(pid, pty);
}
