/* SPDX-License-Identifier: Apache-2.0 */
/* linux.seccomp profiles through rt_seccomp_prepare: parsed and compiled into a libseccomp
 * filter (never loaded). The input is the seccomp object alone, as in config.json. */
#include "fuzz-common.h"
#include "json.h"
#include "seccomp.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_free_ char *text = fuzz_str(data, size);
    _cleanup_json_ yajl_val tree = NULL;
    _cleanup_error_ pr_error *err = NULL;
    if (json_parse(text, "seccomp", &tree, &err) < 0)
        return 0;
    if (!YAJL_IS_OBJECT(tree))
        return 0; /* config.c hands over objects only (json_get_object) */
    struct rt_seccomp *s = NULL;
    if (rt_seccomp_prepare(tree, &s, &err) == 0) {
        (void)rt_seccomp_listener_path(s);
        (void)rt_seccomp_listener_metadata(s);
        rt_seccomp_free(s);
    } else if (!err) {
        fuzz_fail("rt_seccomp_prepare failed without an error");
    }
    return 0;
}
