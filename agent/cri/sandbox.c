/* SPDX-License-Identifier: Apache-2.0 */
/* RuntimeService's sandbox calls over the pod manager's CRI sandboxes (pods.h): run, stop,
 * remove (both idempotent, as the kubelet relies on), status and list. */
#include "agent/pods/pods.h"
#include "methods.h"
#include "util.h"

/* What RunPodSandbox asks that podrun does not do is refused by name, never ignored. */
static int check_request(const Runtime__V1__RunPodSandboxRequest *in, struct cri_reply *out)
{
    const Runtime__V1__PodSandboxConfig *c = in->config;
    if (in->runtime_handler && *in->runtime_handler) {
        cri_reply_error(out, GRPC_INVALID_ARGUMENT,
                        "RunPodSandbox: runtime handler \"%s\" is unknown (podrun has only the "
                        "default one, \"\")",
                        in->runtime_handler);
        return -1;
    }
    if (!c || !c->metadata) {
        cri_reply_error(out, GRPC_INVALID_ARGUMENT, "RunPodSandbox: config.metadata is required");
        return -1;
    }
    const Runtime__V1__LinuxPodSandboxConfig *l = c->linux;
    const Runtime__V1__NamespaceOption *ns =
        l && l->security_context ? l->security_context->namespace_options : NULL;
    if (l && cri_check_sysctls((void *const *)l->sysctls, l->n_sysctls, out) < 0)
        return -1;
    if (ns && ns->userns_options && ns->userns_options->mode == RUNTIME__V1__NAMESPACE_MODE__POD) {
        cri_reply_error(out, GRPC_UNIMPLEMENTED,
                        "RunPodSandbox: user namespaces (userns_options mode POD) are not "
                        "supported");
        return -1;
    }
    if (ns && (ns->network == RUNTIME__V1__NAMESPACE_MODE__CONTAINER ||
               ns->network == RUNTIME__V1__NAMESPACE_MODE__TARGET ||
               ns->ipc == RUNTIME__V1__NAMESPACE_MODE__CONTAINER ||
               ns->ipc == RUNTIME__V1__NAMESPACE_MODE__TARGET ||
               ns->pid == RUNTIME__V1__NAMESPACE_MODE__TARGET)) {
        cri_reply_error(out, GRPC_INVALID_ARGUMENT,
                        "RunPodSandbox: the network and IPC namespaces are the pod's or the "
                        "node's, and a sandbox's PID namespace targets no container");
        return -1;
    }
    return 0;
}

