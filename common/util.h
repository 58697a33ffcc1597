/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers every part uses: scope-bound cleanup and a few macros. */
#ifndef PODRUN_UTIL_H
#define PODRUN_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "unused": a variable that only takes ownership, to free it at the end of the scope, is used by
 * its cleanup; GCC counts that as a use, clang's -Wunused-variable does not. */
#define _cleanup_(f) __attribute__((cleanup(f), unused))

static inline void freep(void *p)
{
    free(*(void **)p);
}

static inline void closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}

static inline void fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}

static inline void closedirp(DIR **d)
{
    if (*d)
        closedir(*d);
}

static inline void strv_freep(char ***v)
{
    if (*v) {
        for (char **p = *v; *p; p++)
            free(*p);
        free(*v);
    }
}

#define _cleanup_free_   _cleanup_(freep)
#define _cleanup_close_  _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_dir_    _cleanup_(closedirp)
#define _cleanup_strv_   _cleanup_(strv_freep)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* As <sys/param.h> spells them, so that including it too is no redefinition. */
// clang-format off
#ifndef MIN
#define MIN(a,b) (((a)<(b))?(a):(b))
#endif
#ifndef MAX
#define MAX(a,b) (((a)>(b))?(a):(b))
#endif
// clang-format on
#define streq(a, b) (strcmp((a), (b)) == 0)

/* Hand ownership of a pointer or fd out of a cleanup-scoped variable. */
#define steal_pointer(pp)                                                                          \
    ({                                                                                             \
        __typeof__(*(pp)) _tmp = *(pp);                                                            \
        *(pp) = NULL;                                                                              \
        _tmp;                                                                                      \
    })

static inline int steal_fd(int *fd)
{
    int r = *fd;
    *fd = -1;
    return r;
}

/* Abort on allocation failure: a runtime that cannot allocate a few bytes cannot do
 * anything useful, and every caller checking would hide the real logic. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* Decimal digits of v into buf (at least 21 bytes), NUL-terminated; returns their number. */
size_t format_ull(char *buf, unsigned long long v);
size_t format_ll(char *buf, long long v);

void strv_free(char **v);
size_t strv_length(char *const *v);
/* Append to a NULL-terminated vector (*v may be NULL): a copy of s, or s itself. */
void strv_extend(char ***v, const char *s);
void strv_consume(char ***v, char *s);
bool has_prefix(const char *s, const char *prefix);

#endif
