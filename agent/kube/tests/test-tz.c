/* SPDX-License-Identifier: Apache-2.0 */
/* A CronJob's spec.timeZone: the name's check, the TZif reader and the schedule's times in
 * real zones across their DST switches (agent/kube/tz.c, kube_cron_next_in in cron.c). The
 * expected instants are robfig/cron's (its spec_test.go for New York 2012) and the zones'
 * published offsets. */
#include "kube/kube.h"
#include "tests/lib/unit.h"
#include "util.h"

#include <stdio.h>
#include <time.h>

/* An instant given as a wall-clock time at a UTC offset in minutes: at(2012,3,11,1,0,-300). */
static int64_t at(int y, int mo, int d, int h, int mi, int off_min)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm) - (int64_t)off_min * 60;
}

static struct kube_tz *zone(const char *name)
{
    struct kube_tz *z = NULL;
    pr_error *err = NULL;
    if (kube_tz_load(name, &z, &err) < 0)
        fprintf(stderr, "# %s: %s\n", name, err->msg);
    pr_error_free(err);
    return z;
}

static int64_t next_in(const char *spec, const struct kube_tz *z, int64_t after)
{
    struct kube_cron c;
    pr_error *err = NULL;
    if (kube_cron_parse(spec, &c, &err) < 0) {
        pr_error_free(err);
        return -2;
    }
    return kube_cron_next_in(&c, z, after);
}

static void load_refused(const char *name, const char *want)
{
    struct kube_tz *z = NULL;
    pr_error *err = NULL;
    CHECK(kube_tz_load(name, &z, &err) < 0);
    CHECK(z == NULL);
    CHECK(err && strstr(err->msg, want));
    if (err && !strstr(err->msg, want))
        fprintf(stderr, "  %s: got: %s\n  want: %s\n", name, err->msg, want);
    pr_error_free(err);
}

static void test_names_checked_as_the_api_server_does(void)
{
    load_refused("", "timeZone must be nil or non-empty string");
    load_refused("Local", "timeZone must be an explicit time zone");
    load_refused("local", "timeZone must be an explicit time zone");
    load_refused("Mars/Olympus_Mons", "unknown time zone Mars/Olympus_Mons");
    load_refused("../../../etc/passwd", "unknown time zone ../../../etc/passwd");
    load_refused("Europe/../../../etc/passwd", "unknown time zone");
    load_refused("/etc/localtime", "unknown time zone /etc/localtime");
    load_refused("Europe//Berlin", "unknown time zone");
    load_refused("Europe/Berlin/", "unknown time zone");
    load_refused("-Europe", "unknown time zone");
    load_refused("Europe/Berlin_is_too_long", "unknown time zone");
    load_refused("Europe/Ber lin", "unknown time zone");
    /* A directory, and a file of the database that is no zone. */
    load_refused("Europe", "unknown time zone Europe");
    load_refused("zone.tab", "malformed time zone information");
    struct kube_tz *z = NULL;
    pr_error *err = NULL;
    CHECK(kube_tz_load("UTC", &z, &err) == 0 && z == NULL);
    CHECK(kube_tz_load("Etc/UTC", &z, &err) == 0 && z != NULL);
    CHECK(kube_tz_offset(z, at(2026, 7, 1, 0, 0, 0)) == 0);
    kube_tz_free(z);
    /* Legacy names with digits and '+' pass (Etc/GMT+5 is UTC-5). */
    CHECK(kube_tz_load("Etc/GMT+5", &z, &err) == 0 && z != NULL);
    CHECK(kube_tz_offset(z, at(2026, 7, 1, 0, 0, 0)) == -5 * 3600);
    kube_tz_free(z);
    /* A symlink that stays in the database (Debian: Jamaica -> America/Jamaica). */
    CHECK(kube_tz_load("Jamaica", &z, &err) == 0 && z != NULL);
    kube_tz_free(z);
    pr_error_free(err);
}

