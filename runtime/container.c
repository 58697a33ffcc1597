/* SPDX-License-Identifier: Apache-2.0 */
#include "container.h"
#include "cloned-binary.h"
#include "config.h"
#include "fs.h"
#include "hooks.h"
#include "init.h"
#include "json.h"
#include "log.h"
#include "netdev.h"
#include "seccomp.h"
#include "sync.h"
#include "terminal.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static int write_pid_file(const char *path, pid_t pid, pr_error **err)
{
    if (!path)
        return 0;
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
    return write_file_atomic_volatile(path, buf, (size_t)n, 0644, err);
}

static char *absolute_path(const char *path)
{
    if (!path || !*path || path[0] == '/')
        return path ? xstrdup(path) : NULL;
    _cleanup_free_ char *cwd = getcwd(NULL, 0);
    return cwd ? xasprintf("%s/%s", cwd, path) : xstrdup(path);
}

/* Socket activation passes through as runc does it: the LISTEN_FDS fds (from 3 on) are kept
 * ahead of --preserve-fds, and the container's process learns about them as its own. */
static int socket_activation_count(void)
{
    const char *v = getenv("LISTEN_FDS");
    int n = v && *v ? atoi(v) : 0;
    return n > 0 && n < 65536 ? n : 0;
}

static int socket_activation_fds(struct rt_process *p)
{
    int n = socket_activation_count();
    if (n == 0)
        return 0;
    _cleanup_free_ char *fds = xasprintf("LISTEN_FDS=%d", n);
    strv_extend(&p->env, fds);
    strv_extend(&p->env, "LISTEN_PID=1");
    return n;
}

/* --preserve-fds N hands fds 3..N+2 to the container as they are. A hole among them must not
 * be filled by one of our own fds (the sync socket, the exec fifo) on its way in, so holes get
 * /dev/null before we open anything. */
static void plug_preserved_fds(int n)
{
    for (int fd = 3; fd < 3 + n; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        int null = open("/dev/null", O_RDWR);
        if (null >= 0 && null != fd) {
            dup2(null, fd);
            close(null);
        }
    }
}

