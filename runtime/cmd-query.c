/* SPDX-License-Identifier: Apache-2.0 */
/* state, list, ps, events, features, spec. */
#include "commands.h"
#include "fs.h"
#include "json.h"
#include "util.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static void print_gen(yajl_gen g)
{
    size_t len;
    const char *buf = jg_buf(g, &len);
    fwrite(buf, 1, len, stdout);
    if (len == 0 || buf[len - 1] != '\n')
        fputc('\n', stdout);
    fflush(stdout);
}

static const struct opt_def no_opts[] = {{NULL, 0, 0, 0}};
static int on_nothing(int key, const char *v, void *data)
{
    return 0;
}

int cmd_state(struct rt_global *g, int argc, char **argv, pr_error **err)
{
    int first;
    int r = parse_opts(argc, argv, no_opts, on_nothing, NULL, &first, err);
    if (r < 0)
        return r;
    if (first != argc - 1)
        return pr_err(err, 0, "state: expected exactly one container id");
    _cleanup_state_ struct rt_state *s = NULL;
    _cleanup_cgroup_ struct rt_cgroup *cg = NULL;
    if ((r = rt_container_load(g, argv[first], &s, &cg, err)) < 0)
        return r;
    _cleanup_gen_ yajl_gen gen = json_gen_new(true);
    rt_state_gen_oci(s, rt_state_status(s, cg), gen);
    print_gen(gen);
    return 0;
}

enum { O_FORMAT = 1, O_QUIET };

struct list_parse {
    const char *format;
    bool quiet;
};

static int on_list(int key, const char *v, void *data)
{
    struct list_parse *p = data;
    if (key == O_FORMAT)
        p->format = v;
    else
        p->quiet = true;
    return 0;
}

/* The name of uid from /etc/passwd. Read directly rather than through NSS: the runtime is a
 * static binary, and the state dir's owner is a local user anyway. */
static char *user_name(uid_t uid)
{
    _cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
    char *line = NULL;
    size_t cap = 0;
    char *name = NULL;
    while (f && !name && getline(&line, &cap, f) > 0) {
        char *save = NULL;
        char *n = strtok_r(line, ":", &save);
        strtok_r(NULL, ":", &save); /* password */
        char *id = strtok_r(NULL, ":", &save);
        if (n && id && strtoul(id, NULL, 10) == uid)
            name = xstrdup(n);
    }
    free(line);
    return name ? name : xasprintf("#%u", (unsigned)uid);
}

/* runc's list names the user owning the state dir (its `state` leaves owner empty). */
static char *state_dir_owner(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) < 0)
        return xstrdup("");
    return user_name(st.st_uid);
}

static int id_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cmd_list(struct rt_global *g, int argc, char **argv, pr_error **err)
{
    static const struct opt_def opts[] = {
        {"format", 'f', OPT_ARG, O_FORMAT}, {"quiet", 'q', OPT_NONE, O_QUIET}, {NULL, 0, 0, 0}};
    struct list_parse p = {.format = "table"};
    int first;
    int r = parse_opts(argc, argv, opts, on_list, &p, &first, err);
    if (r < 0)
        return r;
    if (!streq(p.format, "table") && !streq(p.format, "json"))
        return pr_err(err, 0, "list: unknown format \"%s\" (table or json)", p.format);
    _cleanup_strv_ char **ids = NULL;
    _cleanup_dir_ DIR *d = opendir(g->root);
    if (!d && errno != ENOENT)
        return pr_err(err, errno, "open `%s`", g->root);
    size_t n = 0;
    for (struct dirent *de; d && (de = readdir(d));) {
        /* Ids may start with a dot (".hidden"): only . and .. are not containers. */
        if (streq(de->d_name, ".") || streq(de->d_name, "..") ||
            rt_validate_id(de->d_name, NULL) < 0)
            continue;
        ids = xrealloc(ids, (n + 2) * sizeof(char *));
        ids[n++] = xstrdup(de->d_name);
        ids[n] = NULL;
    }
    if (n)
        qsort(ids, n, sizeof(char *), id_cmp);
    _cleanup_gen_ yajl_gen gen = json_gen_new(false);
    if (streq(p.format, "json"))
        jg_array_open(gen);
    else if (!p.quiet)
        printf("%-12s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
               "OWNER");
    for (size_t i = 0; i < n; i++) {
        _cleanup_state_ struct rt_state *s = NULL;
        _cleanup_cgroup_ struct rt_cgroup *cg = NULL;
        /* A container being created or deleted right now has no complete state: skip it. */
        if (rt_container_load(g, ids[i], &s, &cg, NULL) < 0)
            continue;
        const char *status = rt_state_status(s, cg);
        free(s->owner);
        s->owner = state_dir_owner(s->dir);
        if (streq(p.format, "json")) {
            rt_state_gen_oci(s, status, gen);
        } else if (p.quiet) {
            printf("%s\n", s->id);
        } else {
            printf("%-12s %-8d %-10s %-40s %-30s %s\n", s->id,
                   streq(status, "stopped") ? 0 : (int)s->pid, status, s->bundle, s->created,
                   s->owner);
        }
    }
    if (streq(p.format, "json")) {
        jg_array_close(gen);
        print_gen(gen);
    }
    return 0;
}

