/* SPDX-License-Identifier: Apache-2.0 */
/* A service's endpoints, whichever way they come: computed from the pods its selector picks
 * (kube/endpoints.c), or, for a service without a selector, from the EndpointSlices stored for
 * it by hand (label kubernetes.io/service-name, same namespace; kube/endpointslice.c). */
#include "manager.h"
#include "util.h"

void pods_endpoints_compute(const struct kube_service_spec *s, const char *ns, const char *name,
                            const struct kube_endpoint_pod *pods, size_t n,
                            const struct pods_list *slices, struct kube_service_endpoints *out)
{
    if (s->selector.n) {
        kube_service_endpoints(s, ns, pods, n, out);
        return;
    }
    _cleanup_free_ yajl_val *mine = xcalloc(slices->n + 1, sizeof(*mine));
    size_t k = 0;
    for (size_t i = 0; i < slices->n; i++) {
        yajl_val labels = json_get(json_get(slices->v[i].object, "metadata"), "labels");
        const char *svc = YAJL_GET_STRING(json_get(labels, KUBE_SERVICE_NAME_LABEL));
        if (svc && streq(svc, name) && streq(slices->v[i].ns, ns))
            mine[k++] = slices->v[i].object;
    }
    kube_endpointslice_endpoints(s, mine, k, out);
}

/* A pod being deleted is marked terminating first; the data path (and the DNS) must drop it
 * before its containers are told to stop, as a terminating pod leaves a Service's ready
 * endpoints before the kubelet's SIGTERM: new connections then go to the other endpoints
 * only, and those it accepted finish within its grace period. Best effort: the sync after the
 * delete reports what fails here. */
void pods_endpoints_leave(pods_manager *m)
{
    if (!pods_objects_stored(m, "services"))
        return;
    _cleanup_error_ pr_error *e = NULL;
    pods_services_sync(m, &e);
}