static void kill_and_reap(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* Waits until pid is gone (not our child: poll its pidfd), at most timeout_ms. */
static bool wait_gone(pid_t pid, unsigned long long start_time, int timeout_ms)
{
    _cleanup_close_ int pidfd = sys_pidfd_open(pid, 0);
    if (pidfd >= 0) {
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        if (poll(&p, 1, timeout_ms) > 0)
            return true;
        /* A zombie whose parent has not reaped it yet reads as readable too; fall through. */
    }
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        if (!rt_pid_alive(pid, start_time))
            return true;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return false;
}

static int write_id_maps(pid_t pid, const struct rt_config *c, pr_error **err)
{
    _cleanup_free_ char *uid = rt_idmap_format(c->uid_maps, c->n_uid_maps);
    _cleanup_free_ char *gid = rt_idmap_format(c->gid_maps, c->n_gid_maps);
    _cleanup_free_ char *upath = xasprintf("/proc/%d/uid_map", (int)pid);
    _cleanup_free_ char *gpath = xasprintf("/proc/%d/gid_map", (int)pid);
    int r = write_file(upath, uid, strlen(uid), err);
    if (r < 0)
        return pr_err_prefix(err, "linux.uidMappings");
    r = write_file(gpath, gid, strlen(gid), err);
    if (r < 0)
        return pr_err_prefix(err, "linux.gidMappings");
    return 0;
}

/* Saves the bytes rt_config_load parsed, not the bundle's file read again: that could have
 * changed since, and state, exec and the hooks must see the config that was checked. */
static int save_config(const struct rt_config *c, const char *dir, pr_error **err)
{
    _cleanup_free_ char *dst = xasprintf("%s/config.json", dir);
    return write_file_atomic_volatile(dst, c->text, c->text_len, 0600, err);
}

struct create_ctx {
    const struct rt_global *g;
    const struct rt_create_opts *o;
    struct rt_config *c;
    char *dir;
    int lock; /* on dir while the create runs: tells a create in progress from a dead one */
    struct rt_cgroup *cg;
    pid_t stage1, init;
    int sock;
    int pty;
    bool init_stub; /* the init ends with the init stub (init_stub_will_do) */
};

static int handle_pty(struct create_ctx *x, int fd, const char *console_socket, bool foreground,
                      pr_error **err)
{
    if (console_socket) {
        int r = rt_terminal_send_to_socket(console_socket, fd, err);
        close(fd);
        return r;
    }
    if (foreground) {
        x->pty = fd;
        return 0;
    }
    close(fd);
    return pr_err(err, 0, "process.terminal is set but no --console-socket was given");
}

/* Whether the container's init may end with the init stub rather than run the whole runtime
 * from a sealed copy (cloned-binary.h): only if nothing but the runtime and the host can see
 * the init while it runs the runtime's binary. A new pid namespace holds the init alone, unless
 * hooks run inside the container (createContainer and startContainer run as the init's
 * children and may run the image's programs). With a seccomp notify listener the agent would
 * be asked about the stub's execve too: those keep the old way. */
static bool init_stub_will_do(const struct rt_config *c)
{
    return rt_init_stub_available() && c->ns_new[NS_PID] && !c->ns_path[NS_PID] &&
           rt_config_has_ns(c, NS_MNT) && !json_get(c->hooks, "createContainer") &&
           !json_get(c->hooks, "startContainer") && !rt_seccomp_listener_path(c->seccomp);
}

static int reexec_sealed(const struct rt_global *g, int caller_cwd, pr_error **err)
{
    if (rt_is_cloned_binary() > 0)
        return 0;
    /* The copy starts over from the command line: in the caller's directory. */
    if (caller_cwd < 0 || fchdir(caller_cwd) < 0)
        return pr_err(err, errno, "return to the caller's directory to re-execute");
    return rt_ensure_cloned_binary(g->argv, err);
}

/* After READY, the init execs the stub: its end of the sync socket closes then (close-on-exec),
 * or an error arrives if the exec failed. */
static int await_init_stub(struct create_ctx *x, pr_error **err)
{
    struct sync_msg m;
    _cleanup_error_ pr_error *e = NULL;
    int r = sync_recv(x->sock, &m, "the container process", &e);
    if (r == -EPIPE) {
        int status;
        if (waitpid(x->init, &status, WNOHANG) != x->init)
            return 0;
        x->init = 0;
        return pr_err(err, ECHILD, "the container process %s before it ran its program",
                      WIFSIGNALED(status) ? "was killed" : "exited");
    }
    if (r < 0) {
        *err = steal_pointer(&e);
        return r;
    }
    return pr_err(err, EPROTO, "unexpected message %d from the container process", m.type);
}

/* The runtime's half of the dialogue with stage 1 and the container process. */
static int drive_create(struct create_ctx *x, pr_error **err)
{
    struct sync_msg m;
    int r;
    for (;;) {
        if ((r = sync_recv(x->sock, &m, "the container process", err)) < 0)
            return r;
        switch (m.type) {
        case SYNC_USERMAP:
            if ((r = write_id_maps(x->stage1, x->c, err)) < 0)
                return r;
            sync_send(x->sock, SYNC_GO, 0, -1);
            break;
        case SYNC_PID:
            x->init = m.value;
            while (waitpid(x->stage1, NULL, 0) < 0 && errno == EINTR)
                ;
            x->stage1 = 0;
            break;
        case SYNC_HOOKS: {
            _cleanup_free_ char *st =
                rt_hook_state_json(x->o->id, x->init, "creating", x->c->bundle, x->c->annotations);
            /* Before the hooks, which may configure them. */
            if ((r = rt_net_devices_move(x->c->net_devices, x->init, err)) < 0 ||
                (r = rt_hooks_run(x->c->hooks, "prestart", st, err)) < 0 ||
                (r = rt_hooks_run(x->c->hooks, "createRuntime", st, err)) < 0)
                return r;
            sync_send(x->sock, SYNC_GO, x->init, -1);
            break;
        }
        case SYNC_PTY:
            if ((r = handle_pty(x, m.fd, x->o->console_socket, x->o->foreground, err)) < 0)
                return r;
            break;
        case SYNC_SECCOMP: {
            _cleanup_close_ int fd = m.fd;
            _cleanup_free_ char *st =
                rt_hook_state_json(x->o->id, x->init, "creating", x->c->bundle, x->c->annotations);
            if ((r = rt_seccomp_send_listener(x->c->seccomp, fd, st, err)) < 0)
                return r;
            break;
        }
        case SYNC_READY:
            return x->init_stub ? await_init_stub(x, err) : 0;
        default:
            return pr_err(err, EPROTO, "unexpected message %d from the container process", m.type);
        }
    }
}

/* What a create about to make the container's cgroup notes in its state directory first: if it
 * dies before state.json is written, the next `delete --force` or `create` of the same id
 * finds here what to undo (see clear_dead_create). */
#define CGROUP_NOTE "cgroup-note.json"

static int note_cgroup(const struct rt_cgroup *cg, char *const *to_make, void *data, pr_error **err)
{
    const struct create_ctx *x = data;
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key(g, "cgroup");
    rt_cgroup_serialize(cg, g);
    jg_key(g, "made");
    jg_array_open(g);
    for (char *const *d = to_make; *d; d++)
        jg_str(g, *d);
    jg_array_close(g);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *path = xasprintf("%s/" CGROUP_NOTE, x->dir);
    return write_file_atomic_volatile(path, buf, len, 0600, err);
}

/* The processes a create makes (stage 1, the init, the init stub) hold the exec fifo of its
 * state directory open until `start`, or the directory itself without a mount namespace:
 * that is how a dead create's processes are told from others' in a cgroup it did not make. */
struct state_files {
    struct stat fifo, dir;
    bool has_fifo;
};

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static bool holds_state_files(pid_t pid, void *data)
{
    const struct state_files *f = data;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    _cleanup_dir_ DIR *d = opendir(path);
    if (!d)
        return false;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, 0) < 0)
            continue;
        if ((f->has_fifo && same_file(&st, &f->fifo)) || same_file(&st, &f->dir))
            return true;
    }
    return false;
}

/* A state directory without state.json is a create still running (it holds the directory's
 * lock) or one that died half-way: this undoes the latter, exactly what it made, from its
 * cgroup note. Returns 1 when it removed the directory, 0 when state.json is there (a whole
 * container, not ours to touch), -EBUSY while a create is running. */
