/* SPDX-License-Identifier: Apache-2.0 */
/* podrun-shim: parse the command line, detach, run the pod (shim.c does the work).
 *   podrun-shim --pod-dir DIR [--foreground] [--debug]
 *   podrun-shim --pod-dir DIR --request JSON      (a client of DIR/shim.sock)
 *   podrun-shim --hold-pid-namespace              (pid 1 of a pod's shared PID namespace) */
#include "shim.h"
#include "fs.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: podrun-shim --pod-dir DIR [--foreground] [--debug]\n"
               "       podrun-shim --pod-dir DIR --request JSON\n"
               "Supervises the pod described by DIR/spec.json (see podrun-shim(8)).\n");
}

/* One request; prints the reply lines. events and remove read until the shim closes. */
static int do_request(const char *pod_dir, const char *json)
{
    _cleanup_free_ char *path = xasprintf("%s/shim.sock", pod_dir);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "podrun-shim: socket path too long\n");
        return 1;
    }
    strcpy(sa.sun_path, path);
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        fprintf(stderr, "podrun-shim: connect `%s`: %s\n", path, strerror(errno));
        return 1;
    }
    _cleanup_free_ char *req = xasprintf("%s\n", json);
    if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
        fprintf(stderr, "podrun-shim: send: %s\n", strerror(errno));
        return 1;
    }
    bool stream = strstr(json, "\"events\"") || strstr(json, "\"remove\"");
    _cleanup_fclose_ FILE *f = fdopen(steal_fd(&fd), "r");
    char *line = NULL;
    size_t cap = 0;
    int rc = 1;
    while (getline(&line, &cap, f) > 0) {
        fputs(line, stdout);
        fflush(stdout);
        if (rc == 1)
            rc = strstr(line, "\"ok\":true") ? 0 : 2;
        if (!stream)
            break;
    }
    free(line);
    return rc;
}

/* Closes every inherited fd but keep: a caller's pipes (bats keeps fd 3) must not be held open
 * by a daemon that lives for days. */
static void close_inherited(int keep)
{
    if (keep > 3)
        sys_close_range(3, (unsigned)keep - 1, 0);
    sys_close_range((unsigned)keep + 1, ~0U, 0);
}

/* shim.log only as a regular file with one name, never through a symlink; anything else planted
 * there is refused by shim_new (checked in the pod directory), its message reaching the caller
 * through the ready pipe. */
static int open_shim_log(const char *pod_dir)
{
    _cleanup_free_ char *log = xasprintf("%s/shim.log", pod_dir);
    int fd = open(
        log, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0600);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink > 1)) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static void redirect_stdio(const char *pod_dir)
{
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    int lfd = open_shim_log(pod_dir);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(lfd >= 0 ? lfd : null, 2);
    }
    if (null > 2)
        close(null);
    if (lfd > 2)
        close(lfd);
}

/* The binary is linked -z now, but libc binds its own calls into other objects (realloc,
 * calloc, __tls_get_addr ...) lazily. The first of those the daemon made would walk the
 * dynamic linker's lookup code and the symbol tables of every library into its resident set
 * (some 250 KiB, for a supervisor that lives as long as its pod). The loader binds every
 * object at start only when LD_BIND_NOW is in the environment, so the shim execs itself once
 * with it, and drops it again so that the runtime and probes are not bound eagerly. */
static void exec_bound_now(char **argv)
{
    const char *now = getenv("LD_BIND_NOW");
    if (now && *now) {
        unsetenv("LD_BIND_NOW");
        return;
    }
    /* By its path rather than /proc/self/exe, which would rename the process "exe". */
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return;
    self[n] = '\0';
    if (setenv("LD_BIND_NOW", "1", 1) == 0)
        execv(self, argv);
    unsetenv("LD_BIND_NOW"); /* the binary was replaced meanwhile: run lazily bound */
}

