/* SPDX-License-Identifier: Apache-2.0 */
/* podrun-runtime: an OCI runtime with runc's command line. This file only parses the global
 * options and dispatches; everything else lives in libruntime. */
#include "cloned-binary.h"
#include "commands.h"
#include "log.h"
#include "util.h"

#include <getopt.h>

static const struct {
    const char *name;
    int (*fn)(struct rt_global *, int, char **, pr_error **);
    /* Execs a process inside an existing container: re-exec from a sealed copy first. create
     * and run decide for themselves once they have read the config (container.c). */
    bool enters_container;
    const char *help;
} commands[] = {
    {"create", cmd_create, false, "create a container"},
    {"run", cmd_run, false, "create and start a container"},
    {"start", cmd_start, false, "start a created container"},
    {"state", cmd_state, false, "print the state of a container"},
    {"kill", cmd_kill, false, "send a signal to a container's process"},
    {"delete", cmd_delete, false, "delete a container"},
    {"exec", cmd_exec, true, "run a process in a running container"},
    {"list", cmd_list, false, "list containers"},
    {"ps", cmd_ps, false, "list the processes of a container"},
    {"pause", cmd_pause, false, "freeze every process of a container"},
    {"resume", cmd_resume, false, "thaw a paused container"},
    {"update", cmd_update, false, "change a container's resource limits"},
    {"events", cmd_events, false, "print resource usage and OOM events"},
    {"features", cmd_features, false, "print the features this runtime supports"},
    {"spec", cmd_spec, false, "write a default config.json"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: podrun-runtime [--root DIR] [--log FILE] [--log-format text|json] "
               "[--debug] [--systemd-cgroup] COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nSee podrun-runtime(8).\n");
}

enum { G_ROOT = 1, G_LOG, G_LOG_FORMAT, G_DEBUG, G_SYSTEMD, G_VERSION, G_HELP, G_IGNORED };

static const struct opt_def global_opts[] = {
    {"root", 0, OPT_ARG, G_ROOT},
    {"log", 0, OPT_ARG, G_LOG},
    {"log-format", 0, OPT_ARG, G_LOG_FORMAT},
    {"debug", 0, OPT_NONE, G_DEBUG},
    {"systemd-cgroup", 0, OPT_NONE, G_SYSTEMD},
    {"version", 'v', OPT_NONE, G_VERSION},
    {"help", 'h', OPT_NONE, G_HELP},
    /* Flags runc accepts that change nothing for us; callers such as podman pass them. */
    {"criu", 0, OPT_ARG, G_IGNORED},
    {"rootless", 0, OPT_ARG, G_IGNORED},
    {NULL, 0, 0, 0},
};

struct global_parse {
    struct rt_global g;
    const char *log, *log_format;
    bool version, help;
};

static int on_global(int key, const char *value, void *data)
{
    struct global_parse *p = data;
    switch (key) {
    case G_ROOT:
        p->g.root = value;
        break;
    case G_LOG:
        p->log = value;
        break;
    case G_LOG_FORMAT:
        p->log_format = value;
        break;
    case G_DEBUG:
        p->g.debug = true;
        break;
    case G_SYSTEMD:
        p->g.systemd_cgroup = true;
        break;
    case G_VERSION:
        p->version = true;
        break;
    case G_HELP:
        p->help = true;
        break;
    }
    return 0;
}

int main(int argc, char **argv)
{
    _cleanup_error_ pr_error *err = NULL;
    struct global_parse p = {.g = {.root = RT_DEFAULT_ROOT, .argv = argv}};
    int first;
    if (parse_opts(argc, argv, global_opts, on_global, &p, &first, &err) < 0) {
        fprintf(stderr, "podrun-runtime: %s\n", err->msg);
        return 1;
    }
    if (p.log_format && !streq(p.log_format, "text") && !streq(p.log_format, "json")) {
        fprintf(stderr, "podrun-runtime: --log-format: unknown format \"%s\"\n", p.log_format);
        return 1;
    }
    if (pr_log_init(p.log, p.log_format && streq(p.log_format, "json"), p.g.debug) < 0) {
        fprintf(stderr, "podrun-runtime: open log file `%s`: %s\n", p.log, strerror(errno));
        return 1;
    }
    /* create moves into the bundle before it makes the state dir: a relative --root must mean
     * the caller's directory, as runc's does. */
    _cleanup_free_ char *abs_root = NULL;
    if (p.g.root[0] != '/') {
        _cleanup_free_ char *cwd = getcwd(NULL, 0);
        if (!cwd) {
            fprintf(stderr, "podrun-runtime: getcwd: %s\n", strerror(errno));
            return 1;
        }
        p.g.root = abs_root = xasprintf("%s/%s", cwd, p.g.root);
    }
    if (p.version) {
        printf("podrun-runtime version %s\nspec: %s\n", PACKAGE_VERSION, RT_OCI_VERSION);
        return 0;
    }
    if (p.help || first >= argc) {
        usage(p.help ? stdout : stderr);
        return p.help ? 0 : 1;
    }
    const char *name = argv[first];
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        if (!streq(commands[i].name, name))
            continue;
        if (commands[i].enters_container && rt_ensure_cloned_binary(argv, &err) < 0) {
            pr_error("%s", err->msg);
            return 1;
        }
        int r = commands[i].fn(&p.g, argc - first, argv + first, &err);
        if (r < 0) {
            pr_error("%s", err ? err->msg : strerror(-r));
            return 1;
        }
        return r;
    }
    pr_error("unknown command \"%s\" (see podrun-runtime --help)", name);
    return 1;
}

int parse_opts(int argc, char **argv, const struct opt_def *defs,
               int (*on_opt)(int key, const char *value, void *data), void *data, int *first_arg,
               pr_error **err)
{
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (streq(a, "--")) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0')
            break;
        const char *name = a + (a[1] == '-' ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const struct opt_def *d = NULL;
        for (const struct opt_def *o = defs; o->name; o++) {
            if ((strlen(o->name) == nlen && strncmp(o->name, name, nlen) == 0) ||
                (o->short_name && nlen == 1 && a[1] != '-' && name[0] == o->short_name)) {
                d = o;
                break;
            }
        }
        if (!d)
            return pr_err(err, 0, "unknown option \"%s\"", a);
        const char *value = NULL;
        if (d->has_arg) {
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                return pr_err(err, 0, "option \"%s\" needs a value", a);
        } else if (eq) {
            /* --detach=true and friends, as Go's flag package allows. */
            if (!streq(eq + 1, "true") && !streq(eq + 1, "false"))
                return pr_err(err, 0, "option \"%.*s\" takes no value", (int)nlen, name);
            if (streq(eq + 1, "false"))
                continue;
        }
        int r = on_opt(d->key, value, data);
        if (r < 0)
            return pr_err(err, -r, "option \"%s\"", a);
    }
    *first_arg = i;
    return 0;
}

int parse_int_arg(const char *flag, const char *s, long long min, long long max, long long *out,
                  pr_error **err)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return pr_err(err, 0, "%s: \"%s\" is not a number in %lld..%lld", flag, s, min, max);
    *out = v;
    return 0;
}