static int clear_dead_create(const char *root, const char *id, pr_error **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/%s", root, id);
    _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 1 : pr_err(err, errno, "open `%s`", dir);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            return pr_err_code(err, EBUSY, "container \"%s\" is being created", id);
        return pr_err(err, errno, "lock `%s`", dir);
    }
    if (faccessat(fd, "state.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
        return 0;
    struct state_files files = {0};
    if (fstat(fd, &files.dir) < 0)
        return pr_err(err, errno, "stat `%s`", dir);
    files.has_fifo = fstatat(fd, "exec.fifo", &files.fifo, AT_SYMLINK_NOFOLLOW) == 0;
    _cleanup_free_ char *note_path = xasprintf("%s/" CGROUP_NOTE, dir);
    _cleanup_json_ yajl_val note = NULL;
    int r = json_parse_file(note_path, &note, err);
    if (r < 0 && r != -ENOENT)
        return pr_err_prefix(err, "container \"%s\" was not fully created", id);
    if (r == -ENOENT) {
        pr_error_freep(err);
    } else if ((r = rt_cgroup_undo_note(json_get(note, "cgroup"), json_get(note, "made"),
                                        holds_state_files, &files, err)) < 0) {
        return pr_err_prefix(err, "container \"%s\" was not fully created", id);
    }
    if ((r = rm_rf(dir)) < 0)
        return pr_err(err, -r, "remove `%s`", dir);
    return 1;
}

/* Makes ROOT/ID and locks it for the create; a dead create's leftovers there are cleared. */
static int make_state_dir(const struct rt_global *g, const char *id, char **dir, int *lock,
                          pr_error **err)
{
    int r = rt_state_dir_create(g->root, id, dir, err);
    if (r == -EEXIST) {
        _cleanup_error_ pr_error *e = NULL;
        int cleared = clear_dead_create(g->root, id, &e);
        if (cleared < 0 && cleared != -EBUSY) {
            pr_error_freep(err);
            *err = steal_pointer(&e);
            return cleared;
        }
        if (cleared == 1) {
            pr_error_freep(err);
            r = rt_state_dir_create(g->root, id, dir, err);
        }
    }
    if (r < 0)
        return r;
    *lock = open(*dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    bool removed = false;
    if (*lock < 0 || flock(*lock, LOCK_EX) < 0 || fstat(*lock, &st) < 0)
        r = pr_err(err, errno, "lock `%s`", *dir);
    else if ((removed = st.st_nlink == 0)) /* cleared by another command since our mkdir */
        r = pr_err(err, ENOENT, "container \"%s\" was removed while being created", id);
    if (r < 0) {
        if (!removed)
            rmdir(*dir); /* ours, just made and still empty */
        if (*lock >= 0)
            close(*lock);
        *lock = -1;
        free(*dir);
        *dir = NULL;
    }
    return r;
}

static void undo_create(struct create_ctx *x)
{
    kill_and_reap(x->stage1);
    kill_and_reap(x->init);
    if (x->cg) {
        _cleanup_error_ pr_error *e = NULL;
        if (rt_cgroup_destroy(x->cg, &e) < 0)
            pr_warning("cleaning up after a failed create: %s", e->msg);
    }
    if (x->dir)
        rm_rf(x->dir);
    if (x->pty >= 0)
        close(x->pty);
}

int rt_container_create(const struct rt_global *g, const struct rt_create_opts *o, pid_t *pid,
                        int *pty_master, pr_error **err)
{
    struct create_ctx x = {.g = g, .o = o, .sock = -1, .pty = -1, .lock = -1};
    _cleanup_config_ struct rt_config *c = NULL;
    _cleanup_free_ char *dir = NULL;
    int r;

    if ((r = rt_validate_id(o->id, err)) < 0)
        return r;
    /* --pid-file and --console-socket are the caller's paths; mount sources are the bundle's:
     * resolve the first before moving into the bundle, as runc does. */
    _cleanup_free_ char *pid_file = absolute_path(o->pid_file);
    _cleanup_free_ char *console_socket = absolute_path(o->console_socket);
    struct rt_create_opts abs_opts = *o;
    abs_opts.pid_file = pid_file;
    abs_opts.console_socket = console_socket;
    o = &abs_opts;
    x.o = o;
    _cleanup_close_ int caller_cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (chdir(o->bundle) < 0)
        return pr_err(err, errno, "bundle `%s`", o->bundle);
    if ((r = rt_config_load(".", g->systemd_cgroup, o->id, &c, err)) < 0)
        return r;
    x.init_stub = init_stub_will_do(c);
    if (!x.init_stub && (r = reexec_sealed(g, caller_cwd, err)) < 0)
        return r;
    if (c->process->terminal && !o->console_socket && !o->foreground)
        return pr_err(err, 0,
                      "process.terminal is set: --console-socket is required when "
                      "the runtime does not stay in the foreground");
    if (o->pid_file && o->pid_file[0] == '\0')
        return pr_err(err, 0, "--pid-file: empty path");
    plug_preserved_fds(o->preserve_fds + socket_activation_count());
    if ((r = make_state_dir(g, o->id, &dir, &x.lock, err)) < 0)
        return r;
    _cleanup_close_ int lock = x.lock;
    x.c = c;
    x.dir = dir;

    _cleanup_free_ char *fifo = xasprintf("%s/exec.fifo", dir);
    _cleanup_close_ int fifo_fd = -1;
    _cleanup_close_ int state_dirfd = -1;
    int socks[2] = {-1, -1};
    struct rt_cgroup_entry entry = {.v2_fd = -1};
    if ((r = save_config(c, dir, err)) < 0)
        goto fail;
    /* Writable by the container's root whatever uid it maps to; umask must not narrow it. */
    if (mkfifo(fifo, 0622) < 0 || chmod(fifo, 0622) < 0) {
        r = pr_err(err, errno, "mkfifo `%s`", fifo);
        goto fail;
    }
    fifo_fd = open(fifo, O_PATH | O_CLOEXEC);
    if (fifo_fd < 0) {
        r = pr_err(err, errno, "open `%s`", fifo);
        goto fail;
    }
    if ((r = sync_pair(socks, err)) < 0)
        goto fail;

    /* Without a mount namespace the chroot leaves /proc, and with it the fifo's fd path,
     * behind: the init finds the fifo from the state directory instead. */
    if (!rt_config_has_ns(c, NS_MNT)) {
        state_dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (state_dirfd < 0) {
            r = pr_err(err, errno, "open `%s`", dir);
            close(socks[0]);
            close(socks[1]);
            goto fail;
        }
    }
    struct rt_init_args a = {.id = o->id,
                             .config = c,
                             .process = c->process,
                             .sync = socks[1],
                             .fifo_fd = fifo_fd,
                             .state_dirfd = state_dirfd,
                             .preserve_fds = o->preserve_fds + socket_activation_fds(c->process),
                             .no_pivot = o->no_pivot,
                             .no_new_keyring = o->no_new_keyring,
                             .init_stub = x.init_stub};
    /* systemd puts the first process into the scope it makes: it needs the pid first. */
    if (!g->systemd_cgroup) {
        if ((r = rt_cgroup_create_noted(c->cgroup, 0, note_cgroup, &x, &x.cg, err)) < 0 ||
            (r = rt_cgroup_entry_open(x.cg, &entry, err)) < 0) {
            close(socks[0]);
            close(socks[1]);
            goto fail;
        }
        a.cgroup_entry = &entry;
    }
    x.stage1 = rt_cgroup_entry_fork(&entry);
    if (x.stage1 < 0) {
        r = pr_err(err, errno, "fork");
        close(socks[0]);
        close(socks[1]);
        goto fail;
    }
    if (x.stage1 == 0) {
        close(socks[0]);
        close(x.lock); /* the lock is the create's, not its processes' */
        rt_init_stage1(&a);
    }
    close(socks[1]);
    x.sock = socks[0];

    if (g->systemd_cgroup)
        r = rt_cgroup_create_noted(c->cgroup, x.stage1, note_cgroup, &x, &x.cg, err);
    else
        r = rt_cgroup_entry_finish(x.cg, &entry, x.stage1, false, err);
    if (r < 0)
        goto fail;
    if (sync_send(x.sock, SYNC_GO, 0, -1) < 0) {
        r = pr_err(err, EPIPE, "the container process exited before its namespaces were made");
        goto fail;
    }
    if ((r = drive_create(&x, err)) < 0)
        goto fail;

    struct rt_state st = {
        .id = (char *)o->id,
        .dir = dir,
        .pid = x.init,
        .start_time = rt_pid_start_time(x.init, NULL),
        .bundle = c->bundle,
        .rootfs = c->rootfs,
        .created = rt_now_rfc3339(),
        .owner = "",
        .systemd_cgroup = g->systemd_cgroup,
        .annotations = c->annotations,
    };
    r = rt_state_save(&st, x.cg, err);
    free(st.created);
    if (r < 0)
        goto fail;
    if ((r = write_pid_file(o->pid_file, x.init, err)) < 0)
        goto fail;
    close(x.sock);
    rt_cgroup_free(x.cg);
    *pid = x.init;
    *pty_master = x.pty;
    return 0;

fail:
    rt_cgroup_entry_close(&entry);
    if (x.sock >= 0)
        close(x.sock);
    undo_create(&x);
    rt_cgroup_free(x.cg);
    return r;
}

int rt_container_load(const struct rt_global *g, const char *id, struct rt_state **st,
                      struct rt_cgroup **cg, pr_error **err)
{
    _cleanup_state_ struct rt_state *s = NULL;
    int r = rt_state_load(g->root, id, &s, err);
    if (r < 0)
        return r;
    if (cg) {
        *cg = NULL;
        if (s->cgroup_saved && (r = rt_cgroup_load(s->cgroup_saved, cg, err)) < 0)
            return r;
    }
    *st = steal_pointer(&s);
    return 0;
}

static yajl_val saved_config(const struct rt_state *s)
{
    _cleanup_free_ char *path = xasprintf("%s/config.json", s->dir);
    yajl_val v = NULL;
    if (json_parse_file(path, &v, NULL) < 0)
        return NULL;
    return v;
}

/* poststop runs after the fact: per the spec a failure is only a warning. A poststart failure
 * is an error (runtime-spec lifecycle, as runc and crun): the caller stops the container. */
static int run_late_hooks(const struct rt_state *s, const char *kind, const char *status,
                          pr_error **err)
{
    _cleanup_json_ yajl_val conf = saved_config(s);
    yajl_val hooks = json_get(conf, "hooks");
    if (!json_get(hooks, kind))
        return 0;
    _cleanup_free_ char *st = rt_hook_state_json(s->id, s->pid, status, s->bundle, s->annotations);
    if (err)
        return rt_hooks_run(hooks, kind, st, err);
    rt_hooks_run_warn(hooks, kind, st);
    return 0;
}

static int kill_everything(struct rt_state *s, struct rt_cgroup *cg, pr_error **err);

int rt_container_start(const struct rt_global *g, const char *id, pr_error **err)
{
    _cleanup_state_ struct rt_state *s = NULL;
    _cleanup_cgroup_ struct rt_cgroup *cg = NULL;
    int r = rt_container_load(g, id, &s, &cg, err);
    if (r < 0)
        return r;
    _cleanup_close_ int lock = rt_state_lock(s, err);
    if (lock < 0)
        return lock;
    const char *status = rt_state_status(s, cg);
    if (!streq(status, "created"))
        return pr_err(err, 0, "cannot start container \"%s\": it is %s, not created", id, status);
    _cleanup_free_ char *fifo = xasprintf("%s/exec.fifo", s->dir);
    _cleanup_close_ int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return pr_err(err, errno, "open `%s`", fifo);
    /* The container process may die while we wait; look at it between polls. */
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, 100);
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0 && (p.revents & POLLIN)) {
            char c;
            if (read(fd, &c, 1) == 1)
                break;
        }
        if (!rt_pid_alive(s->pid, s->start_time))
            return pr_err(err, 0, "cannot start container \"%s\": its process exited", id);
    }
    unlink(fifo);
    if ((r = run_late_hooks(s, "poststart", "running", err)) < 0) {
        _cleanup_error_ pr_error *e = NULL;
        if (kill_everything(s, cg, &e) < 0)
            pr_warning("stopping container \"%s\" after its poststart hook failed: %s", id, e->msg);
        return r;
    }
    return 0;
}

