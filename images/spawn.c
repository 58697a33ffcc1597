/* SPDX-License-Identifier: Apache-2.0 */
/* libimages-spawn.a: images_pull and store_unpack_layer with their contracts kept, run in
 * podrun-fetch (fetch.c), a child of one request. A long-lived process (the CRI server) links
 * this instead of libimages-fetch.a (pull.c, unpack.c): it then maps neither libcurl with its
 * TLS stack nor libarchive, and what registries and archives send is parsed in a process that
 * a crash or an exploit takes down alone. A program links one of the two; both define these
 * functions, so linking both fails.
 *
 * The child runs from a worker thread of a threaded server: between fork and exec it makes
 * only system calls. It dies with the thread that made it (PR_SET_PDEATHSIG). A child that
 * ends without a result, or that the caller's cancel_fd stops, leaves its staging under the
 * store's tmp/, which is removed at once (its writer is dead, store_clear_stale_staging). */
#include "fetch.h"
#include "fs.h"
#include "images.h"
#include "json.h"
#include "log.h"
#include "store.h"
#include "unpack.h"
#include "util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef LIBEXECDIR
#define LIBEXECDIR "/usr/local/libexec"
#endif

/* Beside the running program (installed together, or podrun-cri and podrun in a build tree's
 * agent/ with images/ next to it), else in libexecdir. */
static char *helper_path(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *slash = n > 0 ? (exe[n] = '\0', strrchr(exe, '/')) : NULL;
    if (slash) {
        *slash = '\0';
        const char *rel[] = {FETCH_PROGRAM, "../images/" FETCH_PROGRAM,
                             "../libexec/" FETCH_PROGRAM};
        for (size_t i = 0; i < ARRAY_SIZE(rel); i++) {
            char *p = xasprintf("%s/%s", exe, rel[i]);
            if (access(p, X_OK) == 0)
                return p;
            free(p);
        }
    }
    return xstrdup(LIBEXECDIR "/" FETCH_PROGRAM);
}

struct child {
    pid_t pid;
    int in, out; /* our ends of its standard input (a socket: sends say MSG_NOSIGNAL) and output */
    char *path;
};

static void child_close(struct child *c)
{
    if (c->in >= 0)
        close(c->in);
    if (c->out >= 0)
        close(c->out);
    c->in = c->out = -1;
    free(c->path);
    c->path = NULL;
}

static int child_start(struct child *c, char *const argv[], pr_error **err)
{
    int in[2], out[2];
    c->pid = -1;
    c->in = c->out = -1;
    c->path = helper_path();
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0)
        return pr_err(err, errno, "socketpair");
    if (pipe2(out, O_CLOEXEC) < 0) {
        int e = errno;
        close(in[0]), close(in[1]);
        return pr_err(err, e, "pipe");
    }
    pid_t parent = getpid();
    c->pid = fork();
    if (c->pid < 0) {
        int e = errno;
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        return pr_err(err, e, "fork");
    }
    if (c->pid == 0) {
        /* The server ignores SIGPIPE and blocks its signals for its loop; neither is the
         * child's (an ignored disposition would survive the exec). */
        child_signals_default();
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent ||
            dup2(in[1], STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0 ||
            close_range(3, ~0U, 0) < 0)
            _exit(127);
        execv(c->path, argv);
        _exit(127);
    }
    close(in[1]);
    close(out[1]);
    c->in = in[0];
    c->out = out[0];
    return 0;
}

/* Reaps the child; kill: SIGKILL it first. A status that is not "exited 0" is said in why. */
static void child_reap(struct child *c, bool kill_it, char why[64])
{
    if (kill_it)
        kill(c->pid, SIGKILL);
    int status = 0;
    while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status))
        snprintf(why, 64, "exited with status %d", WEXITSTATUS(status));
    else
        snprintf(why, 64, "was killed by signal %d", WTERMSIG(status));
}

static int send_all(int fd, const char *buf, size_t len, pr_error **err)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return pr_err(err, errno, "send the request to " FETCH_PROGRAM);
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static void on_progress(yajl_val line, const struct pull_options *o)
{
    yajl_val ev = json_get(line, "progress"), blobs = json_get(line, "blobs");
    size_t n = json_array_len(blobs);
    if (!YAJL_IS_INTEGER(ev) || !YAJL_IS_ARRAY(blobs))
        return;
    _cleanup_free_ struct pull_blob_progress *ps = xcalloc(n ? n : 1, sizeof(*ps));
    for (size_t i = 0; i < n; i++) {
        yajl_val b = json_array_at(blobs, i);
        if (!YAJL_IS_ARRAY(b) || json_array_len(b) != 5 || !YAJL_IS_STRING(json_array_at(b, 0)) ||
            !YAJL_IS_INTEGER(json_array_at(b, 1)) || !YAJL_IS_INTEGER(json_array_at(b, 2)))
            return;
        ps[i] = (struct pull_blob_progress){
            .digest = YAJL_GET_STRING(json_array_at(b, 0)),
            .have = YAJL_GET_INTEGER(json_array_at(b, 1)),
            .total = YAJL_GET_INTEGER(json_array_at(b, 2)),
            .done = YAJL_IS_TRUE(json_array_at(b, 3)),
            .failed = YAJL_IS_TRUE(json_array_at(b, 4)),
        };
    }
    o->progress((enum pull_progress_event)YAJL_GET_INTEGER(ev), ps, n, o->progress_data);
}

