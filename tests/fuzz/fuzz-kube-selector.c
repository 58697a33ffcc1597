/* SPDX-License-Identifier: Apache-2.0 */
/* Label selectors in kubectl's string form: kube_selector_parse, then matching against a fixed
 * set of labels. A selector that parses matches or not without touching anything else, and
 * every refusal says why. */
#include "fuzz-common.h"
#include "json.h"
#include "kube/kube.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return -1;
    static yajl_val labels;
    if (!labels && json_parse("{\"app\":\"web\",\"tier\":\"front\",\"example.com/team\":\"a\"}",
                              "labels", &labels, NULL) < 0)
        fuzz_fail("the fixed labels do not parse");
    _cleanup_free_ char *s = fuzz_str(data, size);
    struct kube_selector sel;
    _cleanup_error_ pr_error *err = NULL;
    if (kube_selector_parse(s, &sel, &err) < 0) {
        if (!err)
            fuzz_fail("kube_selector_parse failed without an error");
        return 0;
    }
    bool m = kube_selector_matches(&sel, labels);
    if (sel.n == 0 && !m)
        fuzz_fail("`%s`: an empty selector must match everything", s);
    kube_selector_clear(&sel);
    return 0;
}
