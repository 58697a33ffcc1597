/* SPDX-License-Identifier: Apache-2.0 */
#include "fuzz-common.h"
#include "fs.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>

static char *scratch;

static void remove_scratch(void)
{
    if (scratch)
        rm_rf(scratch);
}

const char *fuzz_scratch(void)
{
    if (scratch)
        return scratch;
    const char *tmp = getenv("TMPDIR");
    char *tmpl = xasprintf("%s/podrun-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(tmpl))
        fuzz_fail("mkdtemp `%s`: %m", tmpl);
    scratch = tmpl;
    atexit(remove_scratch);
    return scratch;
}

char *fuzz_str(const uint8_t *data, size_t size)
{
    char *s = xmalloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

void fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        fuzz_fail("open `%s`: %m", path);
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n <= 0)
            fuzz_fail("write `%s`: %m", path);
        data += n;
        size -= (size_t)n;
    }
    close(fd);
}

int fuzz_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        fuzz_fail("opendir /proc/self/fd: %m");
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own fd */
}

void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}
