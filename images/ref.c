#include "ref.h"
#include "digest.h"
#include "util.h"

#include <ctype.h>

void image_ref_clear(image_ref *r)
{
    free(r->domain);
    free(r->path);
    free(r->tag);
    free(r->digest);
    memset(r, 0, sizeof(*r));
}

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

static bool path_is_valid(const char *p)
{
    if (!*p || *p == '/' || p[strlen(p) - 1] == '/' || strstr(p, "//"))
        return false;
    for (const char *c = p; *c; c++)
        if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || strchr("._-/", *c)))
            return false;
    return true;
}

static bool tag_is_valid(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > 128 || t[0] == '.' || t[0] == '-')
        return false;
    for (const char *c = t; *c; c++)
        if (!(isalnum((unsigned char)*c) || strchr("._-", *c)))
            return false;
    return true;
}

int image_ref_parse(const char *s, image_ref *out, pr_error **err)
{
    image_ref r = {0};
    _cleanup_free_ char *buf = xstrdup(s);
    char *at = strchr(buf, '@');
    if (at) {
        *at = '\0';
        if (!digest_is_valid(at + 1)) {
            image_ref_clear(&r);
            return pr_err(err, 0, "invalid image reference `%s`: bad digest", s);
        }
        r.digest = xstrdup(at + 1);
    }
    char *rest = buf;
    char *slash = strchr(rest, '/');
    if (slash && looks_like_domain(rest, (size_t)(slash - rest))) {
        r.domain = strndup(rest, (size_t)(slash - rest));
        rest = slash + 1;
    }
    char *colon = strrchr(rest, ':');
    if (colon) {
        *colon = '\0';
        if (!tag_is_valid(colon + 1)) {
            image_ref_clear(&r);
            return pr_err(err, 0, "invalid image reference `%s`: bad tag", s);
        }
        r.tag = xstrdup(colon + 1);
    }
    if (!path_is_valid(rest)) {
        image_ref_clear(&r);
        return pr_err(err, 0, "invalid image reference `%s`", s);
    }
    r.path = xstrdup(rest);
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
