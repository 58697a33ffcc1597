/* SPDX-License-Identifier: Apache-2.0 */
/* Container logs in the CRI format kubelet and crictl read:
 *   2016-10-06T00:17:09.669794202Z stdout F message
 * one record per line, P for a piece of a line longer than our buffer. Files rotate by size
 * (path -> path.1 -> ... path.N-1). When the disk refuses a write the records stay pending in
 * memory and the caller stops reading the container's pipe: the container blocks on a full
 * pipe instead of losing output. */
#include "shim.h"
#include "fs.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* Timestamps by hand: glibc's gmtime_r sets up the time zone machinery on first use (it reads
 * /etc/localtime through stdio, for UTC), and the printf family is a big piece of libc for a
 * long-lived daemon to keep resident for a few digits. Every log record has one. */
static char *put_digits(char *p, unsigned long v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

/* "YYYY-MM-DDTHH:MM:SS" for t seconds since the epoch, 19 bytes. Days are counted from
 * 0000-03-01 so that a leap day is the last day of its year: 400-year eras of 146097 days,
 * the year within the era, then months of 153 days per five from March. */
static char *put_datetime(char *p, int64_t t)
{
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    unsigned secs = (unsigned)(t - days * 86400);
    days += 719468; /* 0000-03-01 to 1970-01-01 */
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned day = doy - (153 * mp + 2) / 5 + 1;
    unsigned month = mp < 10 ? mp + 3 : mp - 9;
    int64_t year = (int64_t)yoe + era * 400 + (month <= 2);
    p = put_digits(p, year > 0 ? (unsigned long)year : 0, 4);
    *p++ = '-';
    p = put_digits(p, month, 2);
    *p++ = '-';
    p = put_digits(p, day, 2);
    *p++ = 'T';
    p = put_digits(p, secs / 3600, 2);
    *p++ = ':';
    p = put_digits(p, secs / 60 % 60, 2);
    *p++ = ':';
    return put_digits(p, secs % 60, 2);
}

static void copy_out(char *buf, size_t size, const char *s)
{
    if (size == 0)
        return;
    size_t n = strlen(s);
    if (n >= size)
        n = size - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
}

void format_rfc3339_nano(const struct timespec *ts, char *buf, size_t size)
{
    char tmp[32], *p = put_datetime(tmp, ts->tv_sec);
    *p++ = '.';
    p = put_digits(p, (unsigned long)ts->tv_nsec, 9);
    *p++ = 'Z';
    *p = '\0';
    copy_out(buf, size, tmp);
}

void format_rfc3339(uint64_t realtime_usec, char *buf, size_t size)
{
    char tmp[32], *p = put_datetime(tmp, (int64_t)(realtime_usec / USEC_PER_SEC));
    *p++ = 'Z';
    *p = '\0';
    copy_out(buf, size, tmp);
}

int log_file_open(struct log_file *lf, const char *path, uint64_t max_size, unsigned max_files,
                  pr_error **err)
{
    lf->path = xstrdup(path);
    lf->max_size = max_size;
    lf->max_files = max_files ? max_files : 1;
    lf->fd = -1;
    return log_file_reopen(lf, err);
}

/* A log is written only into a regular file with a single name, opened by its own name: not
 * through a symlink (it could point anywhere on the host), not a device or a FIFO (opening one
 * can block or act on hardware, and rotation would rename it away), not a hard link to a file
 * that lives elsewhere. An existing file is checked through an O_PATH descriptor, before it is
 * ever opened for writing, and then opened through that descriptor: what was checked is what
 * gets written. */
static int open_log_path(const char *path, pr_error **err)
{
    const int flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY;
    for (int attempt = 0;; attempt++) {
        int fd = open(path, flags | O_CREAT | O_EXCL | O_NOFOLLOW, 0640);
        if (fd >= 0)
            return fd;
        if (errno != EEXIST)
            return pr_err(err, errno, "open log `%s`", path);
        _cleanup_close_ int pfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (pfd < 0 && errno == ENOENT && attempt == 0)
            continue; /* removed meanwhile: create it */
        struct stat st;
        if (pfd < 0 || fstat(pfd, &st) < 0)
            return pr_err(err, errno, "open log `%s`", path);
        if (S_ISLNK(st.st_mode))
            return pr_err(err, 0, "log `%s` is a symbolic link: not written through", path);
        if (!S_ISREG(st.st_mode))
            return pr_err(err, 0, "log `%s` is not a regular file", path);
        if (st.st_nlink > 1)
            return pr_err(err, 0, "log `%s` has other hard links: not written into", path);
        char buf[FD_PATH_MAX];
        fd = open(fd_path(pfd, buf), flags);
        if (fd < 0)
            return pr_err(err, errno, "open log `%s`", path);
        return fd;
    }
}

int log_file_reopen(struct log_file *lf, pr_error **err)
{
    int fd = open_log_path(lf->path, err);
    if (fd < 0)
        return fd;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return pr_err(err, e, "stat log `%s`", lf->path);
    }
    lf->size = (uint64_t)st.st_size;
    lf->dev = st.st_dev;
    lf->ino = st.st_ino;
    if (lf->fd >= 0)
        close(lf->fd);
    lf->fd = fd;
    return 0;
}

