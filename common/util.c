/* SPDX-License-Identifier: Apache-2.0 */
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

char *xstrndup(const char *s, size_t n)
{
    char *r = strndup(s, n);
    if (!r)
        oom();
    return r;
}

size_t format_ull(char *buf, unsigned long long v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return n;
}

size_t format_ll(char *buf, long long v)
{
    if (v >= 0)
        return format_ull(buf, (unsigned long long)v);
    buf[0] = '-';
    return 1 + format_ull(buf + 1, -(unsigned long long)v);
}

struct strbuf {
    char *s;
    size_t n, cap;
};

static void strbuf_add(struct strbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

/* The conversions our messages and paths use, with no flags or width: %s %.*s %c %d %i %u and
 * l, ll, z sizes. Returns false on anything else, for vasprintf to do instead. */
static bool format_plain(struct strbuf *b, const char *fmt, va_list ap)
{
    strbuf_add(b, "", 0);
    while (*fmt) {
        const char *pct = strchrnul(fmt, '%');
        strbuf_add(b, fmt, (size_t)(pct - fmt));
        if (!*pct)
            break;
        const char *f = pct + 1;
        int prec = -1, size = 0; /* 1: l, 2: ll, 3: z */
        if (f[0] == '.' && f[1] == '*' && f[2] == 's') {
            prec = va_arg(ap, int);
            f += 2;
        }
        if (*f == 'l') {
            size = 1;
            if (*++f == 'l') {
                size = 2;
                f++;
            }
        } else if (*f == 'z') {
            size = 3;
            f++;
        }
        char num[24];
        switch (*f) {
        case '%':
            if (size)
                return false;
            strbuf_add(b, "%", 1);
            break;
        case 's': {
            if (size)
                return false;
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = prec < 0 || prec >= 6 ? "(null)" : "";
            strbuf_add(b, s, prec < 0 ? strlen(s) : strnlen(s, (size_t)prec));
            break;
        }
        case 'c': {
            if (size)
                return false;
            char c = (char)va_arg(ap, int);
            strbuf_add(b, &c, 1);
            break;
        }
        case 'd':
        case 'i': {
            long long v = size == 0   ? va_arg(ap, int)
                          : size == 1 ? va_arg(ap, long)
                          : size == 2 ? va_arg(ap, long long)
                                      : va_arg(ap, ssize_t);
            strbuf_add(b, num, format_ll(num, v));
            break;
        }
        case 'u': {
            unsigned long long v = size == 0   ? va_arg(ap, unsigned)
                                   : size == 1 ? va_arg(ap, unsigned long)
                                   : size == 2 ? va_arg(ap, unsigned long long)
                                               : va_arg(ap, size_t);
            strbuf_add(b, num, format_ull(num, v));
            break;
        }
        default:
            return false;
        }
        fmt = f + 1;
    }
    return true;
}

/* Plain formats are done here rather than by vasprintf, with the same output. A printf call
 * runs code from several distant parts of libc (vfprintf, libio, its jump tables), and every
 * part a long-lived daemon touches stays mapped with the pages around it: for the shim that
 * was a fifth of its resident set, spent on paths and messages. */
char *xvasprintf(const char *fmt, va_list ap)
{
    struct strbuf b = {0};
    va_list aq;
    va_copy(aq, ap);
    bool done = format_plain(&b, fmt, aq);
    va_end(aq);
    if (done)
        return b.s;
    free(b.s);
    char *r;
    if (vasprintf(&r, fmt, ap) < 0)
        oom();
    return r;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *r = xvasprintf(fmt, ap);
    va_end(ap);
    return r;
}

void strv_free(char **v)
{
    strv_freep(&v);
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
