/* SPDX-License-Identifier: Apache-2.0 */
/* The listening socket: a unix socket at the path given (0660, root's), made so that no other
 * process's socket or file is taken over, or the one systemd hands over. */
#include "fs.h"
#include "server.h"
#include "util.h"

#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

static int unix_addr(const char *path, struct sockaddr_un *a, pr_error **err)
{
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(a->sun_path))
        return pr_err_code(err, ENAMETOOLONG, "socket path `%s` is longer than %zu bytes", path,
                           sizeof(a->sun_path) - 1);
    strcpy(a->sun_path, path);
    return 0;
}

/* Whether a server answers on the socket at path. */
static bool socket_is_live(const struct sockaddr_un *a)
{
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return true; /* cannot tell: take nothing over */
    return connect(fd, (const struct sockaddr *)a, sizeof(*a)) == 0 || errno != ECONNREFUSED;
}

/* A socket left by a server that is gone is removed; anything else at path is refused. */
static int clear_path(const char *path, const struct sockaddr_un *a, pr_error **err)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : pr_err(err, errno, "stat `%s`", path);
    if (!S_ISSOCK(st.st_mode))
        return pr_err_code(err, EEXIST, "`%s` exists and is not a socket: not replacing it", path);
    if (socket_is_live(a))
        return pr_err_code(err, EADDRINUSE,
                           "`%s`: a server is listening on it (another podrun serve?)", path);
    if (unlink(path) < 0 && errno != ENOENT)
        return pr_err(err, errno, "remove the stale socket `%s`", path);
    return 0;
}

static int listen_path(cri_server *s, const char *path, pr_error **err)
{
    struct sockaddr_un a, tmp;
    int r = unix_addr(path, &a, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *copy = xstrdup(path), *copy2 = xstrdup(path);
    const char *dir = dirname(copy), *base = basename(copy2);
    /* As the run root: root's alone (the pod manager makes it 0700 too). */
    if ((r = mkdir_p(dir, 0700, err)) < 0)
        return r;
    /* Bound under a temporary name and given its mode there, then renamed in place (never
     * over anything): the socket is never reachable with the default umask's mode. */
    _cleanup_free_ char *tmp_path = xasprintf("%s/.%s.%d.tmp", dir, base, (int)getpid());
    if ((r = unix_addr(tmp_path, &tmp, err)) < 0)
        return r;
    if ((r = clear_path(path, &a, err)) < 0)
        return r;
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return pr_err(err, errno, "create a unix socket");
    unlink(tmp_path);
    if (bind(fd, (struct sockaddr *)&tmp, sizeof(tmp)) < 0)
        return pr_err(err, errno, "bind `%s`", tmp_path);
    if (chown(tmp_path, 0, 0) < 0 || chmod(tmp_path, 0660) < 0) {
        r = pr_err(err, errno, "set the owner and mode of `%s`", tmp_path);
        unlink(tmp_path);
        return r;
    }
    if (renameat2(AT_FDCWD, tmp_path, AT_FDCWD, path, RENAME_NOREPLACE) < 0) {
        r = pr_err(err, errno, "move the socket to `%s`", path);
        unlink(tmp_path);
        return r;
    }
    struct stat st;
    if (lstat(path, &st) < 0) {
        r = pr_err(err, errno, "stat `%s`", path);
        unlink(path);
        return r;
    }
    if (listen(fd, SOMAXCONN) < 0) {
        r = pr_err(err, errno, "listen on `%s`", path);
        unlink(path);
        return r;
    }
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    s->path = xstrdup(path);
    s->listen_fd = steal_fd(&fd);
    return 0;
}

/* A socket from systemd must be a listening unix stream socket. */
static int listen_inherited(cri_server *s, int fd, pr_error **err)
{
    int type = 0, acc = 0;
    socklen_t len = sizeof(type);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
        return pr_err(err, errno, "the socket passed by systemd (fd %d)", fd);
    len = sizeof(acc);
    if (type != SOCK_STREAM || ss.ss_family != AF_UNIX ||
        getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0 || !acc)
        return pr_err(err, 0,
                      "the socket passed by systemd (fd %d) is not a listening unix "
                      "stream socket",
                      fd);
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return pr_err(err, errno, "make fd %d non-blocking", fd);
    s->listen_fd = fd;
    return 0;
}

int cri_listen(cri_server *s, pr_error **err)
{
    if (s->o.listen_fd >= 0)
        return listen_inherited(s, s->o.listen_fd, err);
    const char *path = s->o.listen;
    if (has_prefix(path, "unix://"))
        path += strlen("unix://");
    else if (strstr(path, "://"))
        return pr_err(err, 0, "--listen `%s`: only unix:// sockets are served", s->o.listen);
    if (path[0] != '/')
        return pr_err(err, 0, "--listen `%s`: the socket path must be absolute", s->o.listen);
    return listen_path(s, path, err);
}

void cri_unlisten(cri_server *s)
{
    if (s->listen_fd >= 0 && s->path) {
        /* Only our own socket: another server may have replaced a path we no longer hold. */
        struct stat st;
        if (lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
            unlink(s->path);
    }
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    s->listen_fd = -1;
}
