/* Container logs in the CRI format kubelet and crictl read:
 *   2016-10-06T00:17:09.669794202Z stdout F message
 * one record per line, P for a piece of a line longer than our buffer. Files rotate by size
 * (path -> path.1 -> ... path.N-1). When the disk refuses a write the records stay pending in
 * memory and the caller stops reading the container's pipe: the container blocks on a full
 * pipe instead of losing output. */
#include "shim.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void format_rfc3339_nano(const struct timespec *ts, char *buf, size_t size)
{
    struct tm tm;
    gmtime_r(&ts->tv_sec, &tm);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec);
}

void format_rfc3339(uint64_t realtime_usec, char *buf, size_t size)
{
    time_t t = (time_t)(realtime_usec / USEC_PER_SEC);
    struct tm tm;
    gmtime_r(&t, &tm);
    /* Not strftime: it reads the time zone database, which UTC never needs. */
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
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

int log_file_reopen(struct log_file *lf, pr_error **err)
{
    int fd = open(lf->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
    if (fd < 0)
        return pr_err(err, errno, "open log `%s`", lf->path);
    struct stat st;
    lf->size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
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

/* path.N-1 is dropped, the others move up one, the live file becomes path.1. */
static void log_rotate(struct log_file *lf)
{
    if (lf->max_files <= 1) {
        /* Nothing kept: start the file over. */
        if (ftruncate(lf->fd, 0) == 0)
            lf->size = 0;
        return;
    }
    _cleanup_free_ char *last = xasprintf("%s.%u", lf->path, lf->max_files - 1);
    unlink(last);
    for (unsigned i = lf->max_files - 1; i > 1; i--) {
        _cleanup_free_ char *from = xasprintf("%s.%u", lf->path, i - 1);
        _cleanup_free_ char *to = xasprintf("%s.%u", lf->path, i);
        rename(from, to);
    }
    _cleanup_free_ char *first = xasprintf("%s.1", lf->path);
    if (rename(lf->path, first) < 0) {
        pr_warning("rotating `%s`: %s", lf->path, strerror(errno));
        return;
    }
    if (log_file_reopen(lf, NULL) < 0)
        pr_warning("reopening `%s` after rotation: %s", lf->path, strerror(errno));
}

static void add_pending(struct log_file *lf, const char *data, size_t len)
{
    lf->pending = xrealloc(lf->pending, lf->n_pending + len);
    memcpy(lf->pending + lf->n_pending, data, len);
    lf->n_pending += len;
}

/* Writes what it can; the rest stays pending. */
static int write_out(struct log_file *lf, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(lf->fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            lf->last_errno = n < 0 ? errno : ENOSPC;
            add_pending(lf, data, len);
            return -lf->last_errno;
        }
        lf->size += (uint64_t)n;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int log_file_flush_pending(struct log_file *lf)
{
    if (lf->n_pending == 0)
        return 0;
    char *buf = steal_pointer(&lf->pending);
    size_t n = lf->n_pending;
    lf->n_pending = 0;
    int r = write_out(lf, buf, n);
    free(buf);
    if (r == 0)
        lf->last_errno = 0;
    return r;
}

static int emit_record(struct log_file *lf, const char *stream, char tag, const char *msg,
                       size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char head[80];
    format_rfc3339_nano(&ts, head, sizeof(head));
    size_t hl = strlen(head);
    hl += (size_t)snprintf(head + hl, sizeof(head) - hl, " %s %c ", stream, tag);
    size_t total = hl + len + 1;
    _cleanup_free_ char *rec = xmalloc(total);
    memcpy(rec, head, hl);
    memcpy(rec + hl, msg, len);
    rec[total - 1] = '\n';
    if (lf->n_pending > 0) {
        /* Keep the order: nothing overtakes what the disk refused. */
        add_pending(lf, rec, total);
        return -lf->last_errno;
    }
    if (lf->fd < 0) {
        lf->last_errno = EBADF;
        add_pending(lf, rec, total);
        return -EBADF;
    }
    if (lf->max_size && lf->size > 0 && lf->size + total > lf->max_size)
        log_rotate(lf);
    return write_out(lf, rec, total);
}

int log_feed(struct log_file *lf, struct log_stream *ls, const char *data, size_t len)
{
    int ret = 0, r;
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) : len;
        size_t room = LOG_LINE_MAX - ls->n_line;
        if (take > room)
            take = room;
        memcpy(ls->line + ls->n_line, data, take);
        ls->n_line += take;
        data += take;
        len -= take;
        if (nl && data == nl) {
            if ((r = emit_record(lf, ls->name, 'F', ls->line, ls->n_line)) < 0)
                ret = r;
            ls->n_line = 0;
            data++;
            len--;
        } else if (ls->n_line == LOG_LINE_MAX) {
            if ((r = emit_record(lf, ls->name, 'P', ls->line, ls->n_line)) < 0)
                ret = r;
            ls->n_line = 0;
        }
    }
    return ret;
}

int log_stream_flush(struct log_file *lf, struct log_stream *ls)
{
    if (ls->n_line == 0)
        return 0;
    int r = emit_record(lf, ls->name, 'F', ls->line, ls->n_line);
    ls->n_line = 0;
    return r;
}
