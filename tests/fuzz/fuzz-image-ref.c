/* SPDX-License-Identifier: Apache-2.0 */
/* Image references through image_ref_parse, image_ref_normalize and image_ref_string. A
 * reference that parses must normalize to a string that parses again to the same string: the
 * store keys images by it. */
#include "fuzz-common.h"
#include "ref.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return -1;
    _cleanup_free_ char *s = fuzz_str(data, size);
    (void)image_ref_is_short(s);
    image_ref r = {0};
    _cleanup_error_ pr_error *err = NULL;
    if (image_ref_parse(s, &r, &err) < 0) {
        if (!err)
            fuzz_fail("image_ref_parse failed without an error");
        return 0;
    }
    image_ref_normalize(&r);
    _cleanup_free_ char *norm = image_ref_string(&r);
    image_ref_clear(&r);

    _cleanup_free_ char *again = NULL;
    _cleanup_error_ pr_error *err2 = NULL;
    if (image_ref_normalize_string(norm, &again, &err2) < 0)
        fuzz_fail("`%s` parsed, but its normal form `%s` does not: %s", s, norm, err2->msg);
    if (!streq(again, norm))
        fuzz_fail("`%s`: normal form `%s` normalizes again to `%s`", s, norm, again);
    return 0;
}
