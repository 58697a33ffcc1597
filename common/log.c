/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"
#include "util.h"

#include <fcntl.h>
#include <stdarg.h>
#include <time.h>

static int log_fd = -1;
static bool log_json;
static bool log_debug;

static const char *level_name[] = {"error", "warning", "info", "debug"};

int pr_log_init(const char *path, bool json, bool debug)
{
    log_json = json;
    log_debug = debug;
    if (path && *path) {
        log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (log_fd < 0)
            return -errno;
    }
    return 0;
}

int pr_log_fd(void)
{
    return log_fd;
}

void pr_log_close(void)
{
    if (log_fd >= 0)
        close(log_fd);
    log_fd = -1;
}

static void json_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
}

static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        buf += w;
        len -= (size_t)w;
    }
}

void pr_log(enum pr_log_level level, const char *fmt, ...)
{
    if (level == PR_LOG_DEBUG && !log_debug)
        return;
    int saved = errno;
    _cleanup_free_ char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (!msg)
        return;

    char stamp[64];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + n, sizeof(stamp) - n, ".%09ldZ", ts.tv_nsec);

    if (log_fd >= 0) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (f) {
            if (log_json) {
                fprintf(f, "{\"level\":\"%s\",\"msg\":\"", level_name[level]);
                json_escape(f, msg);
                fprintf(f, "\",\"time\":\"%s\"}\n", stamp);
            } else {
                fprintf(f, "time=\"%s\" level=%s msg=\"", stamp, level_name[level]);
                json_escape(f, msg);
                fputs("\"\n", f);
            }
            fclose(f);
            write_all(log_fd, buf, len);
            free(buf);
        }
    }
    /* runc prints errors to stderr as well, whatever the log file; callers show that text. */
    if (level == PR_LOG_ERROR || level == PR_LOG_WARNING || log_fd < 0) {
        char *line = xasprintf("%s\n", msg);
        write_all(STDERR_FILENO, line, strlen(line));
        free(line);
    }
    errno = saved;
}