static bool pid_in(pid_t pid, const pid_t *pids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (pids[i] == pid)
            return true;
    return false;
}

/* Table output: the host's ps, filtered to the container's processes, as runc does. */
static int ps_table(char **ps_args, const pid_t *pids, size_t n, pr_error **err)
{
    int p[2];
    if (pipe(p) < 0)
        return pr_err(err, errno, "pipe");
    pid_t child = fork();
    if (child < 0)
        return pr_err(err, errno, "fork");
    if (child == 0) {
        dup2(p[1], STDOUT_FILENO);
        close(p[0]);
        close(p[1]);
        size_t na = strv_length(ps_args);
        char **args = xcalloc(na + 2, sizeof(char *));
        args[0] = (char *)"ps";
        if (na == 0) {
            args[1] = (char *)"-ef";
        } else {
            for (size_t i = 0; i < na; i++)
                args[i + 1] = ps_args[i];
        }
        execvp("ps", args);
        _exit(127);
    }
    close(p[1]);
    _cleanup_fclose_ FILE *f = fdopen(p[0], "r");
    char *line = NULL;
    size_t cap = 0;
    int pid_col = -1;
    bool header = true;
    while (f && getline(&line, &cap, f) > 0) {
        if (header) {
            fputs(line, stdout);
            _cleanup_free_ char *copy = xstrdup(line);
            char *save = NULL;
            int col = 0;
            for (char *t = strtok_r(copy, " \t\n", &save); t;
                 t = strtok_r(NULL, " \t\n", &save), col++)
                if (streq(t, "PID"))
                    pid_col = col;
            header = false;
            continue;
        }
        _cleanup_free_ char *copy = xstrdup(line);
        char *save = NULL;
        char *t = strtok_r(copy, " \t\n", &save);
        for (int col = 0; t && col < pid_col; col++)
            t = strtok_r(NULL, " \t\n", &save);
        if (t && pid_in((pid_t)atoi(t), pids, n))
            fputs(line, stdout);
    }
    free(line);
    int status;
    waitpid(child, &status, 0);
    if (pid_col < 0)
        return pr_err(err, 0, "ps: no PID column in the output of ps");
    return 0;
}

int cmd_ps(struct rt_global *g, int argc, char **argv, pr_error **err)
{
    static const struct opt_def opts[] = {{"format", 'f', OPT_ARG, O_FORMAT}, {NULL, 0, 0, 0}};
    struct list_parse p = {.format = "table"};
    int first;
    int r = parse_opts(argc, argv, opts, on_list, &p, &first, err);
    if (r < 0)
        return r;
    if (first >= argc)
        return pr_err(err, 0, "ps: expected a container id");
    if (!streq(p.format, "table") && !streq(p.format, "json"))
        return pr_err(err, 0, "ps: unknown format \"%s\" (table or json)", p.format);
    _cleanup_state_ struct rt_state *s = NULL;
    _cleanup_cgroup_ struct rt_cgroup *cg = NULL;
    if ((r = rt_container_load(g, argv[first], &s, &cg, err)) < 0)
        return r;
    _cleanup_free_ pid_t *pids = NULL;
    size_t n = 0;
    if (cg && (r = rt_cgroup_pids(cg, &pids, &n, err)) < 0)
        return r;
    if (streq(p.format, "json")) {
        _cleanup_gen_ yajl_gen gen = json_gen_new(false);
        jg_array_open(gen);
        for (size_t i = 0; i < n; i++)
            yajl_gen_integer(gen, pids[i]);
        jg_array_close(gen);
        print_gen(gen);
        return 0;
    }
    return ps_table(argv + first + 1, pids, n, err);
}

enum { O_INTERVAL = 1, O_STATS };

struct events_parse {
    long long interval_ms;
    bool stats;
    pr_error *err;
};

static int parse_duration_ms(const char *s, long long *ms, pr_error **err)
{
    char *end;
    double v = strtod(s, &end);
    double mult = 1000;
    if (end == s || v < 0)
        return pr_err(err, 0, "--interval: \"%s\" is not a duration", s);
    if (streq(end, "ms"))
        mult = 1;
    else if (streq(end, "s") || *end == '\0')
        mult = 1000;
    else if (streq(end, "m"))
        mult = 60000;
    else
        return pr_err(err, 0, "--interval: \"%s\" is not a duration", s);
    *ms = (long long)(v * mult);
    if (*ms <= 0)
        return pr_err(err, 0, "--interval: must be positive");
    return 0;
}