void log_file_close(struct log_file *lf)
{
    if (lf->fd >= 0)
        close(lf->fd);
    lf->fd = -1;
    free(lf->path);
    lf->path = NULL;
    free(lf->pending);
    lf->pending = NULL;
    lf->n_pending = 0;
}

/* Rotation renames and deletes only what it made: the live file is still the one we write
 * (same inode at its path), the older ones are regular files or absent. */
static bool live_is_ours(const struct log_file *lf)
{
    struct stat st;
    return lstat(lf->path, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == lf->dev &&
           st.st_ino == lf->ino;
}

static bool regular_or_absent(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT;
    return S_ISREG(st.st_mode);
}

/* Something that is not ours sits among the rotated names: it is left alone, and the live file
 * starts over instead, so that the log stays within its size. Said once per file. */
static void rotate_in_place(struct log_file *lf, const char *why)
{
    if (!lf->rotation_refused)
        pr_warning("not rotating `%s`: %s; truncating it instead", lf->path, why);
    lf->rotation_refused = true;
    if (ftruncate(lf->fd, 0) == 0)
        lf->size = 0;
}

/* path.N-1 is dropped, the others move up one, the live file becomes path.1. */
static void log_rotate(struct log_file *lf)
{
    if (lf->max_files <= 1) {
        /* Nothing kept: start the file over. */
        if (ftruncate(lf->fd, 0) == 0)
            lf->size = 0;
        return;
    }
    if (!live_is_ours(lf)) {
        /* Moved or replaced from outside: write into what is at the path now, if it is a
         * proper log file; it rotates when it is full. */
        if (log_file_reopen(lf, NULL) == 0 && live_is_ours(lf))
            return;
        return rotate_in_place(lf, "the file at its path is not the one the shim writes");
    }
    for (unsigned i = 1; i < lf->max_files; i++) {
        _cleanup_free_ char *old = xasprintf("%s.%u", lf->path, i);
        if (!regular_or_absent(old))
            return rotate_in_place(lf, "an older file's name is taken by something else");
    }
    _cleanup_free_ char *last = xasprintf("%s.%u", lf->path, lf->max_files - 1);
    unlink(last);
    /* RENAME_NOREPLACE: whatever appeared at a target meanwhile is not overwritten. */
    for (unsigned i = lf->max_files - 1; i > 1; i--) {
        _cleanup_free_ char *from = xasprintf("%s.%u", lf->path, i - 1);
        _cleanup_free_ char *to = xasprintf("%s.%u", lf->path, i);
        if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) < 0 && errno != ENOENT)
            return rotate_in_place(lf, "an older file's name is taken by something else");
    }
    _cleanup_free_ char *first = xasprintf("%s.1", lf->path);
    if (renameat2(AT_FDCWD, lf->path, AT_FDCWD, first, RENAME_NOREPLACE) < 0) {
        pr_warning("rotating `%s`: %s", lf->path, pr_strerror(errno));
        return;
    }
    _cleanup_error_ pr_error *err = NULL;
    if (log_file_reopen(lf, &err) < 0)
        pr_warning("reopening after rotation: %s", err->msg);
}