static int serve(const char *pod_dir, struct pod_spec *spec, int ready_fd)
{
    _cleanup_error_ pr_error *err = NULL;
    struct shim *s = NULL;
    int r = shim_new(pod_dir, spec, &s, &err);
    if (r == 0) {
        s->ready_fd = ready_fd;
        r = shim_run(s, &err);
        ready_fd = s->ready_fd;
    }
    if (r < 0) {
        if (ready_fd >= 0) {
            _cleanup_free_ char *msg = xasprintf("ERR %s\n", err ? err->msg : strerror(-r));
            if (write(ready_fd, msg, strlen(msg)) < 0)
                r = -errno;
        }
        pr_error("%s", err ? err->msg : strerror(-r));
    }
    if (s)
        s->ready_fd = -1;
    shim_free(s);
    return r < 0 ? 1 : 0;
}

/* setsid and a double fork: the shim belongs to no caller's session and is nobody's child
 * but init's (or the nearest subreaper's). The caller returns once the shim answers on its
 * socket, or with the reason it could not. */
static int detach_and_serve(const char *pod_dir, struct pod_spec *spec)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        perror("podrun-shim: pipe");
        pod_spec_free(spec);
        return 1;
    }
    pid_t child = fork();
    if (child < 0) {
        perror("podrun-shim: fork");
        pod_spec_free(spec);
        return 1;
    }
    if (child == 0) {
        close(p[0]);
        if (setsid() < 0)
            _exit(1);
        pid_t grandchild = fork();
        if (grandchild != 0)
            _exit(grandchild < 0 ? 1 : 0);
        if (chdir("/") < 0)
            _exit(1);
        close_inherited(p[1]);
        redirect_stdio(pod_dir);
        _exit(serve(pod_dir, spec, p[1]));
    }
    close(p[1]);
    pod_spec_free(spec);
    waitpid(child, NULL, 0);
    char buf[4096];
    ssize_t n, total = 0;
    while (total < (ssize_t)sizeof(buf) - 1 &&
           (n = read(p[0], buf + total, sizeof(buf) - 1 - (size_t)total)) > 0)
        total += n;
    close(p[0]);
    buf[total] = '\0';
    if (has_prefix(buf, "OK ")) {
        fputs(buf + 3, stdout);
        return 0;
    }
    buf[strcspn(buf, "\n")] = '\0';
    fprintf(stderr, "podrun-shim: %s\n",
            *buf ? buf + (has_prefix(buf, "ERR ") ? 4 : 0)
                 : "the shim died while starting (see shim.log)");
    return 1;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"pod-dir", required_argument, NULL, 'p'},
                                         {"foreground", no_argument, NULL, 'f'},
                                         {"debug", no_argument, NULL, 'd'},
                                         {"request", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"version", no_argument, NULL, 'v'},
                                         {NULL, 0, NULL, 0}};
    const char *pod_dir = NULL, *request = NULL;
    bool foreground = false, debug = false;
    int o;
    /* The init a shim clones to hold a pod's shared PID namespace (pidns.c). */
    if (argc == 2 && streq(argv[1], "--hold-pid-namespace"))
        return pidns_hold_main();
    while ((o = getopt_long(argc, argv, "p:fdr:hv", opts, NULL)) != -1) {
        switch (o) {
        case 'p':
            pod_dir = optarg;
            break;
        case 'f':
            foreground = true;
            break;
        case 'd':
            debug = true;
            break;
        case 'r':
            request = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'v':
            printf("podrun-shim %s\n", PACKAGE_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!pod_dir || optind != argc) {
        usage(stderr);
        return 2;
    }
    _cleanup_free_ char *abs_dir = realpath(pod_dir, NULL);
    if (!abs_dir) {
        fprintf(stderr, "podrun-shim: pod directory `%s`: %s\n", pod_dir, strerror(errno));
        return 1;
    }
    if (request)
        return do_request(abs_dir, request);
    exec_bound_now(argv);
    pr_log_init(NULL, false, debug);
    /* Refuse a bad spec here, where the caller still sees stderr. The shim inherits the parsed
     * spec: the parser's code never becomes part of the daemon's resident set. */
    _cleanup_free_ char *spec_path = xasprintf("%s/spec.json", abs_dir);
    _cleanup_error_ pr_error *err = NULL;
    struct pod_spec *spec = NULL;
    if (pod_spec_load(spec_path, &spec, &err) < 0) {
        fprintf(stderr, "podrun-shim: %s\n", err->msg);
        return 1;
    }
    if (foreground)
        return serve(abs_dir, spec, -1);
    return detach_and_serve(abs_dir, spec);
}