static int on_events(int key, const char *v, void *data)
{
    struct events_parse *p = data;
    if (key == O_STATS) {
        p->stats = true;
        return 0;
    }
    return parse_duration_ms(v, &p->interval_ms, &p->err) < 0 ? -EINVAL : 0;
}

static int emit_event(const char *type, const char *id, struct rt_cgroup *cg, pr_error **err)
{
    _cleanup_gen_ yajl_gen gen = json_gen_new(false);
    jg_map_open(gen);
    jg_key_str(gen, "type", type);
    jg_key_str(gen, "id", id);
    if (streq(type, "stats")) {
        jg_key(gen, "data");
        int r = rt_cgroup_stats(cg, gen, err);
        if (r < 0)
            return r;
    }
    jg_map_close(gen);
    print_gen(gen);
    return 0;
}

int cmd_events(struct rt_global *g, int argc, char **argv, pr_error **err)
{
    static const struct opt_def opts[] = {
        {"interval", 0, OPT_ARG, O_INTERVAL}, {"stats", 0, OPT_NONE, O_STATS}, {NULL, 0, 0, 0}};
    struct events_parse p = {.interval_ms = 5000};
    int first;
    int r = parse_opts(argc, argv, opts, on_events, &p, &first, err);
    if (p.err) {
        pr_error_free(*err);
        *err = steal_pointer(&p.err);
        return -EINVAL;
    }
    if (r < 0)
        return r;
    if (first != argc - 1)
        return pr_err(err, 0, "events: expected exactly one container id");
    _cleanup_state_ struct rt_state *s = NULL;
    _cleanup_cgroup_ struct rt_cgroup *cg = NULL;
    if ((r = rt_container_load(g, argv[first], &s, &cg, err)) < 0)
        return r;
    if (!cg)
        return pr_err(err, 0, "container \"%s\" has no cgroup", s->id);
    if (streq(rt_state_status(s, cg), "stopped"))
        return pr_err(err, 0, "container \"%s\" is not running", s->id);
    if (p.stats)
        return emit_event("stats", s->id, cg, err) < 0 ? -EINVAL : 0;

    /* Stream: stats every interval and an "oom" event whenever the kill count rises. Poll
     * the count more often than the stats so an OOM is reported promptly. */
    uint64_t ooms = 0, now_ooms;
    rt_cgroup_oom_kills(cg, &ooms, NULL);
    long long since_stats = 0;
    const long long tick = p.interval_ms < 200 ? p.interval_ms : 200;
    while (rt_pid_alive(s->pid, s->start_time)) {
        struct timespec ts = {tick / 1000, (tick % 1000) * 1000000};
        nanosleep(&ts, NULL);
        since_stats += tick;
        if (rt_cgroup_oom_kills(cg, &now_ooms, NULL) == 0 && now_ooms > ooms) {
            ooms = now_ooms;
            emit_event("oom", s->id, cg, NULL);
        }
        if (since_stats >= p.interval_ms) {
            since_stats = 0;
            if (emit_event("stats", s->id, cg, NULL) < 0)
                break;
        }
    }
    if (rt_cgroup_oom_kills(cg, &now_ooms, NULL) == 0 && now_ooms > ooms)
        emit_event("oom", s->id, cg, NULL);
    return 0;
}

int cmd_features(struct rt_global *g, int argc, char **argv, pr_error **err)
{
    _cleanup_gen_ yajl_gen gen = json_gen_new(true);
    rt_features_generate(gen);
    print_gen(gen);
    return 0;
}

enum { O_BUNDLE = 1, O_ROOTLESS };

struct spec_parse {
    const char *bundle;
    bool rootless;
};

static int on_spec(int key, const char *v, void *data)
{
    struct spec_parse *p = data;
    if (key == O_BUNDLE)
        p->bundle = v;
    else
        p->rootless = true;
    return 0;
}

int cmd_spec(struct rt_global *g, int argc, char **argv, pr_error **err)
{
    static const struct opt_def opts[] = {
        {"bundle", 'b', OPT_ARG, O_BUNDLE}, {"rootless", 0, OPT_NONE, O_ROOTLESS}, {NULL, 0, 0, 0}};
    struct spec_parse p = {.bundle = "."};
    int first;
    int r = parse_opts(argc, argv, opts, on_spec, &p, &first, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *path = xasprintf("%s/config.json", p.bundle);
    if (access(path, F_OK) == 0)
        return pr_err(err, EEXIST, "`%s`", path);
    _cleanup_gen_ yajl_gen gen = json_gen_new(true);
    rt_spec_generate(gen, p.rootless);
    size_t len;
    const char *buf = jg_buf(gen, &len);
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return pr_err(err, errno, "create `%s`", path);
    if (write(fd, buf, len) != (ssize_t)len)
        return pr_err(err, errno, "write `%s`", path);
    return 0;
}
