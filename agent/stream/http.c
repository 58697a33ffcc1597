/* SPDX-License-Identifier: Apache-2.0 */
/* The one HTTP request a streaming connection starts with: its head, parsed in place. */
#include "internal.h"
#include "util.h"

#include <strings.h>

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

int http_parse_head(char *buf, struct http_head *h)
{
    *h = (struct http_head){0};
    char *line = buf, *next = strstr(line, "\r\n");
    if (next)
        *next = '\0';
    /* METHOD SP TARGET SP HTTP/1.1 */
    char *sp1 = strchr(line, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp1 || !sp2 || sp1 == line || sp2 == sp1 + 1 || strchr(sp2 + 1, ' '))
        return -EPROTO;
    *sp1 = *sp2 = '\0';
    if (!streq(sp2 + 1, "HTTP/1.1") || sp1[1] != '/')
        return -EPROTO;
    h->method = line;
    h->target = sp1 + 1;
    while (next) {
        line = next + 2;
        next = strstr(line, "\r\n");
        if (next)
            *next = '\0';
        if (!*line)
            break;
        char *colon = strchr(line, ':');
        if (!colon || colon == line || h->n >= HTTP_HEADERS_MAX)
            return -EPROTO;
        *colon = '\0';
        for (char *p = line; *p; p++)
            if (*p <= ' ' || *p == 0x7f)
                return -EPROTO;
        h->h[h->n].name = line;
        h->h[h->n].value = trim(colon + 1);
        h->n++;
    }
    return 0;
}

const char *http_header(const struct http_head *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcasecmp(h->h[i].name, name) == 0)
            return h->h[i].value;
    return NULL;
}

bool http_list_has(const char *value, const char *token)
{
    size_t tl = strlen(token);
    for (const char *p = value; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *e = end;
        while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if ((size_t)(e - p) == tl && strncasecmp(p, token, tl) == 0)
            return true;
        p = end;
    }
    return false;
}

bool http_headers_have(const struct http_head *h, const char *name, const char *token)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcasecmp(h->h[i].name, name) == 0 && http_list_has(h->h[i].value, token))
            return true;
    return false;
}
