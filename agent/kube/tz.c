/* SPDX-License-Identifier: Apache-2.0 */
/* A CronJob's spec.timeZone: the IANA name checked as the API server checks it, the zone read
 * from the system's tz database (TZif, tzfile(5)) beneath /usr/share/zoneinfo, and the UTC
 * offset it gives at an instant, from its transitions and, past the last one, its footer's
 * POSIX TZ rule. The zone is data handed to the pure schedule function (cron.c), so that no
 * one sets TZ or calls localtime (the CRI server has threads). */
#include "kube.h"
#include "fs.h"
#include "util.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ZONEINFO_DIR "/usr/share/zoneinfo"
/* RFC 8536's range of UT offsets, in seconds east: under 25 hours west, under 26 east. The
 * schedule's walk relies on every offset (a footer's DST one too) being in it. */
#define TZ_OFFSET_MIN (-89999)
#define TZ_OFFSET_MAX 93599

static bool offset_ok(int64_t o)
{
    return o >= TZ_OFFSET_MIN && o <= TZ_OFFSET_MAX;
}
#ifndef RESOLVE_BENEATH
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_BENEATH       0x08
#endif

/* A date rule of a POSIX TZ string: Jn (1-365, no Feb 29), n (0-365) or Mm.w.d. */
struct tz_rule {
    char kind; /* 'J', 'N' or 'M' */
    int n, m, w, d;
    int32_t time; /* seconds after local midnight, may be negative or past a day */
};

struct kube_tz {
    size_t n;
    int64_t *at;     /* transitions, ascending */
    int32_t *off;    /* UTC offset (east positive) from at[i] on */
    int32_t off0;    /* before the first transition */
    bool has_footer; /* past the last transition, the POSIX rule */
    int32_t std_off, dst_off;
    bool has_dst;
    struct tz_rule start, end;
};

void kube_tz_free(struct kube_tz *z)
{
    if (!z)
        return;
    free(z->at);
    free(z->off);
    free(z);
}

/* The API server's check (validateTimeZone): not empty, not "Local", each '/'-separated part
 * of 1-14 characters of [A-Za-z0-9._+-], neither "." nor ".." nor starting with '-'. */
