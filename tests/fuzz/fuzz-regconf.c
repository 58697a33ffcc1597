/* SPDX-License-Identifier: Apache-2.0 */
/* registries.conf (TOML, the subset podrun reads) through reg_conf_parse, then the lookups a
 * pull makes with it: the best-matching [[registry]] for a few names and short-name aliases. */
#include "fuzz-common.h"
#include "regconf.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_free_ char *text = fuzz_str(data, size);
    reg_conf c = {0};
    _cleanup_error_ pr_error *err = NULL;
    if (reg_conf_parse(text, "registries.conf", &c, &err) < 0) {
        if (!err)
            fuzz_fail("reg_conf_parse failed without an error");
        reg_conf_clear(&c);
        return 0;
    }
    static const char *names[] = {"docker.io/library/busybox", "quay.io/podman/hello",
                                  "localhost:5000/x", "registry.example.com/a/b", "example.com"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        const reg_entry *e = reg_conf_match(&c, names[i]);
        if (e)
            (void)host_is_local(e->main.location ? e->main.location : "");
    }
    for (size_t i = 0; c.alias_names && c.alias_names[i]; i++)
        (void)reg_conf_alias(&c, c.alias_names[i]);
    (void)reg_conf_alias(&c, "busybox");
    for (size_t i = 0; c.search && c.search[i]; i++)
        (void)host_is_local(c.search[i]);
    reg_conf_clear(&c);
    return 0;
}
