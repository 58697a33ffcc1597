/* SPDX-License-Identifier: Apache-2.0 */
/* Kubernetes manifests (YAML and JSON) through kube_parse_manifest, then every document through
 * kube_object_decode: the limits hold, every refusal has a message, and whatever decodes frees
 * cleanly (ASan and LSan check that). */
#include "fuzz-common.h"
#include "kube/kube.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return -1;
    struct kube_docs d = {0};
    _cleanup_error_ pr_error *err = NULL;
    if (kube_parse_manifest((const char *)data, size, "fuzz.yaml", &d, &err) < 0) {
        if (!err)
            fuzz_fail("kube_parse_manifest failed without an error");
        return 0;
    }
    for (size_t i = 0; i < d.n; i++) {
        struct kube_object *o = NULL;
        _cleanup_error_ pr_error *e = NULL;
        /* The object takes its tree in every case. */
        if (kube_object_decode(d.v[i], "fuzz.yaml", &o, &e) < 0) {
            if (!e)
                fuzz_fail("kube_object_decode failed without an error");
        } else {
            if (o->kind == KUBE_POD && o->u.pod.n_containers == 0)
                fuzz_fail("a pod without containers decoded");
            kube_object_free(o);
        }
        d.v[i] = NULL;
    }
    kube_docs_clear(&d);
    return 0;
}
