/* SPDX-License-Identifier: Apache-2.0 */
/* A CronJob's schedule: the standard five fields as Kubernetes parses them (robfig/cron's
 * standard parser: names, ranges, steps, lists, '?' and the @-descriptors), and the times
 * it names, in UTC or in a zone's wall-clock time (tz.c). */
#include "kube.h"
#include "util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The most minutes one search walks: five years of a schedule that never matches (Feb 30). */
#define CRON_SEARCH_YEARS 5

struct bounds {
    unsigned min, max;
    const char *const *names; /* lowercase, indexed from min */
};

static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                     "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const struct bounds field_bounds[5] = {
    {0, 59, NULL}, {0, 23, NULL}, {1, 31, NULL}, {1, 12, months}, {0, 6, days},
};
static const char *const field_names[5] = {"minute", "hour", "day of month", "month",
                                           "day of week"};

static int parse_number(const char *s, size_t len, const struct bounds *b, unsigned *out)
{
    if (!len || len > 9)
        return -1;
    char buf[10];
    memcpy(buf, s, len);
    buf[len] = '\0';
    for (size_t i = 0; b->names && b->names[i]; i++)
        if (strcasecmp(buf, b->names[i]) == 0) {
            *out = b->min + (unsigned)i;
            return 0;
        }
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)buf[i]))
            return -1;
    *out = (unsigned)strtoul(buf, NULL, 10);
    return 0;
}

/* One element of a list: *, ?, N, N-M, with /STEP; N/STEP means N-max/STEP. */
static int parse_range(const char *s, size_t len, int f, uint64_t *bits, bool *star, pr_error **err)
{
    const struct bounds *b = &field_bounds[f];
    const char *slash = memchr(s, '/', len);
    size_t rlen = slash ? (size_t)(slash - s) : len;
    unsigned start, end, step = 1;
    bool is_star = rlen == 1 && (s[0] == '*' || s[0] == '?');
    const char *dash = memchr(s, '-', rlen);
    if (is_star) {
        start = b->min;
        end = b->max;
    } else if (dash) {
        if (parse_number(s, (size_t)(dash - s), b, &start) < 0 ||
            parse_number(dash + 1, rlen - (size_t)(dash - s) - 1, b, &end) < 0)
            goto bad;
    } else {
        if (parse_number(s, rlen, b, &start) < 0)
            goto bad;
        end = start;
    }
    if (slash) {
        if (parse_number(slash + 1, len - rlen - 1, &(struct bounds){0, 0, NULL}, &step) < 0 ||
            step == 0)
            goto bad;
        if (!is_star && !dash)
            end = b->max;
    }
    if (start < b->min || end > b->max || start > end)
        return pr_err(err, 0, "%s: %.*s is beyond %u-%u", field_names[f], (int)len, s, b->min,
                      b->max);
    for (unsigned v = start; v <= end; v += step)
        *bits |= 1ULL << v;
    *star |= is_star && step == 1;
    return 0;
bad:
    return pr_err(err, 0, "%s: \"%.*s\" is not a number, a name, a range or a step", field_names[f],
                  (int)len, s);
}

static int parse_field(const char *s, size_t len, int f, uint64_t *bits, bool *star, pr_error **err)
{
    *bits = 0;
    *star = false;
    while (len) {
        const char *comma = memchr(s, ',', len);
        size_t l = comma ? (size_t)(comma - s) : len;
        int r = parse_range(s, l, f, bits, star, err);
        if (r < 0)
            return r;
        if (!comma)
            break;
        len -= l + 1;
        s = comma + 1;
        if (!len)
            return pr_err(err, 0, "%s: a list ends with ','", field_names[f]);
    }
    return 0;
}