static void test_berlin_across_its_switches(void)
{
    struct kube_tz *z = zone("Europe/Berlin");
    CHECK(z != NULL);
    CHECK(next_in("0 9 * * *", z, at(2026, 1, 15, 0, 0, 0)) == at(2026, 1, 15, 9, 0, 60));
    CHECK(next_in("0 9 * * *", z, at(2026, 7, 15, 0, 0, 0)) == at(2026, 7, 15, 9, 0, 120));
    /* 29 March 2026, 02:00 CET -> 03:00 CEST: 02:30 does not exist, that day is skipped. */
    CHECK(next_in("30 2 * * *", z, at(2026, 3, 28, 12, 0, 0)) == at(2026, 3, 30, 2, 30, 120));
    /* Hourly: 01:00 CET is followed by 03:00 CEST, one real hour later. */
    CHECK(next_in("0 * * * *", z, at(2026, 3, 29, 1, 0, 60)) == at(2026, 3, 29, 3, 0, 120));
    /* Midnight the day after the short day is still midnight. */
    CHECK(next_in("0 0 * * *", z, at(2026, 3, 29, 1, 0, 60)) == at(2026, 3, 30, 0, 0, 120));
    /* 25 October 2026, 03:00 CEST -> 02:00 CET: 02:30 happens twice, robfig/cron names both. */
    int64_t first = next_in("30 2 * * *", z, at(2026, 10, 24, 12, 0, 0));
    CHECK(first == at(2026, 10, 25, 2, 30, 120));
    int64_t second = next_in("30 2 * * *", z, first);
    CHECK(second == at(2026, 10, 25, 2, 30, 60));
    CHECK(next_in("30 2 * * *", z, second) == at(2026, 10, 26, 2, 30, 60));
    /* Past the file's transitions (2037), the footer's rule: last Sunday of March 2040 is the
     * 25th. */
    CHECK(next_in("0 12 * * *", z, at(2040, 3, 24, 0, 0, 0)) == at(2040, 3, 24, 12, 0, 60));
    CHECK(next_in("0 12 * * *", z, at(2040, 3, 25, 0, 0, 0)) == at(2040, 3, 25, 12, 0, 120));
    CHECK(next_in("0 12 * * *", z, at(2040, 10, 28, 0, 0, 0)) == at(2040, 10, 28, 12, 0, 60));
    kube_tz_free(z);
}

/* robfig/cron's own vectors (spec_test.go, TZ=America/New_York, 2012). */
static void test_new_york_as_robfig_cron(void)
{
    struct kube_tz *z = zone("America/New_York");
    CHECK(z != NULL);
    CHECK(next_in("0 * * * *", z, at(2012, 3, 11, 0, 0, -300)) == at(2012, 3, 11, 1, 0, -300));
    CHECK(next_in("0 * * * *", z, at(2012, 3, 11, 1, 0, -300)) == at(2012, 3, 11, 3, 0, -240));
    CHECK(next_in("0 1 * * *", z, at(2012, 3, 11, 0, 0, -300)) == at(2012, 3, 11, 1, 0, -300));
    CHECK(next_in("0 1 * * *", z, at(2012, 3, 11, 1, 0, -300)) == at(2012, 3, 12, 1, 0, -240));
    /* 2am nightly job (skipped) */
    CHECK(next_in("0 2 * * *", z, at(2012, 3, 11, 0, 0, -300)) == at(2012, 3, 12, 2, 0, -240));
    /* 2am EDT -> 1am EST */
    CHECK(next_in("30 2 04 Nov ?", z, at(2012, 11, 4, 0, 0, -240)) == at(2012, 11, 4, 2, 30, -300));
    CHECK(next_in("30 1 04 Nov ?", z, at(2012, 11, 4, 1, 45, -240)) ==
          at(2012, 11, 4, 1, 30, -300));
    CHECK(next_in("0 * * * *", z, at(2012, 11, 4, 0, 0, -240)) == at(2012, 11, 4, 1, 0, -240));
    CHECK(next_in("0 * * * *", z, at(2012, 11, 4, 1, 0, -240)) == at(2012, 11, 4, 1, 0, -300));
    CHECK(next_in("0 * * * *", z, at(2012, 11, 4, 1, 0, -300)) == at(2012, 11, 4, 2, 0, -300));
    /* The most recent time over the overlap counts both 01:30s. */
    struct kube_cron c;
    pr_error *err = NULL;
    int64_t missed = 0;
    CHECK(kube_cron_parse("30 1 * * *", &c, &err) == 0);
    CHECK(kube_cron_most_recent_in(&c, z, at(2012, 11, 4, 0, 0, -240), at(2012, 11, 4, 3, 0, -300),
                                   &missed) == at(2012, 11, 4, 1, 30, -300));
    CHECK(missed == 2);
    kube_tz_free(z);
}