static void add_pending(struct log_file *lf, const struct iovec *iov, int n)
{
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += iov[i].iov_len;
    lf->pending = xrealloc(lf->pending, lf->n_pending + len);
    for (int i = 0; i < n; i++) {
        memcpy(lf->pending + lf->n_pending, iov[i].iov_base, iov[i].iov_len);
        lf->n_pending += iov[i].iov_len;
    }
}

/* Writes the pieces in order; what the disk does not take stays pending. */
static int write_out(struct log_file *lf, struct iovec *iov, int n)
{
    for (;;) {
        while (n > 0 && iov->iov_len == 0) {
            iov++;
            n--;
        }
        if (n == 0)
            return 0;
        ssize_t w = writev(lf->fd, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            lf->last_errno = w < 0 ? errno : ENOSPC;
            add_pending(lf, iov, n);
            return -lf->last_errno;
        }
        lf->size += (uint64_t)w;
        for (; n > 0 && (size_t)w >= iov->iov_len; iov++, n--)
            w -= (ssize_t)iov->iov_len;
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
}

int log_file_flush_pending(struct log_file *lf)
{
    if (lf->n_pending == 0)
        return 0;
    char *buf = steal_pointer(&lf->pending);
    struct iovec iov = {.iov_base = buf, .iov_len = lf->n_pending};
    lf->n_pending = 0;
    int r = write_out(lf, &iov, 1);
    free(buf);
    if (r == 0)
        lf->last_errno = 0;
    return r;
}

/* One record as header, message and newline in a single writev: no copy of the message. */
static int emit_record(struct log_file *lf, const char *stream, char tag, const char *msg,
                       size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char head[64];
    format_rfc3339_nano(&ts, head, sizeof(head));
    size_t hl = strlen(head), sl = strlen(stream);
    head[hl++] = ' ';
    memcpy(head + hl, stream, sl);
    hl += sl;
    head[hl++] = ' ';
    head[hl++] = tag;
    head[hl++] = ' ';
    struct iovec iov[3] = {{.iov_base = head, .iov_len = hl},
                           {.iov_base = (char *)msg, .iov_len = len},
                           {.iov_base = (char *)"\n", .iov_len = 1}};
    size_t total = hl + len + 1;
    if (lf->n_pending > 0 || lf->fd < 0) {
        /* Keep the order: nothing overtakes what the disk refused. */
        if (lf->n_pending == 0)
            lf->last_errno = EBADF;
        add_pending(lf, iov, 3);
        return -lf->last_errno;
    }
    if (lf->max_size && lf->size > 0 && lf->size + total > lf->max_size)
        log_rotate(lf);
    return write_out(lf, iov, 3);
}

/* Whole lines go to the file straight from the read buffer; only the start of a line that
 * has not ended yet is kept, in a buffer that exists while it does. */
int log_feed(struct log_file *lf, struct log_stream *ls, const char *data, size_t len)
{
    int ret = 0, r;
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) : len;
        size_t room = LOG_LINE_MAX - ls->n_line;
        if (take > room)
            take = room;
        bool ends = nl && data + take == nl;
        if (!ends && take < room) {
            if (!ls->line)
                ls->line = xmalloc(LOG_LINE_MAX);
            memcpy(ls->line + ls->n_line, data, take);
            ls->n_line += take;
            break;
        }
        /* A line, or a buffer's worth of one: F, or P for a piece. A line's "\r\n" (every
         * line a terminal writes) ends it as "\n" does, as containerd logs it. */
        char tag = ends ? 'F' : 'P';
        const char *rec = data;
        size_t n = take;
        if (ls->n_line > 0) {
            memcpy(ls->line + ls->n_line, data, take);
            rec = ls->line;
            n = ls->n_line + take;
        }
        if (ends && n > 0 && rec[n - 1] == '\r')
            n--;
        r = emit_record(lf, ls->name, tag, rec, n);
        if (ls->n_line > 0)
            log_stream_free(ls);
        if (r < 0)
            ret = r;
        data += take + ends;
        len -= take + ends;
    }
    return ret;
}

int log_stream_flush(struct log_file *lf, struct log_stream *ls)
{
    if (ls->n_line == 0)
        return 0;
    int r = emit_record(lf, ls->name, 'F', ls->line, ls->n_line);
    log_stream_free(ls);
    return r;
}

void log_stream_free(struct log_stream *ls)
{
    free(ls->line);
    ls->line = NULL;
    ls->n_line = 0;
}