int kube_cron_parse(const char *spec, struct kube_cron *out, pr_error **err)
{
    static const struct {
        const char *name, *fields;
    } descriptors[] = {
        {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
        {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
        {"@hourly", "0 * * * *"},
    };
    *out = (struct kube_cron){0};
    if (strlen(spec) > KUBE_CRON_MAX)
        return pr_err(err, 0, "longer than %d characters", KUBE_CRON_MAX);
    while (isspace((unsigned char)*spec))
        spec++;
    if (strncmp(spec, "TZ=", 3) == 0 || strncmp(spec, "CRON_TZ=", 8) == 0)
        return pr_err(err, 0, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
    if (spec[0] == '@') {
        for (size_t i = 0; i < ARRAY_SIZE(descriptors); i++)
            if (strcasecmp(spec, descriptors[i].name) == 0)
                return kube_cron_parse(descriptors[i].fields, out, err);
        /* robfig/cron takes "@every DURATION" (a fixed interval, not a time of day). */
        if (strncmp(spec, "@every ", 7) == 0)
            return pr_err_code(err, EOPNOTSUPP, "%s: @every is not supported by podrun", spec);
        return pr_err(err, 0, "unrecognized descriptor: %s", spec);
    }
    const char *p = spec;
    uint64_t bits[5];
    bool star[5];
    for (int f = 0; f < 5; f++) {
        while (isspace((unsigned char)*p))
            p++;
        size_t len = strcspn(p, " \t\n");
        if (!len)
            return pr_err(err, 0, "expected exactly 5 fields, found %d: %s", f, spec);
        int r = parse_field(p, len, f, &bits[f], &star[f], err);
        if (r < 0)
            return r;
        p += len;
    }
    while (isspace((unsigned char)*p))
        p++;
    if (*p)
        return pr_err(err, 0, "expected exactly 5 fields, found more: %s", spec);
    *out = (struct kube_cron){.minute = bits[0],
                              .hour = (uint32_t)bits[1],
                              .dom = (uint32_t)bits[2],
                              .month = (uint16_t)bits[3],
                              .dow = (uint8_t)bits[4],
                              .dom_star = star[2],
                              .dow_star = star[4]};
    return 0;
}

/* cron's rule: with either day field a plain '*', both must match; else either. */
static bool day_matches(const struct kube_cron *c, const struct tm *tm)
{
    bool dom = c->dom & (1u << tm->tm_mday), dow = c->dow & (1u << tm->tm_wday);
    return c->dom_star || c->dow_star ? dom && dow : dom || dow;
}

/* An instant with its wall-clock fields in the zone. */
struct local {
    int64_t t;
    struct tm tm;
};

static struct local local_at(const struct kube_tz *z, int64_t t)
{
    struct local l = {.t = t};
    time_t lt = (time_t)(t + kube_tz_offset(z, t));
    gmtime_r(&lt, &l.tm);
    return l;
}

/* Go's time.Date in the zone: wall-clock fields (normalised: the 32nd day is the next month's
 * first) to an instant by Go's two lookups: the offset at the wall time read as UTC, kept when
 * the instant it gives has that offset, else the instant's own. A wall time in a gap comes out
 * past it (02:30 in a 02:00->03:00 gap is 03:30). */
static int64_t date_in(const struct kube_tz *z, int y, int mon, int mday, int hour, int min)
{
    struct tm tm = {.tm_year = y, .tm_mon = mon, .tm_mday = mday, .tm_hour = hour, .tm_min = min};
    int64_t wall = (int64_t)timegm(&tm);
    int32_t off = kube_tz_offset(z, wall);
    int64_t t = wall - off;
    int32_t off2 = kube_tz_offset(z, t);
    return off2 == off ? t : wall - off2;
}

int64_t kube_cron_next_in(const struct kube_cron *c, const struct kube_tz *z, int64_t after)
{
    /* The next whole minute after `after`. */
    int64_t t = after < 0 ? 0 : (after / 60 + 1) * 60;
    struct local l = local_at(z, t);
    int limit = l.tm.tm_year + CRON_SEARCH_YEARS;
    /* Like robfig/cron: the first step down a field truncates the finer ones; days and months
     * step on the wall clock, hours and minutes in real time, so that an hour skipped by a DST
     * gap is never named and one repeated by an overlap is named twice. */
    bool truncated = false;
    /* Far more steps than a five-year walk takes (days step whole, hours only in a matching
     * day): a bound on whatever a zone's offsets do to the walk. */
    for (long steps = 0; l.tm.tm_year <= limit && steps < 2000000; l = local_at(z, t), steps++) {
        struct tm *tm = &l.tm;
        if (!(c->month & (1u << (tm->tm_mon + 1)))) {
            if (!truncated) {
                truncated = true;
                t = date_in(z, tm->tm_year, tm->tm_mon, 1, 0, 0);
                *tm = local_at(z, t).tm;
            }
            t = date_in(z, tm->tm_year, tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min);
        } else if (!day_matches(c, tm)) {
            if (!truncated) {
                truncated = true;
                t = date_in(z, tm->tm_year, tm->tm_mon, tm->tm_mday, 0, 0);
                *tm = local_at(z, t).tm;
            }
            t = date_in(z, tm->tm_year, tm->tm_mon, tm->tm_mday + 1, tm->tm_hour, tm->tm_min);
            /* A midnight moved by DST is put back on it: 23:00 forward, 01:00 back. */
            int h = local_at(z, t).tm.tm_hour;
            if (h)
                t += h > 12 ? (int64_t)(24 - h) * 3600 : -(int64_t)h * 3600;
        } else if (!(c->hour & (1u << tm->tm_hour))) {
            if (!truncated) {
                truncated = true;
                t = date_in(z, tm->tm_year, tm->tm_mon, tm->tm_mday, tm->tm_hour, 0);
            }
            t += 3600;
        } else if (!(c->minute & (1ULL << tm->tm_min))) {
            if (!truncated) {
                truncated = true;
                t -= t % 60;
            }
            t += 60;
        } else if (t <= after) {
            /* A truncation in a zone whose offsets are not whole minutes (LMT) or whose
             * transitions are odd can land at or before `after`: never an answer, or a
             * controller would run the same time again. */
            t = (t / 60 + 1) * 60;
        } else {
            return t;
        }
    }
    return -1;
}

int64_t kube_cron_next(const struct kube_cron *c, int64_t after)
{
    return kube_cron_next_in(c, NULL, after);
}

int64_t kube_cron_most_recent_in(const struct kube_cron *c, const struct kube_tz *z,
                                 int64_t earliest, int64_t now, int64_t *missed)
{
    int64_t last = -1, n = 0, t = kube_cron_next_in(c, z, earliest);
    for (; t >= 0 && t <= now && n <= KUBE_CRON_MISSED_MAX; t = kube_cron_next_in(c, z, t)) {
        last = t;
        n++;
    }
    if (n > KUBE_CRON_MISSED_MAX) {
        /* Too many to walk: the latest is found from a window before now, doubled until it
         * holds one. */
        for (int64_t w = 64; w < (int64_t)CRON_SEARCH_YEARS * 366 * 86400; w *= 2) {
            int64_t from = MAX(now - w, last);
            t = kube_cron_next_in(c, z, from);
            if (t >= 0 && t <= now)
                break;
        }
        for (; t >= 0 && t <= now; t = kube_cron_next_in(c, z, t))
            last = t;
    }
    if (missed)
        *missed = n;
    return last;
}

int64_t kube_cron_most_recent(const struct kube_cron *c, int64_t earliest, int64_t now,
                              int64_t *missed)
{
    return kube_cron_most_recent_in(c, NULL, earliest, now, missed);
}
