/* SPDX-License-Identifier: Apache-2.0 */
/* The method table: every method of CRI v1's RuntimeService and ImageService, served or
 * answered UNIMPLEMENTED (never a success that did nothing), and the decode-run-pack step. */
#include "methods.h"
#include "util.h"

#include <stdarg.h>

#define RT  "/runtime.v1.RuntimeService/"
#define IMG "/runtime.v1.ImageService/"
#define SERVED(svc, name, msg, fn, loop)                                                           \
    {                                                                                              \
        svc #name, &runtime__v1__##msg##__descriptor, fn, loop                                     \
    }
/* A call whose work outlives no caller: a pull (its child is killed when the reply is not
 * awaited any more, so that a kubelet's retries do not pile up pulls). */
#define CANCELLABLE(svc, name, msg, fn)                                                            \
    {                                                                                              \
        svc #name, &runtime__v1__##msg##__descriptor, fn, false, false, true                       \
    }
#define STREAMED(svc, name, msg)                                                                   \
    {                                                                                              \
        svc #name, &runtime__v1__##msg##__descriptor, NULL, true, true                             \
    }
#define LATER(svc, name)                                                                           \
    {                                                                                              \
        svc #name, NULL, NULL, false                                                               \
    }

static const struct cri_method methods[] = {
    SERVED(RT, Version, version_request, cri_version, true),
    SERVED(RT, Status, status_request, cri_status, false),
    SERVED(RT, RuntimeConfig, runtime_config_request, cri_runtime_config, true),
    SERVED(IMG, ListImages, list_images_request, cri_list_images, false),
    SERVED(IMG, ImageStatus, image_status_request, cri_image_status, false),
    CANCELLABLE(IMG, PullImage, pull_image_request, cri_pull_image),
    SERVED(IMG, RemoveImage, remove_image_request, cri_remove_image, false),
    SERVED(IMG, ImageFsInfo, image_fs_info_request, cri_image_fs_info, false),
    SERVED(RT, RunPodSandbox, run_pod_sandbox_request, cri_run_pod_sandbox, false),
    SERVED(RT, StopPodSandbox, stop_pod_sandbox_request, cri_stop_pod_sandbox, false),
    SERVED(RT, RemovePodSandbox, remove_pod_sandbox_request, cri_remove_pod_sandbox, false),
    SERVED(RT, PodSandboxStatus, pod_sandbox_status_request, cri_pod_sandbox_status, false),
    SERVED(RT, ListPodSandbox, list_pod_sandbox_request, cri_list_pod_sandbox, false),
    LATER(RT, StreamPodSandboxes),
    SERVED(RT, CreateContainer, create_container_request, cri_create_container, false),
    SERVED(RT, StartContainer, start_container_request, cri_start_container, false),
    SERVED(RT, StopContainer, stop_container_request, cri_stop_container, false),
    SERVED(RT, RemoveContainer, remove_container_request, cri_remove_container, false),
    SERVED(RT, ListContainers, list_containers_request, cri_list_containers, false),
    LATER(RT, StreamContainers),
    SERVED(RT, ContainerStatus, container_status_request, cri_container_status, false),
    SERVED(RT, UpdateContainerResources, update_container_resources_request,
           cri_update_container_resources, false),
    SERVED(RT, ReopenContainerLog, reopen_container_log_request, cri_reopen_container_log, false),
    SERVED(RT, ExecSync, exec_sync_request, cri_exec_sync, false),
    SERVED(RT, Exec, exec_request, cri_exec, false),
    SERVED(RT, Attach, attach_request, cri_attach, true),
    SERVED(RT, PortForward, port_forward_request, cri_port_forward, false),
    SERVED(RT, ContainerStats, container_stats_request, cri_container_stats, false),
    SERVED(RT, ListContainerStats, list_container_stats_request, cri_list_container_stats, false),
    LATER(RT, StreamContainerStats),
    SERVED(RT, PodSandboxStats, pod_sandbox_stats_request, cri_pod_sandbox_stats, false),
    SERVED(RT, ListPodSandboxStats, list_pod_sandbox_stats_request, cri_list_pod_sandbox_stats,
           false),
    LATER(RT, StreamPodSandboxStats),
    SERVED(RT, UpdateRuntimeConfig, update_runtime_config_request, cri_update_runtime_config,
           false),
    LATER(RT, CheckpointContainer),
    LATER(RT, CheckpointPod),
    LATER(RT, RestorePod),
    STREAMED(RT, GetContainerEvents, get_events_request),
    LATER(RT, ListMetricDescriptors),
    LATER(RT, ListPodSandboxMetrics),
    LATER(RT, StreamPodSandboxMetrics),
    LATER(RT, UpdatePodSandboxResources),
    LATER(IMG, StreamImages),
};

const struct cri_method *cri_method_find(const char *path)
{
    for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
        if (streq(methods[i].path, path))
            return &methods[i];
    return NULL;
}

void cri_reply_ok(struct cri_reply *r, const ProtobufCMessage *resp)
{
    r->code = GRPC_OK;
    r->len = protobuf_c_message_get_packed_size(resp);
    r->body = xmalloc(r->len ? r->len : 1);
    protobuf_c_message_pack(resp, r->body);
}

void cri_reply_error(struct cri_reply *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(r->message);
    r->message = xvasprintf(fmt, ap);
    va_end(ap);
    r->code = code;
}

void cri_reply_failed(struct cri_reply *r, int rc, const pr_error *e, const char *what)
{
    int errnum = e && e->errnum ? e->errnum : -rc;
    const char *msg = e && e->msg ? e->msg : pr_strerror(errnum);
    cri_reply_error(r, grpc_code_from_errno(errnum), "%s: %s", what, msg);
}

void cri_reply_clear(struct cri_reply *r)
{
    free(r->message);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

void cri_method_call(const struct cri_method *m, const struct cri_options *o, const uint8_t *req,
                     size_t len, size_t max_send, struct cri_reply *out)
{
    cri_method_call_cancellable(m, o, req, len, max_send, 0, out);
}

void cri_method_call_cancellable(const struct cri_method *m, const struct cri_options *o,
                                 const uint8_t *req, size_t len, size_t max_send, int cancel_fd,
                                 struct cri_reply *out)
{
    memset(out, 0, sizeof(*out));
    out->cancel_fd = cancel_fd;
    if (!m->fn) {
        cri_reply_error(out, GRPC_UNIMPLEMENTED, "podrun does not implement %s yet", m->path + 1);
        return;
    }
    ProtobufCMessage *msg = protobuf_c_message_unpack(m->request, NULL, len, req);
    if (!msg) {
        cri_reply_error(out, GRPC_INTERNAL, "%s: the request is not a valid %s message",
                        m->path + 1, m->request->name);
        return;
    }
    m->fn(o, msg, out);
    protobuf_c_message_free_unpacked(msg, NULL);
    if (out->code == GRPC_OK && out->len > max_send) {
        size_t n = out->len;
        cri_reply_clear(out);
        cri_reply_error(out, GRPC_RESOURCE_EXHAUSTED,
                        "%s: the response (%zu bytes) is larger than the limit of %zu bytes",
                        m->path + 1, n, max_send);
    }
}