static int kill_everything(struct rt_state *s, struct rt_cgroup *cg, pr_error **err)
{
    if (cg) {
        _cleanup_error_ pr_error *e = NULL;
        bool frozen = false;
        if (rt_cgroup_kill_all(cg, SIGKILL, &e) < 0)
            pr_debug("kill all in the cgroup: %s", e->msg);
        if (rt_cgroup_is_frozen(cg, &frozen, NULL) == 0 && frozen)
            rt_cgroup_freeze(cg, false, NULL);
    }
    _cleanup_close_ int pidfd = rt_state_pidfd(s, NULL);
    if (pidfd >= 0)
        sys_pidfd_send_signal(pidfd, SIGKILL);
    if (!wait_gone(s->pid, s->start_time, 10000))
        return pr_err(err, EBUSY, "container \"%s\": process %d did not die", s->id, (int)s->pid);
    return 0;
}

int rt_container_delete(const struct rt_global *g, const char *id, bool force, pr_error **err)
{
    _cleanup_state_ struct rt_state *s = NULL;
    _cleanup_cgroup_ struct rt_cgroup *cg = NULL;
    int r = rt_validate_id(id, err);
    if (r < 0)
        return r;
    _cleanup_error_ pr_error *lerr = NULL;
    r = rt_container_load(g, id, &s, &cg, &lerr);
    if (r < 0) {
        _cleanup_free_ char *dir = xasprintf("%s/%s", g->root, id);
        _cleanup_free_ char *statef = xasprintf("%s/state.json", dir);
        /* A directory without state.json is a create running or one that died half-way (it
         * removes its own on failure, so only a crash leaves one): --force clears the latter
         * and what it made. */
        if (force && access(dir, F_OK) == 0 && access(statef, F_OK) < 0) {
            r = clear_dead_create(g->root, id, err);
            if (r != 0)
                return r < 0 ? r : 0;
            /* state.json appeared meanwhile: a whole container now; delete it as one. */
            pr_error_freep(&lerr);
            return rt_container_delete(g, id, force, err);
        }
        /* As runc: --force of a container that is already gone succeeds (podman deletes with
         * --force after a failed create, and an exit command may have deleted it first). */
        if (force && access(dir, F_OK) < 0 && errno == ENOENT)
            return 0;
        *err = steal_pointer(&lerr);
        return r;
    }
    _cleanup_close_ int lock = rt_state_lock(s, err);
    if (lock < 0)
        return lock;
    const char *status = rt_state_status(s, cg);
    if (streq(status, "running") || streq(status, "paused")) {
        if (!force)
            return pr_err(err, 0, "cannot delete container \"%s\" that is %s (use --force)", id,
                          status);
    }
    if (!streq(status, "stopped") && (r = kill_everything(s, cg, err)) < 0)
        return r;
    if (streq(status, "stopped") && cg)
        rt_cgroup_kill_all(cg, SIGKILL, NULL); /* stragglers of a container without a pid ns */
    if (cg && (r = rt_cgroup_destroy(cg, err)) < 0)
        return r;
    run_late_hooks(s, "poststop", "stopped", NULL);
    if ((r = rm_rf(s->dir)) < 0)
        return pr_err(err, -r, "remove `%s`", s->dir);
    return 0;
}

