/* SPDX-License-Identifier: Apache-2.0 */
#include "ref.h"
#include "digest.h"
#include "util.h"

#include <ctype.h>
#include <stdlib.h>

void image_ref_clear(image_ref *r)
{
    free(r->domain);
    free(r->path);
    free(r->tag);
    free(r->digest);
    memset(r, 0, sizeof(*r));
}

/* The grammar is docker/distribution's reference package:
 *   name            := [domain '/'] path-component ['/' path-component]*   (at most 255 bytes)
 *   domain          := host [':' port]
 *   host            := domain-component ['.' domain-component]* | '[' IPv6 ']'
 *   domain-component:= [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
 *   path-component  := [a-z0-9]+ (separator [a-z0-9]+)*,  separator := [_.] | '__' | '-'+
 *   tag             := [\w][\w.-]{0,127}
 * plus a port of 1 to 65535, and sha256 digests only (what the store keeps). */

/* A first component is a registry when it looks like a host: a dot, a port, or localhost. */
static bool looks_like_domain(const char *s, size_t len)
{
    if (len == 9 && strncmp(s, "localhost", 9) == 0)
        return true;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '.' || s[i] == ':' || isupper((unsigned char)s[i]))
            return true;
    return false;
}

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool path_component_is_valid(const char *c, size_t len)
{
    size_t i = 0;
    for (;;) {
        if (i >= len || !is_lower_alnum(c[i]))
            return false;
        while (i < len && is_lower_alnum(c[i]))
            i++;
        if (i == len)
            return true;
        if (c[i] == '.')
            i++;
        else if (c[i] == '_')
            i += i + 1 < len && c[i + 1] == '_' ? 2 : 1;
        else if (c[i] == '-')
            while (i < len && c[i] == '-')
                i++;
        else
            return false;
    }
}

static bool path_is_valid(const char *p)
{
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (!path_component_is_valid(p, len))
            return false;
        if (!slash)
            return true;
        p = slash + 1;
    }
}

static bool domain_component_is_valid(const char *c, size_t len)
{
    if (len == 0 || !is_alnum(c[0]) || !is_alnum(c[len - 1]))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_alnum(c[i]) && c[i] != '-')
            return false;
    return true;
}

static bool port_is_valid(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > 5 || strspn(p, "0123456789") != n)
        return false;
    long v = strtol(p, NULL, 10);
    return v >= 1 && v <= 65535;
}

static bool domain_is_valid(const char *d)
{
    const char *end;
    if (d[0] == '[') {
        end = strchr(d, ']');
        if (!end || end == d + 1 ||
            strspn(d + 1, "0123456789abcdefABCDEF:.") != (size_t)(end - d - 1))
            return false;
        end++;
    } else {
        end = d + strcspn(d, ":");
        for (const char *c = d;;) {
            const char *dot = memchr(c, '.', (size_t)(end - c));
            const char *stop = dot ? dot : end;
            if (!domain_component_is_valid(c, (size_t)(stop - c)))
                return false;
            if (!dot)
                break;
            c = dot + 1;
        }
    }
    if (*end == '\0')
        return true;
    return *end == ':' && port_is_valid(end + 1);
}

static bool is_word(char c)
{
    return is_alnum(c) || c == '_';
}

static bool tag_is_valid(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > IMAGE_REF_TAG_MAX || !is_word(t[0]))
        return false;
    for (const char *c = t; *c; c++)
        if (!is_word(*c) && *c != '.' && *c != '-')
            return false;
    return true;
}

/* The length of the name once normalized: docker.io/ and library/ count. */
static size_t normalized_name_len(const image_ref *r)
{
    const char *domain = r->domain ? r->domain : "docker.io";
    bool library = streq(domain, "docker.io") && !strchr(r->path, '/');
    return strlen(domain) + 1 + (library ? strlen("library/") : 0) + strlen(r->path);
}

/* The input as an error message may show it: no control characters, at most 80 bytes. */
static char *printable(const char *s)
{
    size_t n = strlen(s);
    char *p = xasprintf("%.80s%s", s, n > 80 ? "..." : "");
    for (char *c = p; *c; c++)
        if ((unsigned char)*c < ' ' || *c == 0x7f)
            *c = '?';
    return p;
}

static int invalid(const char *s, const char *why, pr_error **err)
{
    _cleanup_free_ char *p = printable(s);
    return pr_err(err, 0, "invalid image reference `%s`%s%s", p, why ? ": " : "", why ? why : "");
}

int image_ref_parse(const char *s, image_ref *out, pr_error **err)
{
    if (strlen(s) > IMAGE_REF_NAME_MAX + 1 + IMAGE_REF_TAG_MAX + 1 + DIGEST_STR_LEN)
        return invalid(s, "too long", err);
    image_ref r = {0};
    _cleanup_free_ char *buf = xstrdup(s);
    char *at = strchr(buf, '@');
    if (at) {
        *at = '\0';
        if (!digest_is_valid(at + 1))
            return invalid(s, "bad digest (want sha256:<64 hex>)", err);
        r.digest = xstrdup(at + 1);
    }
    char *rest = buf;
    char *slash = strchr(rest, '/');
    if (slash && looks_like_domain(rest, (size_t)(slash - rest))) {
        r.domain = strndup(rest, (size_t)(slash - rest));
        rest = slash + 1;
    }
    const char *why = NULL;
    char *colon = strrchr(rest, ':');
    if (colon) {
        *colon = '\0';
        if (!tag_is_valid(colon + 1))
            why = "bad tag (want [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})";
        else
            r.tag = xstrdup(colon + 1);
    }
    if (!why && !path_is_valid(rest))
        why = "bad repository path (lowercase letters and digits, separated by `.`, `_`, `__`, "
              "`-` or `/`)";
    if (!why && r.domain && !domain_is_valid(r.domain))
        why = "bad registry name or port";
    if (!why) {
        r.path = xstrdup(rest);
        if (normalized_name_len(&r) > IMAGE_REF_NAME_MAX)
            why = "the name is longer than 255 bytes";
    }
    if (why) {
        image_ref_clear(&r);
        return invalid(s, why, err);
    }
    *out = r;
    return 0;
}

void image_ref_normalize(image_ref *r)
{
    if (!r->domain)
        r->domain = xstrdup("docker.io");
    if (streq(r->domain, "docker.io") && !strchr(r->path, '/')) {
        char *p = xasprintf("library/%s", r->path);
        free(r->path);
        r->path = p;
    }
    if (!r->tag && !r->digest)
        r->tag = xstrdup("latest");
}

char *image_ref_repository(const image_ref *r)
{
    return xasprintf("%s%s%s", r->domain ? r->domain : "", r->domain ? "/" : "", r->path);
}

char *image_ref_string(const image_ref *r)
{
    return xasprintf("%s%s%s%s%s%s%s", r->domain ? r->domain : "", r->domain ? "/" : "", r->path,
                     r->tag ? ":" : "", r->tag ? r->tag : "", r->digest ? "@" : "",
                     r->digest ? r->digest : "");
}

int image_ref_normalize_string(const char *s, char **out, pr_error **err)
{
    image_ref r;
    int ret = image_ref_parse(s, &r, err);
    if (ret < 0)
        return ret;
    image_ref_normalize(&r);
    *out = image_ref_string(&r);
    image_ref_clear(&r);
    return 0;
}

bool image_ref_is_short(const char *s)
{
    const char *slash = strchr(s, '/');
    return !slash || !looks_like_domain(s, (size_t)(slash - s));
}
