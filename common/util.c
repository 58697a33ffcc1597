#include "util.h"

#include <stdarg.h>

static void oom(void)
{
    static const char msg[] = "podrun: out of memory\n";
    ssize_t r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    (void)r;
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *xcalloc(size_t n, size_t m)
{
    void *p = calloc(n ? n : 1, m ? m : 1);
    if (!p)
        oom();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        oom();
    return p;
}

char *xstrdup(const char *s)
{
    char *r = strdup(s);
    if (!r)
        oom();
    return r;
}

char *xasprintf(const char *fmt, ...)
{
    char *r;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&r, fmt, ap) < 0)
        oom();
    va_end(ap);
    return r;
}

size_t strv_length(char *const *v)
{
    size_t n = 0;
    while (v && v[n])
        n++;
    return n;
}

void strv_consume(char ***v, char *s)
{
    size_t n = strv_length(*v);
    *v = xrealloc(*v, (n + 2) * sizeof(char *));
    (*v)[n] = s;
    (*v)[n + 1] = NULL;
}

void strv_extend(char ***v, const char *s)
{
    strv_consume(v, xstrdup(s));
}

bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}