int rt_container_kill(const struct rt_global *g, const char *id, int sig, bool all, pr_error **err)
{
    _cleanup_state_ struct rt_state *s = NULL;
    _cleanup_cgroup_ struct rt_cgroup *cg = NULL;
    int r = rt_container_load(g, id, &s, &cg, err);
    if (r < 0)
        return r;
    const char *status = rt_state_status(s, cg);
    if (streq(status, "stopped") && !all)
        return pr_err(err, 0, "container \"%s\" is not running", id);
    if (all && cg)
        return rt_cgroup_kill_all(cg, sig, err);
    _cleanup_close_ int pidfd = rt_state_pidfd(s, err);
    if (pidfd < 0)
        return pidfd;
    if (sys_pidfd_send_signal(pidfd, sig) < 0)
        return pr_err(err, errno, "send signal %d to container \"%s\"", sig, id);
    return 0;
}

int rt_container_pause(const struct rt_global *g, const char *id, bool pause, pr_error **err)
{
    _cleanup_state_ struct rt_state *s = NULL;
    _cleanup_cgroup_ struct rt_cgroup *cg = NULL;
    int r = rt_container_load(g, id, &s, &cg, err);
    if (r < 0)
        return r;
    _cleanup_close_ int lock = rt_state_lock(s, err);
    if (lock < 0)
        return lock;
    const char *status = rt_state_status(s, cg);
    if (pause && !streq(status, "running"))
        return pr_err(err, 0, "cannot pause container \"%s\": it is %s", id, status);
    if (!pause && !streq(status, "paused"))
        return pr_err(err, 0, "cannot resume container \"%s\": it is %s, not paused", id, status);
    if (!cg)
        return pr_err(err, 0, "container \"%s\" has no cgroup to freeze", id);
    return rt_cgroup_freeze(cg, pause, err);
}