int kube_tz_name_check(const char *name, pr_error **err)
{
    if (!*name)
        return pr_err(err, 0, "timeZone must be nil or non-empty string");
    if (strlen(name) > KUBE_TZ_NAME_MAX)
        return pr_err(err, 0, "unknown time zone %s", name);
    for (const char *p = name;;) {
        size_t len = strcspn(p, "/");
        bool ok = len >= 1 && len <= 14 && *p != '-' && !(len == 1 && p[0] == '.') &&
                  !(len == 2 && p[0] == '.' && p[1] == '.');
        for (size_t i = 0; ok && i < len; i++)
            ok = isalnum((unsigned char)p[i]) || strchr("._-+", p[i]);
        if (!ok)
            return pr_err(err, 0, "unknown time zone %s", name);
        if (!p[len])
            break;
        p += len + 1;
    }
    if (strcasecmp(name, "Local") == 0)
        return pr_err(err, 0,
                      "timeZone must be an explicit time zone as defined in "
                      "https://www.iana.org/time-zones");
    return 0;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* ---- the footer: std offset [dst [offset] [,rule,rule]] ---- */

static bool parse_abbr(const char **s)
{
    const char *p = *s;
    if (*p == '<') {
        const char *e = strchr(p, '>');
        if (!e || e - p < 4)
            return false;
        *s = e + 1;
        return true;
    }
    while (isalpha((unsigned char)*p))
        p++;
    if (p - *s < 3)
        return false;
    *s = p;
    return true;
}

/* [+-]hh[:mm[:ss]], hours up to 167 (RFC 8536's extension). */
static bool parse_hms(const char **s, int32_t *out)
{
    const char *p = *s;
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    long v[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        if (i && *p != ':')
            break;
        if (i)
            p++;
        if (!isdigit((unsigned char)*p))
            return false;
        char *e;
        v[i] = strtol(p, &e, 10);
        if (e - p > 3)
            return false;
        p = e;
    }
    if (v[0] > 167 || v[1] > 59 || v[2] > 59)
        return false;
    *out = (int32_t)(sign * (v[0] * 3600 + v[1] * 60 + v[2]));
    *s = p;
    return true;
}

static bool parse_num(const char **s, int lo, int hi, int *out)
{
    if (!isdigit((unsigned char)**s))
        return false;
    char *e;
    long v = strtol(*s, &e, 10);
    if (e - *s > 3 || v < lo || v > hi)
        return false;
    *s = e;
    *out = (int)v;
    return true;
}

static bool parse_rule(const char **s, struct tz_rule *r)
{
    const char *p = *s;
    *r = (struct tz_rule){.time = 2 * 3600};
    if (*p == 'J') {
        p++;
        r->kind = 'J';
        if (!parse_num(&p, 1, 365, &r->n))
            return false;
    } else if (*p == 'M') {
        p++;
        r->kind = 'M';
        if (!parse_num(&p, 1, 12, &r->m) || *p++ != '.' || !parse_num(&p, 1, 5, &r->w) ||
            *p++ != '.' || !parse_num(&p, 0, 6, &r->d))
            return false;
    } else {
        r->kind = 'N';
        if (!parse_num(&p, 0, 365, &r->n))
            return false;
    }
    if (*p == '/') {
        p++;
        if (!parse_hms(&p, &r->time))
            return false;
    }
    *s = p;
    return true;
}

static bool parse_footer(const char *s, struct kube_tz *z)
{
    int32_t v;
    if (!parse_abbr(&s) || !parse_hms(&s, &v))
        return false;
    if (!offset_ok(-(int64_t)v))
        return false;
    z->std_off = -v; /* POSIX offsets are west-positive */
    if (!*s)
        return true;
    if (!parse_abbr(&s))
        return false;
    z->has_dst = true;
    z->dst_off = z->std_off + 3600;
    if (*s && *s != ',') {
        if (!parse_hms(&s, &v) || !offset_ok(-(int64_t)v))
            return false;
        z->dst_off = -v;
    }
    if (!offset_ok(z->dst_off))
        return false;
    /* Without rules POSIX leaves the dates to the implementation; zic always writes them. */
    if (*s++ != ',' || !parse_rule(&s, &z->start) || *s++ != ',' || !parse_rule(&s, &z->end))
        return false;
    return !*s;
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Seconds since the epoch of local midnight of the rule's day in year y, as if UTC. */
static int64_t rule_day(const struct tz_rule *r, int y)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = 0, .tm_mday = 1};
    int64_t jan1 = (int64_t)timegm(&tm);
    if (r->kind == 'J')
        return jan1 + (int64_t)(r->n - 1 + (leap(y) && r->n >= 60)) * 86400;
    if (r->kind == 'N')
        return jan1 + (int64_t)r->n * 86400;
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    tm = (struct tm){.tm_year = y - 1900, .tm_mon = r->m - 1, .tm_mday = 1};
    int64_t first = (int64_t)timegm(&tm);
    int wday1 = (int)(((first / 86400) % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
    int day = 1 + (r->d - wday1 + 7) % 7 + (r->w - 1) * 7;
    int len = mdays[r->m - 1] + (r->m == 2 && leap(y));
    while (day > len)
        day -= 7;
    return first + (int64_t)(day - 1) * 86400;
}

static int32_t footer_offset(const struct kube_tz *z, int64_t t)
{
    if (!z->has_dst)
        return z->std_off;
    struct tm tm;
    time_t lt = (time_t)(t + z->std_off);
    if (!gmtime_r(&lt, &tm))
        return z->std_off;
    int y = tm.tm_year + 1900;
    /* The start is given in standard time, the end in daylight time. */
    int64_t start = rule_day(&z->start, y) + z->start.time - z->std_off;
    int64_t end = rule_day(&z->end, y) + z->end.time - z->dst_off;
    bool dst = start < end ? t >= start && t < end : t >= start || t < end;
    return dst ? z->dst_off : z->std_off;
}

int32_t kube_tz_offset(const struct kube_tz *z, int64_t t)
{
    if (!z)
        return 0;
    if (!z->n || t < z->at[0])
        return z->n || !z->has_footer ? z->off0 : footer_offset(z, t);
    if (t >= z->at[z->n - 1] && z->has_footer)
        return footer_offset(z, t);
    size_t lo = 0, hi = z->n; /* at[lo] <= t < at[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->at[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return z->off[lo];
}

struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
};

static size_t block_len(const struct tzif_counts *c, size_t tsize)
{
    return (size_t)c->time * tsize + c->time + (size_t)c->type * 6 + c->chars +
           (size_t)c->leap * (tsize + 4) + c->isstd + c->isut;
}

static bool read_header(const unsigned char *p, size_t len, struct tzif_counts *c)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0)
        return false;
    *c = (struct tzif_counts){be32(p + 20), be32(p + 24), be32(p + 28),
                              be32(p + 32), be32(p + 36), be32(p + 40)};
    /* Each count is bounded by the file's size (KUBE_TZ_FILE_MAX), checked by the caller. */
    return c->type >= 1 && c->type <= 256 && c->time <= len && c->chars <= len && c->leap <= len &&
           c->isstd <= len && c->isut <= len;
}

int kube_tz_parse(const void *data, size_t len, struct kube_tz **out, pr_error **err)
{
    const unsigned char *p = data;
    struct tzif_counts c;
    *out = NULL;
    if (len > KUBE_TZ_FILE_MAX || !read_header(p, len, &c))
        return pr_err(err, 0, "malformed time zone information");
    size_t tsize = 4, off = 44;
    if (p[4] >= '2') {
        /* Version 2+: skip the 32-bit block to the 64-bit one. */
        size_t skip = block_len(&c, 4);
        if (skip > len - 44 || !read_header(p + 44 + skip, len - 44 - skip, &c))
            return pr_err(err, 0, "malformed time zone information");
        off = 44 + skip + 44;
        tsize = 8;
    }
    size_t blen = block_len(&c, tsize);
    if (blen > len - off)
        return pr_err(err, 0, "malformed time zone information");
    const unsigned char *times = p + off, *idx = times + (size_t)c.time * tsize,
                        *types = idx + c.time;
    struct kube_tz *z = xcalloc(1, sizeof(*z));
    z->n = c.time;
    z->at = xcalloc(c.time + 1, sizeof(*z->at));
    z->off = xcalloc(c.time + 1, sizeof(*z->off));
    int r = 0;
    for (size_t i = 0; i < c.time && r == 0; i++) {
        z->at[i] = tsize == 8 ? be64(times + i * 8) : (int32_t)be32(times + i * 4);
        if (idx[i] >= c.type || (i && z->at[i] <= z->at[i - 1]))
            r = -1;
        else
            z->off[i] = (int32_t)be32(types + (size_t)idx[i] * 6);
    }
    z->off0 = (int32_t)be32(types); /* type 0 is for times before the first transition */
    /* RFC 8536's range of offsets; the schedule's walk relies on them being under a day. */
    for (size_t i = 0; i < c.type && r == 0; i++) {
        int32_t o = (int32_t)be32(types + i * 6);
        if (!offset_ok(o))
            r = -1;
    }
    if (r == 0 && tsize == 8) {
        const char *f = (const char *)p + off + blen;
        size_t flen = len - off - blen;
        const char *nl = flen >= 2 && f[0] == '\n' ? memchr(f + 1, '\n', flen - 1) : NULL;
        size_t rlen = nl ? (size_t)(nl - f - 1) : 0;
        char rule[128];
        if (!nl || rlen >= sizeof(rule)) {
            r = -1;
        } else if (rlen) {
            memcpy(rule, f + 1, rlen);
            rule[rlen] = '\0';
            z->has_footer = parse_footer(rule, z);
            if (!z->has_footer)
                r = -1;
        }
    }
    if (r < 0) {
        kube_tz_free(z);
        return pr_err(err, 0, "malformed time zone information");
    }
    *out = z;
    return 0;
}

int kube_tz_load(const char *name, struct kube_tz **out, pr_error **err)
{
    *out = NULL;
    int r = kube_tz_name_check(name, err);
    if (r < 0)
        return r;
    /* Go's time package knows UTC without a file. */
    if (streq(name, "UTC"))
        return 0;
    _cleanup_close_ int dir = open(ZONEINFO_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return pr_err(err, 0, "unknown time zone %s (no %s: install tzdata)", name, ZONEINFO_DIR);
    /* Beneath the database: symlinks that stay inside (America/Jamaica) are followed. */
    _cleanup_close_ int fd = sys_openat2(dir, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0,
                                         RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
    if (fd < 0 && (errno == ENOSYS || errno == EPERM))
        return pr_err(err, errno, "timeZone %s: openat2 beneath %s", name, ZONEINFO_DIR);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return pr_err(err, 0, "unknown time zone %s", name);
    if (st.st_size > KUBE_TZ_FILE_MAX)
        return pr_err(err, 0, "malformed time zone information (%s: over %d bytes)", name,
                      KUBE_TZ_FILE_MAX);
    _cleanup_free_ unsigned char *buf = xmalloc(KUBE_TZ_FILE_MAX + 1);
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, KUBE_TZ_FILE_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return pr_err(err, errno, "reading time zone %s", name);
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > KUBE_TZ_FILE_MAX)
            return pr_err(err, 0, "malformed time zone information (%s: over %d bytes)", name,
                          KUBE_TZ_FILE_MAX);
    }
    return kube_tz_parse(buf, len, out, err);
}
