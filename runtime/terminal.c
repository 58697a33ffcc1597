/* SPDX-License-Identifier: Apache-2.0 */
#include "terminal.h"
#include "fs.h"
#include "sync.h"
#include "util.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

static int open_peer(int master, pr_error **err)
{
    int fd = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0)
        return fd;
    char name[64];
    if (ptsname_r(master, name, sizeof(name)) != 0)
        return pr_err(err, errno, "ptsname");
    fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return pr_err(err, errno, "open `%s`", name);
    return fd;
}

int rt_terminal_setup(int sync_sock, unsigned rows, unsigned cols, bool bind_console,
                      pr_error **err)
{
    _cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return pr_err(err, errno, "open /dev/ptmx (is /dev/pts mounted?)");
    if (unlockpt(master) < 0)
        return pr_err(err, errno, "unlockpt");
    _cleanup_close_ int slave = open_peer(master, err);
    if (slave < 0)
        return slave;
    if (rows && cols) {
        struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
        ioctl(slave, TIOCSWINSZ, &ws);
    }
    if (bind_console) {
        struct stat st;
        if (stat("/dev/console", &st) < 0) {
            int f = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
            if (f >= 0)
                close(f);
        }
        char buf[FD_PATH_MAX];
        if (mount(fd_path(slave, buf), "/dev/console", NULL, MS_BIND, NULL) < 0)
            return pr_err(err, errno, "bind the pty over /dev/console");
    }
    int r = sync_send(sync_sock, SYNC_PTY, 0, master);
    if (r < 0)
        return pr_err(err, -r, "send the pty master");
    if (ioctl(slave, TIOCSCTTY, 0) < 0)
        return pr_err(err, errno, "make the pty the controlling terminal");
    for (int i = 0; i < 3; i++)
        if (dup2(slave, i) < 0)
            return pr_err(err, errno, "dup2 pty to fd %d", i);
    return 0;
}

int rt_terminal_send_to_socket(const char *path, int master, pr_error **err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path))
        return pr_err(err, ENAMETOOLONG, "console socket `%s`", path);
    strcpy(addr.sun_path, path);
    _cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return pr_err(err, errno, "socket");
    if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0)
        return pr_err(err, errno, "connect to console socket `%s`", path);
    static const char name[] = "/dev/ptmx";
    int r = send_fd(s, master, name, sizeof(name) - 1);
    if (r < 0)
        return pr_err(err, -r, "send pty master to `%s`", path);
    return 0;
}

static struct termios saved_tio;
static bool tio_saved;

static void restore_tty(void)
{
    if (tio_saved)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
}

static bool copy_once(int from, int to)
{
    char buf[8192];
    ssize_t n = read(from, buf, sizeof(buf));
    if (n <= 0)
        return n < 0 && (errno == EINTR || errno == EAGAIN);
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(to, buf + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        off += w;
    }
    return true;
}

int rt_terminal_proxy(int master, pr_error **err)
{
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
        struct termios raw = saved_tio;
        cfmakeraw(&raw);
        if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) {
            tio_saved = true;
            atexit(restore_tty);
            struct winsize ws;
            if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                ioctl(master, TIOCSWINSZ, &ws);
        }
    }
    struct pollfd fds[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
                            {.fd = master, .events = POLLIN}};
    for (;;) {
        int r = poll(fds, 2, -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return pr_err(err, errno, "poll the terminal");
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            if (!copy_once(master, STDOUT_FILENO))
                break; /* EIO once the last slave fd is closed: the process is gone */
        }
        if (fds[0].revents & (POLLIN | POLLHUP)) {
            if (!copy_once(STDIN_FILENO, master))
                fds[0].fd = -1; /* our stdin closed: keep relaying output */
        }
    }
    restore_tty();
    return 0;
}