/* Exec ------------------------------------------------------------------------------------ */

static bool env_overridden(char *const *overrides, const char *entry)
{
    const char *eq = strchr(entry, '=');
    size_t len = eq ? (size_t)(eq - entry) : strlen(entry);
    for (; overrides && *overrides; overrides++)
        if (strncmp(*overrides, entry, len) == 0 && (*overrides)[len] == '=')
            return true;
    return false;
}

/* The process to exec as JSON: the --process file, or the container's process with the
 * command-line overrides (args, env, cwd, user, tty, caps, no_new_privs) applied. */
static int build_exec_process(const struct rt_exec_opts *o, yajl_val conf, yajl_val *out,
                              pr_error **err)
{
    if (o->process_file) {
        int r = json_parse_file_max(o->process_file, RT_CONFIG_MAX, 0, out, err);
        if (r < 0)
            return r;
        return 0;
    }
    if (!o->args || !o->args[0])
        return pr_err(err, 0, "exec: no command given (use --process or ARGS)");
    yajl_val base = json_get(conf, "process");
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key(g, "args");
    jg_array_open(g);
    for (char **a = o->args; *a; a++)
        jg_str(g, *a);
    jg_array_close(g);
    jg_key(g, "env");
    jg_array_open(g);
    /* --env NAME=VALUE replaces the container's NAME rather than adding a second one. */
    yajl_val env = json_get(base, "env");
    for (size_t i = 0; i < json_array_len(env); i++) {
        yajl_val e = json_array_at(env, i);
        if (YAJL_IS_STRING(e) && env_overridden(o->env, e->u.string))
            continue;
        jg_value(g, e);
    }
    for (char **e = o->env; e && *e; e++)
        jg_str(g, *e);
    jg_array_close(g);
    const char *cwd = o->cwd;
    if (!cwd) {
        yajl_val c = json_get(base, "cwd");
        cwd = YAJL_IS_STRING(c) ? c->u.string : "/";
    }
    jg_key_str(g, "cwd", cwd);
    jg_key_bool(g, "terminal", o->tty);
    yajl_val user = json_get(base, "user");
    if (o->user || o->n_additional_gids) {
        uid_t uid = 0;
        gid_t gid = 0;
        int64_t v;
        if (json_get_int64(user, "uid", "process.user", &v, NULL) == 0 && json_get(user, "uid"))
            uid = (uid_t)v;
        if (json_get_int64(user, "gid", "process.user", &v, NULL) == 0 && json_get(user, "gid"))
            gid = (gid_t)v;
        if (o->user) {
            gid = 0;
            int r = rt_process_parse_user(o->user, &uid, &gid, err);
            if (r < 0)
                return r;
        }
        jg_key(g, "user");
        jg_map_open(g);
        jg_key_uint(g, "uid", uid);
        jg_key_uint(g, "gid", gid);
        jg_key(g, "additionalGids");
        jg_array_open(g);
        for (size_t i = 0; i < o->n_additional_gids; i++)
            yajl_gen_integer(g, o->additional_gids[i]);
        jg_array_close(g);
        jg_map_close(g);
    } else if (user) {
        jg_key(g, "user");
        jg_value(g, user);
    }
    yajl_val caps = json_get(base, "capabilities");
    if (caps || o->caps) {
        jg_key(g, "capabilities");
        jg_map_open(g);
        static const char *sets[] = {"bounding", "effective", "inheritable", "permitted",
                                     "ambient"};
        for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
            yajl_val set = json_get(caps, sets[s]);
            if (!set && !o->caps)
                continue;
            jg_key(g, sets[s]);
            jg_array_open(g);
            for (size_t i = 0; i < json_array_len(set); i++)
                jg_value(g, json_array_at(set, i));
            for (char **c = o->caps; c && *c && !streq(sets[s], "ambient"); c++)
                jg_str(g, *c);
            jg_array_close(g);
        }
        jg_map_close(g);
    }
    static const char *copied[] = {"rlimits",      "apparmorProfile", "oomScoreAdj",
                                   "selinuxLabel", "ioPriority",      "scheduler"};
    for (size_t i = 0; i < ARRAY_SIZE(copied); i++) {
        yajl_val v = json_get(base, copied[i]);
        if (v) {
            jg_key(g, copied[i]);
            jg_value(g, v);
        }
    }
    bool nnp = o->no_new_privs;
    if (!nnp)
        json_get_bool(base, "noNewPrivileges", "process", &nnp, NULL);
    jg_key_bool(g, "noNewPrivileges", nnp);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = strndup(buf, len);
    return json_parse(text, "exec process", out, err);
}

