/* SPDX-License-Identifier: Apache-2.0 */
/* Resource quantities: kube_quantity_parse, then kube_quantity_scaled at whole and milli units.
 * Rounding is up, so milli-units are never less than a thousand times the whole units minus one
 * unit's worth; a value that fits at milli scale fits at whole scale. */
#include "fuzz-common.h"
#include "kube/kube.h"
#include "util.h"

#include <errno.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 128)
        return -1;
    _cleanup_free_ char *s = fuzz_str(data, size);
    struct kube_quantity q;
    _cleanup_error_ pr_error *err = NULL;
    if (kube_quantity_parse(s, &q, &err) < 0) {
        if (!err)
            fuzz_fail("kube_quantity_parse failed without an error");
        return 0;
    }
    int64_t whole = 0, milli = 0;
    int rw = kube_quantity_scaled(&q, 0, &whole), rm = kube_quantity_scaled(&q, 3, &milli);
    if ((rw < 0 && rw != -ERANGE) || (rm < 0 && rm != -ERANGE))
        fuzz_fail("`%s`: an error other than ERANGE", s);
    if (rm == 0 && rw < 0)
        fuzz_fail("`%s`: fits in milli-units (%lld) but not in units", s, (long long)milli);
    if (rm == 0 && rw == 0 && milli >= 0 && (milli > whole * 1000 || milli <= (whole - 1) * 1000))
        fuzz_fail("`%s`: %lld units but %lld milli-units", s, (long long)whole,
                  (long long)milli);
    return 0;
}