static void test_half_hour_zones(void)
{
    struct kube_tz *z = zone("Asia/Kolkata");
    CHECK(z != NULL);
    CHECK(next_in("0 9 * * *", z, at(2026, 12, 6, 0, 0, 0)) == at(2026, 12, 6, 9, 0, 330));
    CHECK(next_in("*/15 * * * *", z, at(2026, 12, 6, 3, 29, 0)) == at(2026, 12, 6, 9, 0, 330));
    kube_tz_free(z);
    /* Lord Howe: +10:30, +11:00 in summer; its DST is half an hour. */
    z = zone("Australia/Lord_Howe");
    CHECK(z != NULL);
    CHECK(next_in("0 12 * * *", z, at(2026, 1, 10, 0, 0, 0)) == at(2026, 1, 10, 12, 0, 660));
    CHECK(next_in("0 12 * * *", z, at(2026, 7, 9, 12, 0, 0)) == at(2026, 7, 10, 12, 0, 630));
    /* 5 April 2026, 02:00 -> 01:30: 01:45 happens twice. */
    int64_t first = next_in("45 1 * * *", z, at(2026, 4, 4, 0, 0, 0));
    CHECK(first == at(2026, 4, 5, 1, 45, 660));
    CHECK(next_in("45 1 * * *", z, first) == at(2026, 4, 5, 1, 45, 630));
    kube_tz_free(z);
}

/* A version 2 file with no transitions and only the footer (as zic -b slim writes). */
static size_t slim_tzif(unsigned char *buf, const char *footer)
{
    size_t n = 0;
    for (int block = 0; block < 2; block++) {
        memcpy(buf + n, "TZif2", 5);
        memset(buf + n + 5, 0, 39);
        buf[n + 39] = 1; /* typecnt */
        buf[n + 43] = 4; /* charcnt */
        n += 44;
        memcpy(buf + n, "\xff\xff\xb9\xb0\0\0EST", 10); /* -18000, std, "EST\0" */
        n += 10;
    }
    n += (size_t)sprintf((char *)buf + n, "\n%s\n", footer);
    return n;
}

static void test_footer_only_and_malformed_files(void)
{
    unsigned char buf[256];
    struct kube_tz *z = NULL;
    pr_error *err = NULL;
    size_t n = slim_tzif(buf, "EST5EDT,M3.2.0,M11.1.0");
    CHECK(kube_tz_parse(buf, n, &z, &err) == 0 && z != NULL);
    CHECK(next_in("0 2 * * *", z, at(2012, 3, 11, 0, 0, -300)) == at(2012, 3, 12, 2, 0, -240));
    CHECK(next_in("30 1 04 Nov ?", z, at(2012, 11, 4, 1, 45, -240)) ==
          at(2012, 11, 4, 1, 30, -300));
    kube_tz_free(z);
    /* Every truncation of a real file is refused, never read past its end. */
    FILE *f = fopen("/usr/share/zoneinfo/Europe/Berlin", "rb");
    CHECK(f != NULL);
    static unsigned char real[KUBE_TZ_FILE_MAX];
    size_t len = f ? fread(real, 1, sizeof(real), f) : 0;
    if (f)
        fclose(f);
    CHECK(kube_tz_parse(real, len, &z, &err) == 0);
    kube_tz_free(z);
    size_t refused = 0;
    for (size_t cut = 0; cut + 1 < len; cut++) {
        z = NULL;
        if (kube_tz_parse(real, cut, &z, &err) < 0)
            refused++;
        kube_tz_free(z);
        pr_error_free(err);
        err = NULL;
    }
    CHECK(refused == len - 1);
    /* A footer that is no POSIX TZ rule. */
    n = slim_tzif(buf, "EST5EDT,M13.2.0,M11.1.0");
    CHECK(kube_tz_parse(buf, n, &z, &err) < 0);
    CHECK(err && strstr(err->msg, "malformed time zone information"));
    pr_error_free(err);
}

int main(void)
{
    RUN(test_names_checked_as_the_api_server_does);
    RUN(test_berlin_across_its_switches);
    RUN(test_new_york_as_robfig_cron);
    RUN(test_half_hour_zones);
    RUN(test_footer_only_and_malformed_files);
    UNIT_DONE();
}