static int open_container_namespaces(const struct rt_state *s, int fds[NS_COUNT], pr_error **err)
{
    for (int k = 0; k < NS_COUNT; k++) {
        fds[k] = -1;
        char mine[64], theirs[64];
        snprintf(mine, sizeof(mine), "/proc/self/ns/%s", rt_namespaces[k].proc_name);
        snprintf(theirs, sizeof(theirs), "/proc/%d/ns/%s", (int)s->pid, rt_namespaces[k].proc_name);
        struct stat a, b;
        if (stat(theirs, &b) < 0) {
            if (errno == ENOENT)
                continue; /* the kernel lacks this kind */
            return pr_err(err, errno, "stat `%s`", theirs);
        }
        if (stat(mine, &a) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
            continue;
        fds[k] = open(theirs, O_RDONLY | O_CLOEXEC);
        if (fds[k] < 0)
            return pr_err(err, errno, "open `%s`", theirs);
    }
    return 0;
}

/* A container without a mount namespace lives in a chroot of the runtime's tree: an exec'd
 * process must go there too, not stay on the host's root. */
static bool config_has_mount_ns(yajl_val conf)
{
    yajl_val nss = json_get(json_get(conf, "linux"), "namespaces");
    for (size_t i = 0; i < json_array_len(nss); i++) {
        yajl_val t = json_get(json_array_at(nss, i), "type");
        if (YAJL_IS_STRING(t) && streq(t->u.string, "mount"))
            return true;
    }
    return false;
}

static void close_fds(int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

int rt_container_exec(const struct rt_global *g, const struct rt_exec_opts *o, pid_t *pid,
                      int *pty_master, pr_error **err)
{
    _cleanup_state_ struct rt_state *s = NULL;
    _cleanup_cgroup_ struct rt_cgroup *cg = NULL;
    _cleanup_config_ struct rt_config *c = NULL;
    _cleanup_json_ yajl_val pjson = NULL;
    _cleanup_process_ struct rt_process *proc = NULL;
    int r = rt_container_load(g, o->id, &s, &cg, err);
    if (r < 0)
        return r;
    const char *status = rt_state_status(s, cg);
    if (!streq(status, "running") && !streq(status, "created"))
        return pr_err(err, 0, "cannot exec in container \"%s\": it is %s", o->id, status);
    _cleanup_free_ char *saved = xasprintf("%s/config.json", s->dir);
    _cleanup_json_ yajl_val conf = NULL;
    if ((r = json_parse_file(saved, &conf, err)) < 0)
        return r;
    if ((r = build_exec_process(o, conf, &pjson, err)) < 0)
        return r;
    if ((r = rt_process_parse(pjson, o->process_file ? o->process_file : "exec process", &proc,
                              err)) < 0)
        return r;
    if (proc->terminal && !o->console_socket && o->detach)
        return pr_err(err, 0, "--tty with --detach needs --console-socket");

    c = xcalloc(1, sizeof(*c));
    c->bundle = xstrdup(s->bundle);
    c->rootfs = xstrdup(s->rootfs);
    yajl_val seccomp = json_get(json_get(conf, "linux"), "seccomp");
    if ((r = rt_seccomp_prepare(YAJL_IS_OBJECT(seccomp) ? seccomp : NULL, &c->seccomp, err)) < 0)
        return r;

    plug_preserved_fds(o->preserve_fds);
    _cleanup_close_ int pidfd = rt_state_pidfd(s, err);
    if (pidfd < 0)
        return pidfd;
    int ns_fds[NS_COUNT];
    if ((r = open_container_namespaces(s, ns_fds, err)) < 0) {
        close_fds(ns_fds, NS_COUNT);
        return r;
    }
    int socks[2];
    if ((r = sync_pair(socks, err)) < 0) {
        close_fds(ns_fds, NS_COUNT);
        return r;
    }
    struct rt_init_args a = {.id = o->id,
                             .config = c,
                             .process = proc,
                             .sync = socks[1],
                             .fifo_fd = -1,
                             .state_dirfd = -1,
                             .preserve_fds = o->preserve_fds,
                             .is_exec = true,
                             .exec_chroot = !config_has_mount_ns(conf)};
    memcpy(a.ns_fds, ns_fds, sizeof(ns_fds));
    struct rt_cgroup_entry entry = {.v2_fd = -1};
    if (o->cgroups && !cg) {
        close(socks[0]);
        close(socks[1]);
        close_fds(ns_fds, NS_COUNT);
        return pr_err(err, 0, "--cgroup: container \"%s\" has no cgroup", o->id);
    }
    if (cg) {
        if ((o->cgroups && (r = rt_cgroup_use_sub(cg, o->cgroups, err)) < 0) ||
            (r = rt_cgroup_entry_open(cg, &entry, err)) < 0) {
            close(socks[0]);
            close(socks[1]);
            close_fds(ns_fds, NS_COUNT);
            return r;
        }
        a.cgroup_entry = &entry;
    }
    pid_t stage1 = rt_cgroup_entry_fork(&entry);
    if (stage1 < 0) {
        r = pr_err(err, errno, "fork");
        rt_cgroup_entry_close(&entry);
        close(socks[0]);
        close(socks[1]);
        close_fds(ns_fds, NS_COUNT);
        return r;
    }
    if (stage1 == 0) {
        close(socks[0]);
        rt_init_stage1(&a);
    }
    close(socks[1]);
    close_fds(ns_fds, NS_COUNT);
    _cleanup_close_ int sock = socks[0];
    pid_t child = 0;
    int pty = -1;

    /* A sub-cgroup the caller named is taken as it is, busy or not. */
    r = cg ? rt_cgroup_entry_finish(cg, &entry, stage1, !o->cgroups, err) : 0;
    if (r < 0)
        goto fail;
    sync_send(sock, SYNC_GO, 0, -1);
    for (;;) {
        struct sync_msg m;
        _cleanup_error_ pr_error *e = NULL;
        r = sync_recv(sock, &m, "the exec'd process", &e);
        if (r == -EPIPE && child > 0)
            break; /* EOF after the pid: execve succeeded and closed the socket */
        if (r < 0) {
            *err = steal_pointer(&e);
            goto fail;
        }
        if (m.type == SYNC_PID) {
            child = m.value;
            while (waitpid(stage1, NULL, 0) < 0 && errno == EINTR)
                ;
            stage1 = 0;
        } else if (m.type == SYNC_PTY) {
            if (o->console_socket) {
                r = rt_terminal_send_to_socket(o->console_socket, m.fd, err);
                close(m.fd);
                if (r < 0)
                    goto fail;
            } else {
                pty = m.fd;
            }
        } else if (m.type == SYNC_SECCOMP) {
            _cleanup_free_ char *st =
                rt_hook_state_json(o->id, s->pid, "running", s->bundle, s->annotations);
            r = rt_seccomp_send_listener(c->seccomp, m.fd, st, err);
            close(m.fd);
            if (r < 0)
                goto fail;
        }
    }
    if ((r = write_pid_file(o->pid_file, child, err)) < 0)
        goto fail;
    *pid = child;
    *pty_master = pty;
    return 0;
fail:
    kill_and_reap(stage1);
    kill_and_reap(child);
    if (pty >= 0)
        close(pty);
    return r;
}

/* Foreground ------------------------------------------------------------------------------ */

struct proxy_args {
    int master;
};

static void *proxy_thread(void *p)
{
    struct proxy_args *a = p;
    rt_terminal_proxy(a->master, NULL);
    return NULL;
}

int rt_wait_foreground(pid_t pid, int pty_master)
{
    sigset_t set;
    sigfillset(&set);
    static const int keep[] = {SIGSEGV, SIGBUS,  SIGILL,  SIGFPE,  SIGABRT,
                               SIGCHLD, SIGTTIN, SIGTTOU, SIGTSTP, SIGPIPE};
    for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
        sigdelset(&set, keep[i]);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    _cleanup_close_ int pidfd = sys_pidfd_open(pid, 0);
    pthread_t th;
    struct proxy_args pa = {pty_master};
    bool proxying = pty_master >= 0 && pthread_create(&th, NULL, proxy_thread, &pa) == 0;

    for (;;) {
        struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
        int n = poll(p, 2, pidfd >= 0 ? -1 : 100);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && (p[1].revents & POLLIN)) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof(si)) == sizeof(si))
                kill(pid, (int)si.ssi_signo);
        }
        int status;
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            if (proxying) {
                /* Let the relay drain what the process wrote last, then stop it. */
                struct timespec ts = {0, 50 * 1000 * 1000};
                nanosleep(&ts, NULL);
                pthread_cancel(th);
                pthread_join(th, NULL);
            }
            if (sfd >= 0)
                close(sfd);
            if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
            return WEXITSTATUS(status);
        }
        if (w < 0 && errno == ECHILD)
            break;
    }
    if (sfd >= 0)
        close(sfd);
    return 255;
}

