/* SPDX-License-Identifier: Apache-2.0 */
/* OCI / Docker schema 2 manifests and indexes (index.json too) through manifest_parse, and the
 * platform choice a pull or load makes on an index (index_pick_host). */
#include "fuzz-common.h"
#include "manifest.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_free_ char *text = fuzz_str(data, size);
    manifest m = {0};
    _cleanup_error_ pr_error *err = NULL;
    if (manifest_parse(text, "manifest", &m, &err) == 0) {
        (void)media_type_is_index(m.media_type ? m.media_type : "");
        if (m.is_index) {
            _cleanup_error_ pr_error *perr = NULL;
            int i = index_pick_host(&m, "index", &perr);
            if (i >= 0 && (size_t)i >= m.nmanifests)
                fuzz_fail("index_pick_host: %d of %zu entries", i, m.nmanifests);
            for (size_t k = 0; k < m.nmanifests; k++)
                (void)descriptor_is_host(&m.manifests[k]);
        }
    } else if (!err) {
        fuzz_fail("manifest_parse failed without an error");
    }
    manifest_clear(&m);
    return 0;
}