void cri_run_pod_sandbox(const struct cri_options *o, const ProtobufCMessage *req,
                         struct cri_reply *out)
{
    const Runtime__V1__RunPodSandboxRequest *in = (const Runtime__V1__RunPodSandboxRequest *)req;
    if (check_request(in, out) < 0)
        return;
    const Runtime__V1__PodSandboxConfig *c = in->config;
    const Runtime__V1__NamespaceOption *ns = c->linux && c->linux->security_context
                                                 ? c->linux->security_context->namespace_options
                                                 : NULL;
    _cleanup_free_ char **labels = cri_map_strv((void *const *)c->labels, c->n_labels);
    _cleanup_free_ char **sysctls =
        c->linux ? cri_map_strv((void *const *)c->linux->sysctls, c->linux->n_sysctls) : NULL;
    _cleanup_free_ char **annotations =
        cri_map_strv((void *const *)c->annotations, c->n_annotations);
    const Runtime__V1__DNSConfig *dns = c->dns_config;
    struct pods_sandbox_config sc = {
        .name = c->metadata->name,
        .ns = c->metadata->namespace_,
        .uid = c->metadata->uid,
        .attempt = c->metadata->attempt,
        .hostname = c->hostname,
        .log_directory = c->log_directory,
        .cgroup_parent = c->linux ? c->linux->cgroup_parent : NULL,
        .systemd_cgroup = o->systemd_cgroup,
        .dns_servers = dns ? dns->servers : NULL,
        .dns_searches = dns ? dns->searches : NULL,
        .dns_options = dns ? dns->options : NULL,
        .host_network = ns && ns->network == RUNTIME__V1__NAMESPACE_MODE__NODE,
        .host_ipc = ns && ns->ipc == RUNTIME__V1__NAMESPACE_MODE__NODE,
        .share_pid = ns && ns->pid == RUNTIME__V1__NAMESPACE_MODE__POD,
        .labels = labels,
        .annotations = annotations,
        .sysctls = sysctls,
    };
    /* protobuf-c's repeated strings are not NULL-terminated: copies that are. */
    _cleanup_free_ char **servers = NULL, **searches = NULL, **options = NULL;
    if (dns) {
        servers = xcalloc(dns->n_servers + 1, sizeof(char *));
        memcpy(servers, dns->servers, dns->n_servers * sizeof(char *));
        searches = xcalloc(dns->n_searches + 1, sizeof(char *));
        memcpy(searches, dns->searches, dns->n_searches * sizeof(char *));
        options = xcalloc(dns->n_options + 1, sizeof(char *));
        memcpy(options, dns->options, dns->n_options * sizeof(char *));
        sc.dns_servers = servers;
        sc.dns_searches = searches;
        sc.dns_options = options;
    }
    static const char *const protocols[] = {"TCP", "UDP", "SCTP"};
    _cleanup_free_ struct pods_port_mapping *maps = xcalloc(c->n_port_mappings + 1, sizeof(*maps));
    for (size_t i = 0; i < c->n_port_mappings; i++) {
        const Runtime__V1__PortMapping *pm = c->port_mappings[i];
        maps[i] = (struct pods_port_mapping){
            pm->container_port, pm->host_port,
            (unsigned)pm->protocol < ARRAY_SIZE(protocols) ? protocols[pm->protocol] : "TCP",
            pm->host_ip};
    }
    sc.port_mappings = maps;
    sc.n_port_mappings = c->n_port_mappings;
    struct pods_manager *m = NULL;
    if (cri_open_pods(o, false, &m, out) < 0)
        return;
    _cleanup_free_ char *id = NULL;
    _cleanup_error_ pr_error *e = NULL;
    int r = pods_sandbox_run(m, &sc, &id, &e);
    pods_manager_close(m);
    if (r < 0) {
        cri_reply_failed(out, r, e, "RunPodSandbox");
        return;
    }
    Runtime__V1__RunPodSandboxResponse resp = RUNTIME__V1__RUN_POD_SANDBOX_RESPONSE__INIT;
    resp.pod_sandbox_id = id;
    cri_reply_ok(out, &resp.base);
}

void cri_stop_pod_sandbox(const struct cri_options *o, const ProtobufCMessage *req,
                          struct cri_reply *out)
{
    const Runtime__V1__StopPodSandboxRequest *in = (const Runtime__V1__StopPodSandboxRequest *)req;
    struct pods_manager *m = NULL;
    if (cri_open_pods(o, false, &m, out) < 0)
        return;
    _cleanup_error_ pr_error *e = NULL;
    int r = pods_sandbox_stop(m, in->pod_sandbox_id, &e);
    pods_manager_close(m);
    if (r < 0) {
        cri_reply_failed(out, r, e, "StopPodSandbox");
        return;
    }
    Runtime__V1__StopPodSandboxResponse resp = RUNTIME__V1__STOP_POD_SANDBOX_RESPONSE__INIT;
    cri_reply_ok(out, &resp.base);
}

void cri_remove_pod_sandbox(const struct cri_options *o, const ProtobufCMessage *req,
                            struct cri_reply *out)
{
    const Runtime__V1__RemovePodSandboxRequest *in =
        (const Runtime__V1__RemovePodSandboxRequest *)req;
    struct pods_manager *m = NULL;
    if (cri_open_pods(o, false, &m, out) < 0)
        return;
    _cleanup_error_ pr_error *e = NULL;
    int r = pods_sandbox_remove(m, in->pod_sandbox_id, &e);
    pods_manager_close(m);
    if (r < 0) {
        cri_reply_failed(out, r, e, "RemovePodSandbox");
        return;
    }
    Runtime__V1__RemovePodSandboxResponse resp = RUNTIME__V1__REMOVE_POD_SANDBOX_RESPONSE__INIT;
    cri_reply_ok(out, &resp.base);
}