int rt_parse_signal(const char *s, int *sig, pr_error **err)
{
    static const struct {
        const char *name;
        int sig;
    } names[] = {
        {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
        {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},
        {"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
        {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
        {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
        {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
        {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
        {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"POLL", SIGPOLL},     {"PWR", SIGPWR},
        {"SYS", SIGSYS},
    };
    char *end;
    long n = strtol(s, &end, 10);
    if (*s && !*end) {
        if (n <= 0 || n > SIGRTMAX)
            return pr_err(err, 0, "invalid signal \"%s\"", s);
        *sig = (int)n;
        return 0;
    }
    /* Names are case-insensitive, with or without SIG, as runc takes them. */
    char up[32];
    size_t len = strlen(s);
    if (len >= sizeof(up))
        return pr_err(err, 0, "unknown signal \"%s\"", s);
    for (size_t i = 0; i <= len; i++)
        up[i] = (char)toupper((unsigned char)s[i]);
    const char *name = has_prefix(up, "SIG") ? up + 3 : up;
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if (streq(names[i].name, name)) {
            *sig = names[i].sig;
            return 0;
        }
    /* RTMIN, RTMIN+N, RTMAX, RTMAX-N with N a plain number inside the real-time range. */
    bool min = has_prefix(name, "RTMIN"), max = has_prefix(name, "RTMAX");
    if (min || max) {
        const char *rest = name + 5;
        long off = 0;
        if (*rest) {
            if (*rest != (min ? '+' : '-') || !isdigit((unsigned char)rest[1]))
                return pr_err(err, 0, "unknown signal \"%s\"", s);
            off = strtol(rest + 1, &end, 10);
            if (*end)
                return pr_err(err, 0, "unknown signal \"%s\"", s);
        }
        if (off <= SIGRTMAX - SIGRTMIN) {
            *sig = min ? SIGRTMIN + (int)off : SIGRTMAX - (int)off;
            return 0;
        }
    }
    return pr_err(err, 0, "unknown signal \"%s\"", s);
}
