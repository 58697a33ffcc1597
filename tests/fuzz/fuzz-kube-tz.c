/* SPDX-License-Identifier: Apache-2.0 */
/* A CronJob's zone: kube_tz_parse on a TZif file's bytes (tzfile(5): transitions, types,
 * abbreviations, the POSIX rule after them), then what the controller does with a zone: its
 * offset at times around and far past the transitions, and a schedule's next run walked in it.
 * An offset must stay in RFC 8536's range, and the walk must end and move forward. */
#include "fuzz-common.h"
#include "kube/kube.h"
#include "util.h"

#define INPUT_MAX KUBE_TZ_FILE_MAX

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > INPUT_MAX)
        return -1;
    struct kube_tz *z = NULL;
    _cleanup_error_ pr_error *err = NULL;
    if (kube_tz_parse(data, size, &z, &err) < 0) {
        if (!err)
            fuzz_fail("kube_tz_parse failed without an error");
        return 0;
    }
    static const int64_t times[] = {INT32_MIN, -1, 0, 1000000000, 1774746000, 2208988800LL,
                                    4102444800LL, 253402300799LL};
    for (size_t i = 0; i < ARRAY_SIZE(times); i++) {
        int32_t off = kube_tz_offset(z, times[i]);
        if (off <= -25 * 3600 || off >= 26 * 3600)
            fuzz_fail("offset %d at %lld is out of range", off, (long long)times[i]);
    }
    static const char *const specs[] = {"30 1 * * *", "0 0 29 2 *", "*/7 2-3 * * 0"};
    for (size_t i = 0; i < ARRAY_SIZE(specs); i++) {
        struct kube_cron c;
        _cleanup_error_ pr_error *e = NULL;
        if (kube_cron_parse(specs[i], &c, &e) < 0)
            fuzz_fail("`%s` does not parse", specs[i]);
        int64_t after = 1774746000;
        int64_t next = kube_cron_next_in(&c, z, after);
        if (next != -1 && next <= after)
            fuzz_fail("`%s`: next %lld is not after %lld", specs[i], (long long)next,
                      (long long)after);
    }
    kube_tz_free(z);
    return 0;
}
