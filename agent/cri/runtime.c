/* SPDX-License-Identifier: Apache-2.0 */
/* RuntimeService's calls about the runtime itself: Version, Status, RuntimeConfig. */
#include "agent/pods/pods.h"
#include "methods.h"
#include "util.h"

#define CRI_RUNTIME_NAME "podrun"
#define CRI_API_VERSION  "v1"

void cri_version(const struct cri_options *o, const ProtobufCMessage *req, struct cri_reply *out)
{
    Runtime__V1__VersionResponse resp = RUNTIME__V1__VERSION_RESPONSE__INIT;
    /* The field is the kubelet's API version, which is this one for any v1 client. */
    resp.version = (char *)"0.1.0";
    resp.runtime_name = (char *)CRI_RUNTIME_NAME;
    resp.runtime_version = (char *)PACKAGE_VERSION;
    resp.runtime_api_version = (char *)CRI_API_VERSION;
    cri_reply_ok(out, &resp.base);
}

void cri_status(const struct cri_options *o, const ProtobufCMessage *req, struct cri_reply *out)
{
    const Runtime__V1__StatusRequest *in = (const Runtime__V1__StatusRequest *)req;
    Runtime__V1__RuntimeCondition runtime = RUNTIME__V1__RUNTIME_CONDITION__INIT;
    Runtime__V1__RuntimeCondition network = RUNTIME__V1__RUNTIME_CONDITION__INIT;
    runtime.type = (char *)"RuntimeReady";
    runtime.status = true;
    network.type = (char *)"NetworkReady";
    _cleanup_free_ char *reason = NULL, *message = NULL;
    _cleanup_error_ pr_error *e = NULL;
    struct pods_manager *m = NULL;
    int r = o->open_pods(o->open_pods_data, false, &m, &e);
    if (r < 0) {
        cri_reply_failed(out, r, e, "open the pod manager");
        return;
    }
    network.status = pods_network_status(m, &reason, &message) == 0;
    pods_manager_close(m);
    network.reason = reason ? reason : (char *)"";
    network.message = message ? message : (char *)"";

    Runtime__V1__RuntimeCondition *conds[] = {&runtime, &network};
    Runtime__V1__RuntimeStatus status = RUNTIME__V1__RUNTIME_STATUS__INIT;
    status.n_conditions = ARRAY_SIZE(conds);
    status.conditions = conds;
    Runtime__V1__RuntimeHandler handler = RUNTIME__V1__RUNTIME_HANDLER__INIT;
    Runtime__V1__RuntimeHandlerFeatures hf = RUNTIME__V1__RUNTIME_HANDLER_FEATURES__INIT;
    handler.name = (char *)""; /* the default handler, the only one */
    handler.features = &hf;
    Runtime__V1__RuntimeHandler *handlers[] = {&handler};
    Runtime__V1__RuntimeFeatures features = RUNTIME__V1__RUNTIME_FEATURES__INIT;

    Runtime__V1__StatusResponse resp = RUNTIME__V1__STATUS_RESPONSE__INIT;
    resp.status = &status;
    resp.n_runtime_handlers = 1;
    resp.runtime_handlers = handlers;
    resp.features = &features;
    Runtime__V1__StatusResponse__InfoEntry info = RUNTIME__V1__STATUS_RESPONSE__INFO_ENTRY__INIT;
    Runtime__V1__StatusResponse__InfoEntry *infos[] = {&info};
    _cleanup_free_ char *config = NULL;
    if (in->verbose) {
        /* As containerd, a JSON document under "config": what this server was started with. */
        config = xasprintf("{\"runtimeName\":\"%s\",\"runtimeVersion\":\"%s\","
                           "\"cgroupDriver\":\"%s\",\"maxRecvMsgSize\":%zu,"
                           "\"maxSendMsgSize\":%zu}",
                           CRI_RUNTIME_NAME, PACKAGE_VERSION,
                           o->systemd_cgroup ? "systemd" : "cgroupfs", o->max_recv, o->max_send);
        info.key = (char *)"config";
        info.value = config;
        resp.n_info = 1;
        resp.info = infos;
    }
    cri_reply_ok(out, &resp.base);
}

void cri_runtime_config(const struct cri_options *o, const ProtobufCMessage *req,
                        struct cri_reply *out)
{
    Runtime__V1__LinuxRuntimeConfiguration linux = RUNTIME__V1__LINUX_RUNTIME_CONFIGURATION__INIT;
    /* systemd: containers are transient scopes in the kubelet's slices (agent/pods/cricgroup.c);
     * cgroupfs: the kubelet's paths, written directly. */
    linux.cgroup_driver = o->systemd_cgroup ? RUNTIME__V1__CGROUP_DRIVER__SYSTEMD
                                            : RUNTIME__V1__CGROUP_DRIVER__CGROUPFS;
    Runtime__V1__RuntimeConfigResponse resp = RUNTIME__V1__RUNTIME_CONFIG_RESPONSE__INIT;
    resp.linux = &linux;
    cri_reply_ok(out, &resp.base);
}
