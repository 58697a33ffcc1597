/* SPDX-License-Identifier: Apache-2.0 */
/* The shim's pod spec (spec.json) through pod_spec_parse, which pod_spec_load calls on the
 * file's text. */
#include "fuzz-common.h"
#include "shim.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_free_ char *text = fuzz_str(data, size);
    struct pod_spec *s = NULL;
    _cleanup_error_ pr_error *err = NULL;
    if (pod_spec_parse(text, "spec.json", &s, &err) == 0) {
        (void)restart_policy_name(s->restart);
        for (unsigned n = 1; n < 40; n += 13)
            (void)backoff_delay(s->backoff_base_usec, s->backoff_cap_usec, n);
        pod_spec_free(s);
    } else if (!err) {
        fuzz_fail("pod_spec_parse failed without an error");
    }
    return 0;
}
