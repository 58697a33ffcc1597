/* SPDX-License-Identifier: Apache-2.0 */
/* What a ContainerEventResponse carries besides the change, as containerd sends it: the
 * container's sandbox's PodSandboxStatus and the statuses of that sandbox's containers (the
 * kubelet's Evented PLEG builds the pod's status from them). Found through the same handlers as
 * PodSandboxStatus, ListContainers and ContainerStatus, on a worker thread (they take the pod
 * manager's lock and read its files). */
#include "agent/pods/pods.h"
#include "methods.h"
#include "util.h"

/* Runs a handler on a request and unpacks its response; NULL when the call failed. */
static ProtobufCMessage *call(const struct cri_options *o, cri_handler_fn fn,
                              const ProtobufCMessage *req, const ProtobufCMessageDescriptor *resp)
{
    struct cri_reply r = {0};
    fn(o, req, &r);
    ProtobufCMessage *m = NULL;
    if (r.code == GRPC_OK)
        m = protobuf_c_message_unpack(resp, NULL, r.len, r.body);
    cri_reply_clear(&r);
    return m;
}

static char *sandbox_of(const struct cri_options *o, const char *id)
{
    struct pods_manager *m = NULL;
    struct cri_reply r = {0};
    if (cri_open_pods(o, false, &m, &r) < 0) {
        cri_reply_clear(&r);
        return NULL;
    }
    char *sb = NULL;
    _cleanup_error_ pr_error *e = NULL;
    if (pods_cri_container_sandbox(m, id, &sb, &e) < 0)
        sb = NULL;
    pods_manager_close(m);
    return sb;
}

/* req: the event with its id and type, and pod_sandbox_status.id when the sender knew it. */
void cri_event_fill(const struct cri_options *o, const ProtobufCMessage *req, struct cri_reply *out)
{
    const Runtime__V1__ContainerEventResponse *in =
        (const Runtime__V1__ContainerEventResponse *)req;
    Runtime__V1__ContainerEventResponse ev = *in;
    ev.pod_sandbox_status = NULL;
    ev.n_containers_statuses = 0;
    ev.containers_statuses = NULL;
    _cleanup_free_ char *found = NULL;
    const char *sb = in->pod_sandbox_status ? in->pod_sandbox_status->id : NULL;
    if (!sb || !*sb)
        sb = found = sandbox_of(o, in->container_id);

    ProtobufCMessage *sst = NULL, *list = NULL;
    ProtobufCMessage **cst = NULL;
    size_t ncst = 0;
    if (sb) {
        Runtime__V1__PodSandboxStatusRequest sr = RUNTIME__V1__POD_SANDBOX_STATUS_REQUEST__INIT;
        sr.pod_sandbox_id = (char *)sb;
        sst = call(o, cri_pod_sandbox_status, &sr.base,
                   &runtime__v1__pod_sandbox_status_response__descriptor);
        if (sst)
            ev.pod_sandbox_status = ((Runtime__V1__PodSandboxStatusResponse *)sst)->status;
        Runtime__V1__ContainerFilter f = RUNTIME__V1__CONTAINER_FILTER__INIT;
        f.pod_sandbox_id = (char *)sb;
        Runtime__V1__ListContainersRequest lr = RUNTIME__V1__LIST_CONTAINERS_REQUEST__INIT;
        lr.filter = &f;
        list = call(o, cri_list_containers, &lr.base,
                    &runtime__v1__list_containers_response__descriptor);
    }
    Runtime__V1__ListContainersResponse *l = (Runtime__V1__ListContainersResponse *)list;
    if (l && l->n_containers) {
        cst = xcalloc(l->n_containers, sizeof(*cst));
        ev.containers_statuses = xcalloc(l->n_containers, sizeof(*ev.containers_statuses));
        for (size_t i = 0; i < l->n_containers; i++) {
            Runtime__V1__ContainerStatusRequest cr = RUNTIME__V1__CONTAINER_STATUS_REQUEST__INIT;
            cr.container_id = l->containers[i]->id;
            cst[ncst] = call(o, cri_container_status, &cr.base,
                             &runtime__v1__container_status_response__descriptor);
            if (cst[ncst] && ((Runtime__V1__ContainerStatusResponse *)cst[ncst])->status) {
                ev.containers_statuses[ev.n_containers_statuses++] =
                    ((Runtime__V1__ContainerStatusResponse *)cst[ncst])->status;
                ncst++;
            } else if (cst[ncst]) {
                protobuf_c_message_free_unpacked(cst[ncst], NULL);
                cst[ncst] = NULL;
            }
        }
    }
    /* Sent even when a status could not be had (the container or sandbox just went): the
     * change itself happened. */
    cri_reply_ok(out, &ev.base);
    for (size_t i = 0; i < ncst; i++)
        protobuf_c_message_free_unpacked(cst[i], NULL);
    free(cst);
    free(ev.containers_statuses);
    if (sst)
        protobuf_c_message_free_unpacked(sst, NULL);
    if (list)
        protobuf_c_message_free_unpacked(list, NULL);
}