void cri_pod_sandbox_status(const struct cri_options *o, const ProtobufCMessage *req,
                            struct cri_reply *out)
{
    const Runtime__V1__PodSandboxStatusRequest *in =
        (const Runtime__V1__PodSandboxStatusRequest *)req;
    _cleanup_json_ yajl_val rec = NULL;
    if (cri_get_record(o, in->pod_sandbox_id, "PodSandboxStatus", &rec, NULL, NULL, out) < 0)
        return;
    struct cri_pool pool = {0};
    Runtime__V1__PodSandboxMetadata md;
    cri_sandbox_meta(&md, rec);
    Runtime__V1__PodSandboxStatus st = RUNTIME__V1__POD_SANDBOX_STATUS__INIT;
    st.id = YAJL_GET_STRING(json_get(rec, "id"));
    st.metadata = &md;
    st.state = cri_sandbox_state(rec);
    st.created_at = cri_json_int(json_get(rec, "createdAt"));
    Runtime__V1__PodSandboxNetworkStatus net = RUNTIME__V1__POD_SANDBOX_NETWORK_STATUS__INIT;
    const char *ip = YAJL_GET_STRING(json_get(rec, "ip"));
    net.ip = (char *)(ip && st.state == RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY ? ip : "");
    st.network = &net;
    Runtime__V1__NamespaceOption nso = RUNTIME__V1__NAMESPACE_OPTION__INIT;
    nso.network = YAJL_IS_TRUE(json_get(rec, "hostNetwork")) ? RUNTIME__V1__NAMESPACE_MODE__NODE
                                                             : RUNTIME__V1__NAMESPACE_MODE__POD;
    nso.ipc = YAJL_IS_TRUE(json_get(rec, "hostIPC")) ? RUNTIME__V1__NAMESPACE_MODE__NODE
                                                     : RUNTIME__V1__NAMESPACE_MODE__POD;
    nso.pid = YAJL_IS_TRUE(json_get(rec, "sharePID")) ? RUNTIME__V1__NAMESPACE_MODE__POD
                                                      : RUNTIME__V1__NAMESPACE_MODE__CONTAINER;
    Runtime__V1__Namespace nsv = RUNTIME__V1__NAMESPACE__INIT;
    nsv.options = &nso;
    Runtime__V1__LinuxPodSandboxStatus lin = RUNTIME__V1__LINUX_POD_SANDBOX_STATUS__INIT;
    lin.namespaces = &nsv;
    st.linux = &lin;
    CRI_MAP_FROM_JSON(&pool, json_get(rec, "labels"), Runtime__V1__PodSandboxStatus__LabelsEntry,
                      RUNTIME__V1__POD_SANDBOX_STATUS__LABELS_ENTRY__INIT, st.n_labels, st.labels);
    CRI_MAP_FROM_JSON(
        &pool, json_get(rec, "annotations"), Runtime__V1__PodSandboxStatus__AnnotationsEntry,
        RUNTIME__V1__POD_SANDBOX_STATUS__ANNOTATIONS_ENTRY__INIT, st.n_annotations, st.annotations);
    Runtime__V1__PodSandboxStatusResponse resp = RUNTIME__V1__POD_SANDBOX_STATUS_RESPONSE__INIT;
    resp.status = &st;
    resp.timestamp = cri_now_ns();
    if (in->verbose) {
        /* The record podrun keeps. */
        _cleanup_gen_ yajl_gen g = json_gen_new(false);
        jg_value(g, rec);
        resp.n_info = 1;
        resp.info = cri_verbose_info(
            &pool, &runtime__v1__pod_sandbox_status_response__info_entry__descriptor, g);
    }
    cri_reply_ok(out, &resp.base);
    cri_pool_free(&pool);
}

