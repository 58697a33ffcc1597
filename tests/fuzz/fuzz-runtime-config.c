/* SPDX-License-Identifier: Apache-2.0 */
/* config.json through rt_config_load, the runtime's loader: it takes a bundle path, so each
 * input is written to BUNDLE/config.json in the scratch directory, beside an empty rootfs/. */
#include "runtime/config.h"
#include "fuzz-common.h"
#include "util.h"

#include <sys/stat.h>

static char *bundle, *config_path;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!bundle) {
        bundle = xasprintf("%s/bundle", fuzz_scratch());
        config_path = xasprintf("%s/config.json", bundle);
        _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", bundle);
        if (mkdir(bundle, 0700) < 0 || mkdir(rootfs, 0700) < 0)
            fuzz_fail("mkdir `%s`: %m", rootfs);
    }
    fuzz_write_file(config_path, data, size);
    struct rt_config *c = NULL;
    pr_error *err = NULL;
    for (int systemd = 0; systemd <= 1; systemd++) {
        if (rt_config_load(bundle, systemd, "fuzz", &c, &err) == 0) {
            if (err)
                fuzz_fail("rt_config_load succeeded with an error set: %s", err->msg);
            free(rt_idmap_format(c->uid_maps, c->n_uid_maps));
            rt_config_free(c);
            c = NULL;
        } else if (!err || !err->msg) {
            fuzz_fail("rt_config_load failed without an error message");
        }
        pr_error_free(err);
        err = NULL;
    }
    return 0;
}