/* The result line: 0 with *id, or the child's error as it was made. 1: not a result. */
static int on_result(yajl_val line, char **id, pr_error **err)
{
    yajl_val v = json_get(line, "id");
    if (YAJL_IS_STRING(v)) {
        if (id)
            *id = xstrdup(YAJL_GET_STRING(v));
        return 0;
    }
    yajl_val rc = json_get(line, "rc"), en = json_get(line, "errno"), msg = json_get(line, "error");
    if (!YAJL_IS_INTEGER(rc) || YAJL_GET_INTEGER(rc) >= 0 || YAJL_GET_INTEGER(rc) < -4095 ||
        !YAJL_IS_STRING(msg))
        return 1;
    int errnum = YAJL_IS_INTEGER(en) ? (int)YAJL_GET_INTEGER(en) : 0;
    pr_err_code(err, errnum >= 0 && errnum < 4096 ? errnum : 0, "%s", YAJL_GET_STRING(msg));
    return (int)YAJL_GET_INTEGER(rc);
}

static bool readable(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    return fd > 0 && poll(&p, 1, 0) == 1;
}

/* Runs the child to its result. what names the request in messages ("pull `busybox`"). */
static int run(image_store *s, char *const argv[], const char *request, const char *what,
               const struct pull_options *o, char **id, pr_error **err)
{
    int cancel_fd = o ? o->cancel_fd : 0;
    if (readable(cancel_fd))
        return pr_err_code(err, ECANCELED, "%s: cancelled", what);
    struct child c;
    int r = child_start(&c, argv, err);
    if (r < 0)
        return r;
    if (request)
        r = send_all(c.in, request, strlen(request), err);
    close(c.in);
    c.in = -1;
    size_t cap = 4096, len = 0;
    _cleanup_free_ char *buf = xmalloc(cap);
    int result = 1; /* none yet */
    bool cancelled = false;
    _cleanup_error_ pr_error *child_err = NULL;
    while (r == 0 && result == 1) {
        struct pollfd p[2] = {{c.out, POLLIN, 0}, {cancel_fd, POLLIN, 0}};
        if (poll(p, cancel_fd > 0 ? 2 : 1, -1) < 0) {
            if (errno != EINTR)
                r = pr_err(err, errno, "%s: poll", what);
            continue;
        }
        if (p[1].revents) {
            cancelled = true;
            break;
        }
        if (len + 4096 > cap) {
            if (cap > FETCH_LINE_MAX) {
                r = pr_err(err, 0, "%s: " FETCH_PROGRAM " wrote a line over %zu bytes", what,
                           FETCH_LINE_MAX);
                break;
            }
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
        ssize_t n = read(c.out, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* ended without a result: said below */
        len += (size_t)n;
        char *nl;
        while (result == 1 && (nl = memchr(buf, '\n', len))) {
            *nl = '\0';
            _cleanup_json_ yajl_val line = NULL;
            _cleanup_error_ pr_error *pe = NULL;
            if (json_parse(buf, FETCH_PROGRAM "'s output", &line, &pe) == 0) {
                if (json_get(line, "progress")) {
                    if (o && o->progress)
                        on_progress(line, o);
                } else {
                    result = on_result(line, id, &child_err);
                }
            }
            len -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, len);
        }
    }
    char why[64];
    child_reap(&c, r < 0 || cancelled || result == 1, why);
    if (r < 0 || cancelled || result == 1) {
        /* What it was writing is left under tmp/; its writer is gone now. */
        store_clear_stale_staging(s);
        if (r == 0 && cancelled)
            r = pr_err_code(err, ECANCELED, "%s: cancelled", what);
        else if (r == 0)
            r = pr_err(err, 0, "%s: %s (%s) %s without a result", what, FETCH_PROGRAM, c.path, why);
    } else if (result < 0) {
        if (err && !*err)
            *err = steal_pointer(&child_err);
        r = result;
    }
    child_close(&c);
    return r;
}

int images_pull(image_store *s, const char *ref, const struct pull_options *o, char **id,
                pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "ref", ref);
    if (o) {
        jg_key_int(g, "tls_verify", o->tls_verify);
        jg_key_str(g, "registries_conf", o->registries_conf);
        jg_key_str(g, "auth_file", o->auth_file);
        jg_key_str(g, "basic_auth", o->basic_auth);
        jg_key_str(g, "bearer_token", o->bearer_token);
        jg_key_bool(g, "progress", o->progress != NULL);
    }
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    if (len > FETCH_REQUEST_MAX)
        return pr_err(err, 0, "pull `%s`: the request (its credentials) is over %zu bytes", ref,
                      FETCH_REQUEST_MAX);
    _cleanup_free_ char *request = xstrndup(buf, len);
    _cleanup_free_ char *what = xasprintf("pull `%s`", ref);
    char *argv[] = {(char *)FETCH_PROGRAM, (char *)"pull", s->root, NULL};
    return run(s, argv, request, what, o, id, err);
}

int store_unpack_layer(image_store *s, const char *digest, const char *diff_id, pr_error **err)
{
    int r = digest_check(digest, "layer", err);
    if (r < 0)
        return r;
    /* Unpacked already (normally: every stored image's layers are, at its pull or load). A
     * diff_id to check is only asked when an image is committed, which this process never
     * does: it pulls through the child. */
    _cleanup_free_ char *rel = xasprintf("layers/%s", digest_hex(digest));
    if (!diff_id && faccessat(s->rootfd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
        return 0;
    if (diff_id)
        return pr_err(err, ENOTSUP, "layer %.19s: checking a diff_id needs libimages-fetch",
                      digest);
    _cleanup_free_ char *what = xasprintf("unpack layer %.19s", digest);
    char *argv[] = {(char *)FETCH_PROGRAM, (char *)"unpack", s->root, (char *)digest, NULL};
    return run(s, argv, NULL, what, NULL, NULL, err);
}