void cri_list_pod_sandbox(const struct cri_options *o, const ProtobufCMessage *req,
                          struct cri_reply *out)
{
    const Runtime__V1__ListPodSandboxRequest *in = (const Runtime__V1__ListPodSandboxRequest *)req;
    const Runtime__V1__PodSandboxFilter *f = in->filter;
    struct cri_filter keep = CRI_FILTER(f);
    if (f && f->state) {
        keep.has_state = true;
        keep.state = (int)f->state->state;
    }
    struct cri_records recs = {0};
    if (cri_list_records(o, false, &keep, "ListPodSandbox", &recs, NULL, out) < 0)
        return;
    struct cri_pool pool = {0};
    Runtime__V1__PodSandbox **items = cri_pool_add(&pool, xcalloc(recs.n + 1, sizeof(*items)));
    for (size_t i = 0; i < recs.n; i++) {
        yajl_val rec = recs.rec[i];
        Runtime__V1__PodSandbox *it = cri_pool_add(&pool, xmalloc(sizeof(*it)));
        *it = (Runtime__V1__PodSandbox)RUNTIME__V1__POD_SANDBOX__INIT;
        Runtime__V1__PodSandboxMetadata *md = cri_pool_add(&pool, xmalloc(sizeof(*md)));
        cri_sandbox_meta(md, rec);
        it->id = YAJL_GET_STRING(json_get(rec, "id"));
        it->metadata = md;
        it->state = cri_sandbox_state(rec);
        it->created_at = cri_json_int(json_get(rec, "createdAt"));
        CRI_MAP_FROM_JSON(&pool, json_get(rec, "labels"), Runtime__V1__PodSandbox__LabelsEntry,
                          RUNTIME__V1__POD_SANDBOX__LABELS_ENTRY__INIT, it->n_labels, it->labels);
        CRI_MAP_FROM_JSON(
            &pool, json_get(rec, "annotations"), Runtime__V1__PodSandbox__AnnotationsEntry,
            RUNTIME__V1__POD_SANDBOX__ANNOTATIONS_ENTRY__INIT, it->n_annotations, it->annotations);
        items[i] = it;
    }
    Runtime__V1__ListPodSandboxResponse resp = RUNTIME__V1__LIST_POD_SANDBOX_RESPONSE__INIT;
    resp.n_items = recs.n;
    resp.items = items;
    cri_reply_ok(out, &resp.base);
    cri_pool_free(&pool);
    cri_records_free(&recs);
}

void cri_update_runtime_config(const struct cri_options *o, const ProtobufCMessage *req,
                               struct cri_reply *out)
{
    const Runtime__V1__UpdateRuntimeConfigRequest *in =
        (const Runtime__V1__UpdateRuntimeConfigRequest *)req;
    const char *cidr = in->runtime_config && in->runtime_config->network_config
                           ? in->runtime_config->network_config->pod_cidr
                           : NULL;
    if (cidr && *cidr) {
        struct pods_manager *m = NULL;
        if (cri_open_pods(o, false, &m, out) < 0)
            return;
        _cleanup_free_ char *mine = pods_node_pod_cidr(m);
        pods_manager_close(m);
        /* The pod subnet is the node's (node.yaml podCIDR, or the CNI configuration): a
         * different one from the kubelet is refused rather than ignored. */
        if (!mine || !streq(mine, cidr)) {
            cri_reply_error(out, GRPC_FAILED_PRECONDITION,
                            "UpdateRuntimeConfig: pod CIDR %s differs from the node's (%s): set "
                            "podCIDR in the node's node.yaml and the CNI configuration",
                            cidr, mine ? mine : "none");
            return;
        }
    }
    Runtime__V1__UpdateRuntimeConfigResponse resp =
        RUNTIME__V1__UPDATE_RUNTIME_CONFIG_RESPONSE__INIT;
    cri_reply_ok(out, &resp.base);
}
