/* SPDX-License-Identifier: Apache-2.0 */
/* create, run, start, delete, kill, pause, resume. */
#include "commands.h"
#include "log.h"
#include "util.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

enum {
    O_BUNDLE = 1,
    O_CONSOLE,
    O_PIDFILE,
    O_NOPIVOT,
    O_NOKEYRING,
    O_PRESERVE,
    O_DETACH,
    O_NOSUBREAPER,
    O_KEEP,
    O_FORCE,
    O_ALL,
};

static const struct opt_def create_opts[] = {
    {"bundle", 'b', OPT_ARG, O_BUNDLE},
    {"console-socket", 0, OPT_ARG, O_CONSOLE},
    {"pid-file", 0, OPT_ARG, O_PIDFILE},
    {"no-pivot", 0, OPT_NONE, O_NOPIVOT},
    {"no-new-keyring", 0, OPT_NONE, O_NOKEYRING},
    {"preserve-fds", 0, OPT_ARG, O_PRESERVE},
    {"detach", 'd', OPT_NONE, O_DETACH},
    {"keep", 0, OPT_NONE, O_KEEP},
    /* runc's run makes itself a subreaper unless told not to; ours never needs to (the
     * container process is its own child), so the flag is accepted and changes nothing. */
    {"no-subreaper", 0, OPT_NONE, O_NOSUBREAPER},
    {NULL, 0, 0, 0},
};

struct create_parse {
    struct rt_create_opts o;
    bool detach, keep;
    pr_error *err;
};

static int on_create(int key, const char *v, void *data)
{
    struct create_parse *p = data;
    long long n;
    switch (key) {
    case O_BUNDLE:
        p->o.bundle = v;
        break;
    case O_CONSOLE:
        p->o.console_socket = v;
        break;
    case O_PIDFILE:
        p->o.pid_file = v;
        break;
    case O_NOPIVOT:
        p->o.no_pivot = true;
        break;
    case O_NOKEYRING:
        p->o.no_new_keyring = true;
        break;
    case O_PRESERVE:
        if (parse_int_arg("--preserve-fds", v, 0, 65536, &n, &p->err) < 0)
            return -EINVAL;
        p->o.preserve_fds = (int)n;
        break;
    case O_DETACH:
        p->detach = true;
        break;
    case O_KEEP:
        p->keep = true;
        break;
    }
    return 0;
}

static int parse_create(int argc, char **argv, bool is_run, struct create_parse *p, pr_error **err)
{
    int first;
    *p = (struct create_parse){.o = {.bundle = "."}};
    int r = parse_opts(argc, argv, create_opts, on_create, p, &first, err);
    if (p->err) {
        pr_error_free(*err);
        *err = steal_pointer(&p->err);
        return -EINVAL;
    }
    if (r < 0)
        return r;
    if (!is_run && (p->detach || p->keep))
        return pr_err(err, 0, "create: --detach and --keep belong to run");
    if (first != argc - 1)
        return pr_err(err, 0, "%s: expected exactly one container id", argv[0]);
    p->o.id = argv[first];
    p->o.foreground = is_run && !p->detach;
    return 0;
}

int cmd_create(struct rt_global *g, int argc, char **argv, pr_error **err)
{
    struct create_parse p;
    int r = parse_create(argc, argv, false, &p, err);
    if (r < 0)
        return r;
    pid_t pid;
    int pty;
    return rt_container_create(g, &p.o, &pid, &pty, err);
}

int cmd_run(struct rt_global *g, int argc, char **argv, pr_error **err)
{
    struct create_parse p;
    int r = parse_create(argc, argv, true, &p, err);
    if (r < 0)
        return r;
    pid_t pid;
    int pty = -1;
    if ((r = rt_container_create(g, &p.o, &pid, &pty, err)) < 0)
        return r;
    if ((r = rt_container_start(g, p.o.id, err)) < 0) {
        rt_container_delete(g, p.o.id, true, NULL);
        return r;
    }
    if (p.detach)
        return 0;
    int status = rt_wait_foreground(pid, pty);
    if (!p.keep) {
        _cleanup_error_ pr_error *e = NULL;
        if (rt_container_delete(g, p.o.id, true, &e) < 0)
            pr_warning("delete container \"%s\": %s", p.o.id, e->msg);
    }
    return status;
}

static int one_id(int argc, char **argv, const struct opt_def *defs,
                  int (*on)(int, const char *, void *), void *data, const char **id, pr_error **err)
{
    int first;
    int r = parse_opts(argc, argv, defs, on, data, &first, err);
    if (r < 0)
        return r;
    if (first != argc - 1)
        return pr_err(err, 0, "%s: expected exactly one container id", argv[0]);
    *id = argv[first];
    return 0;
}

static const struct opt_def no_opts[] = {{NULL, 0, 0, 0}};

static int on_nothing(int key, const char *v, void *data)
{
    return 0;
}

int cmd_start(struct rt_global *g, int argc, char **argv, pr_error **err)
{
    const char *id = NULL;
    int r = one_id(argc, argv, no_opts, on_nothing, NULL, &id, err);
    return r < 0 ? r : rt_container_start(g, id, err);
}

static int on_flag(int key, const char *v, void *data)
{
    *(bool *)data = true;
    return 0;
}

int cmd_delete(struct rt_global *g, int argc, char **argv, pr_error **err)
{
    static const struct opt_def opts[] = {{"force", 'f', OPT_NONE, O_FORCE}, {NULL, 0, 0, 0}};
    bool force = false;
    const char *id = NULL;
    int r = one_id(argc, argv, opts, on_flag, &force, &id, err);
    return r < 0 ? r : rt_container_delete(g, id, force, err);
}

int cmd_kill(struct rt_global *g, int argc, char **argv, pr_error **err)
{
    static const struct opt_def opts[] = {{"all", 'a', OPT_NONE, O_ALL}, {NULL, 0, 0, 0}};
    bool all = false;
    int first;
    int r = parse_opts(argc, argv, opts, on_flag, &all, &first, err);
    if (r < 0)
        return r;
    if (first >= argc || argc - first > 2)
        return pr_err(err, 0, "kill: usage: kill [--all] ID [SIGNAL]");
    int sig = SIGTERM;
    if (argc - first == 2 && (r = rt_parse_signal(argv[first + 1], &sig, err)) < 0)
        return r;
    return rt_container_kill(g, argv[first], sig, all, err);
}

int cmd_pause(struct rt_global *g, int argc, char **argv, pr_error **err)
{
    const char *id = NULL;
    int r = one_id(argc, argv, no_opts, on_nothing, NULL, &id, err);
    return r < 0 ? r : rt_container_pause(g, id, true, err);
}

int cmd_resume(struct rt_global *g, int argc, char **argv, pr_error **err)
{
    const char *id = NULL;
    int r = one_id(argc, argv, no_opts, on_nothing, NULL, &id, err);
    return r < 0 ? r : rt_container_pause(g, id, false, err);
}
