/* SPDX-License-Identifier: Apache-2.0 */
/* RuntimeService's container calls over the pod manager's CRI containers (pods.h): create,
 * start, stop (with its timeout), remove (idempotent), status, list, ExecSync, and the reopen
 * of a log the kubelet rotated. A field podrun does not do is refused by name. */
#include "agent/pods/pods.h"
#include "methods.h"
#include "util.h"

static char **nul_terminated(char **v, size_t n)
{
    char **out = xcalloc(n + 1, sizeof(*out));
    if (n)
        memcpy(out, v, n * sizeof(*out));
    return out;
}

static int refuse(struct cri_reply *out, int code, const char *fmt, const char *what)
{
    cri_reply_error(out, code, fmt, what);
    return -1;
}

/* The kubelet resolves a Localhost profile to an absolute path on the node (localhost_ref);
 * the deprecated seccomp_profile_path says the same as "localhost/<path>". */
static int seccomp_mode(const Runtime__V1__LinuxContainerSecurityContext *sc,
                        enum pods_seccomp *mode, const char **file, struct cri_reply *out)
{
    *mode = PODS_SECCOMP_UNCONFINED;
    *file = NULL;
    if (sc && sc->seccomp) {
        switch (sc->seccomp->profile_type) {
        case RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__RuntimeDefault:
            *mode = PODS_SECCOMP_RUNTIME_DEFAULT;
            return 0;
        case RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Unconfined:
            return 0;
        case RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Localhost:
            *file = sc->seccomp->localhost_ref;
            break;
        default:
            return refuse(out, GRPC_INVALID_ARGUMENT,
                          "CreateContainer: seccomp profile type %s is not one the CRI defines",
                          "(unknown)");
        }
    } else {
        const char *path = sc ? sc->seccomp_profile_path : NULL;
        if (!path || !*path || streq(path, "unconfined"))
            return 0;
        if (streq(path, "runtime/default") || streq(path, "docker/default")) {
            *mode = PODS_SECCOMP_RUNTIME_DEFAULT;
            return 0;
        }
        if (!has_prefix(path, "localhost/"))
            return refuse(out, GRPC_INVALID_ARGUMENT,
                          "CreateContainer: seccomp_profile_path \"%s\" is not one the CRI defines",
                          path);
        *file = path + strlen("localhost/");
    }
    if (!*file || (*file)[0] != '/')
        return refuse(out, GRPC_INVALID_ARGUMENT,
                      "CreateContainer: seccomp profile Localhost \"%s\": needs an absolute path",
                      *file ? *file : "");
    *mode = PODS_SECCOMP_PROFILE;
    return 0;
}

/* What the container asks that podrun does not do yet, refused by name. */
static int check_config(const Runtime__V1__ContainerConfig *c, struct cri_reply *out)
{
    if (!c || !c->metadata || !c->image)
        return refuse(out, GRPC_INVALID_ARGUMENT, "CreateContainer: %s are required",
                      "config.metadata and config.image");
    if (c->n_devices || c->n_cdi_devices)
        return refuse(out, GRPC_UNIMPLEMENTED, "CreateContainer: %s are not supported yet",
                      c->n_devices ? "devices" : "CDI devices");
    for (size_t i = 0; i < c->n_mounts; i++) {
        const Runtime__V1__Mount *mt = c->mounts[i];
        if (mt->image)
            return refuse(out, GRPC_UNIMPLEMENTED,
                          "CreateContainer: image volume at %s is not supported",
                          mt->container_path);
        if (mt->propagation != RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_PRIVATE &&
            mt->propagation != RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_HOST_TO_CONTAINER &&
            mt->propagation != RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_BIDIRECTIONAL)
            return refuse(out, GRPC_INVALID_ARGUMENT,
                          "CreateContainer: mount propagation of %s is not one the CRI defines",
                          mt->container_path);
        if (mt->n_uidmappings || mt->n_gidmappings)
            return refuse(out, GRPC_UNIMPLEMENTED,
                          "CreateContainer: ID-mapped mount at %s is not supported",
                          mt->container_path);
    }
    const Runtime__V1__LinuxContainerConfig *l = c->linux;
    const Runtime__V1__LinuxContainerResources *res = l ? l->resources : NULL;
    if (res && cri_check_cpuset(res->cpuset_cpus, res->cpuset_mems, "CreateContainer", out) < 0)
        return -1;
    if (res &&
        cri_check_unified((void *const *)res->unified, res->n_unified, "CreateContainer", out) < 0)
        return -1;
    if (res && cri_check_hugepages(res->hugepage_limits, res->n_hugepage_limits, "CreateContainer",
                                   out) < 0)
        return -1;
    const Runtime__V1__LinuxContainerSecurityContext *sc = l ? l->security_context : NULL;
    if (sc && sc->run_as_username && *sc->run_as_username && sc->run_as_user)
        return refuse(out, GRPC_INVALID_ARGUMENT,
                      "CreateContainer: run_as_user and run_as_username \"%s\" are both given",
                      sc->run_as_username);
    if (sc && sc->supplemental_groups_policy)
        return refuse(out, GRPC_UNIMPLEMENTED,
                      "CreateContainer: supplemental_groups_policy %s is not supported yet",
                      "Strict");
    for (size_t i = 0; sc && i < sc->n_supplemental_groups; i++)
        if (sc->supplemental_groups[i] < 0 || sc->supplemental_groups[i] > UINT32_MAX - 1)
            return refuse(out, GRPC_INVALID_ARGUMENT,
                          "CreateContainer: supplemental_groups: %s is out of range", "a group id");
    if (sc && sc->run_as_group && !sc->run_as_user &&
        !(sc->run_as_username && *sc->run_as_username))
        return refuse(out, GRPC_INVALID_ARGUMENT,
                      "CreateContainer: %s is given without run_as_user or run_as_username",
                      "run_as_group");
    if (sc && sc->apparmor &&
        sc->apparmor->profile_type == RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Localhost)
        return refuse(out, GRPC_UNIMPLEMENTED,
                      "CreateContainer: AppArmor profile %s (this node has no AppArmor)",
                      sc->apparmor->localhost_ref);
    const Runtime__V1__NamespaceOption *ns = sc ? sc->namespace_options : NULL;
    if (ns && ns->pid == RUNTIME__V1__NAMESPACE_MODE__TARGET)
        return refuse(out, GRPC_UNIMPLEMENTED,
                      "CreateContainer: a %s PID namespace (ephemeral containers' target) is not "
                      "supported yet",
                      "target container's");
    return 0;
}

void cri_create_container(const struct cri_options *o, const ProtobufCMessage *req,
                          struct cri_reply *out)
{
    const Runtime__V1__CreateContainerRequest *in =
        (const Runtime__V1__CreateContainerRequest *)req;
    const Runtime__V1__ContainerConfig *c = in->config;
    if (check_config(c, out) < 0)
        return;
    const Runtime__V1__LinuxContainerConfig *l = c->linux;
    const Runtime__V1__LinuxContainerResources *res = l ? l->resources : NULL;
    const Runtime__V1__LinuxContainerSecurityContext *sc = l ? l->security_context : NULL;
    struct pods_cri_container cc = {
        .name = c->metadata->name,
        .attempt = c->metadata->attempt,
        .image = c->image->image,
        .cwd = c->working_dir,
        .log_path = c->log_path && *c->log_path ? c->log_path : NULL,
        .pid = !sc || !sc->namespace_options                                     ? PODS_NS_NEW
               : sc->namespace_options->pid == RUNTIME__V1__NAMESPACE_MODE__NODE ? PODS_NS_HOST
               : sc->namespace_options->pid == RUNTIME__V1__NAMESPACE_MODE__POD  ? PODS_NS_JOIN
                                                                                 : PODS_NS_NEW,
        /* Kept by the sandbox's shim for Attach, as a CLI pod's (DESIGN.md §2, "Attach"). */
        .stdin_ = c->stdin,
        .stdin_once = c->stdin_once,
        .tty = c->tty,
    };
    if (seccomp_mode(sc, &cc.seccomp, &cc.seccomp_file, out) < 0)
        return;
    _cleanup_free_ char **command = nul_terminated(c->command, c->n_command);
    _cleanup_free_ char **args = nul_terminated(c->args, c->n_args);
    _cleanup_strv_ char **env = xcalloc(c->n_envs + 1, sizeof(char *));
    for (size_t i = 0; i < c->n_envs; i++)
        env[i] = xasprintf("%s=%s", c->envs[i]->key, c->envs[i]->value);
    _cleanup_free_ char **labels = cri_map_strv((void *const *)c->labels, c->n_labels);
    _cleanup_free_ char **annotations =
        cri_map_strv((void *const *)c->annotations, c->n_annotations);
    _cleanup_free_ struct pods_cri_mount *mounts = xcalloc(c->n_mounts + 1, sizeof(*mounts));
    for (size_t i = 0; i < c->n_mounts; i++)
        mounts[i] = (struct pods_cri_mount){
            c->mounts[i]->container_path, c->mounts[i]->host_path, c->mounts[i]->readonly,
            c->mounts[i]->propagation == RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_BIDIRECTIONAL
                ? PODS_PROP_BIDIRECTIONAL
            : c->mounts[i]->propagation ==
                    RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_HOST_TO_CONTAINER
                ? PODS_PROP_HOST_TO_CONTAINER
                : PODS_PROP_PRIVATE};
    _cleanup_free_ char **cap_add = NULL, **cap_drop = NULL, **unified = NULL;
    _cleanup_free_ struct pods_hugepage_limit *huge = NULL;
    _cleanup_free_ gid_t *groups = NULL;
    cc.command = c->n_command ? command : NULL;
    cc.args = c->n_args ? args : NULL;
    cc.env = env;
    cc.labels = labels;
    cc.annotations = annotations;
    cc.mounts = mounts;
    cc.n_mounts = c->n_mounts;
    if (res) {
        cc.resources.cpu_period = res->cpu_period > 0 ? (uint64_t)res->cpu_period : 0;
        cc.resources.cpu_quota = res->cpu_quota > 0 ? res->cpu_quota : 0;
        cc.resources.cpu_shares = res->cpu_shares > 0 ? (uint64_t)res->cpu_shares : 0;
        cc.resources.memory_limit = res->memory_limit_in_bytes > 0 ? res->memory_limit_in_bytes : 0;
        cc.has_oom_score_adj = true;
        cc.oom_score_adj = (int)res->oom_score_adj;
        unified = cri_map_strv((void *const *)res->unified, res->n_unified);
        cc.resources.unified = unified;
        huge = cri_hugepages(res->hugepage_limits, res->n_hugepage_limits);
        cc.resources.hugepage_limits = huge;
        cc.resources.n_hugepage_limits = res->n_hugepage_limits;
        cc.resources.cpuset_cpus = res->cpuset_cpus;
        cc.resources.cpuset_mems = res->cpuset_mems;
    }
    if (sc) {
        cc.privileged = sc->privileged;
        cc.readonly_rootfs = sc->readonly_rootfs;
        cc.no_new_privileges = sc->no_new_privs;
        if (sc->run_as_user) {
            cc.has_user = true;
            cc.uid = (uid_t)sc->run_as_user->value;
        }
        if (sc->run_as_username && *sc->run_as_username)
            cc.username = sc->run_as_username;
        if (sc->n_supplemental_groups) {
            groups = xcalloc(sc->n_supplemental_groups, sizeof(*groups));
            for (size_t i = 0; i < sc->n_supplemental_groups; i++)
                groups[i] = (gid_t)sc->supplemental_groups[i];
            cc.groups = groups;
            cc.n_groups = sc->n_supplemental_groups;
        }
        if (sc->run_as_group) {
            cc.has_group = true;
            cc.gid = (gid_t)sc->run_as_group->value;
        }
        if (sc->capabilities) {
            cap_add = nul_terminated(sc->capabilities->add_capabilities,
                                     sc->capabilities->n_add_capabilities);
            cap_drop = nul_terminated(sc->capabilities->drop_capabilities,
                                      sc->capabilities->n_drop_capabilities);
            cc.cap_add = cap_add;
            cc.cap_drop = cap_drop;
        }
    }
    struct pods_manager *m = NULL;
    if (cri_open_pods(o, false, &m, out) < 0)
        return;
    _cleanup_free_ char *id = NULL;
    _cleanup_error_ pr_error *e = NULL;
    int r = pods_cri_container_create(m, in->pod_sandbox_id, &cc, &id, &e);
    pods_manager_close(m);
    if (r < 0) {
        cri_reply_failed(out, r, e, "CreateContainer");
        return;
    }
    Runtime__V1__CreateContainerResponse resp = RUNTIME__V1__CREATE_CONTAINER_RESPONSE__INIT;
    resp.container_id = id;
    cri_reply_ok(out, &resp.base);
}

/* The calls that take a container id and answer an empty message. */
enum simple_call { START, STOP, REMOVE, REOPEN };

static void simple_call(const struct cri_options *o, enum simple_call call, const char *id,
                        int64_t timeout, struct cri_reply *out)
{
    static const char *const names[] = {"StartContainer", "StopContainer", "RemoveContainer",
                                        "ReopenContainerLog"};
    struct pods_manager *m = NULL;
    if (cri_open_pods(o, false, &m, out) < 0)
        return;
    _cleanup_error_ pr_error *e = NULL;
    int r = call == START    ? pods_cri_container_start(m, id, &e)
            : call == STOP   ? pods_cri_container_stop(m, id, timeout, &e)
            : call == REMOVE ? pods_cri_container_remove(m, id, &e)
                             : pods_cri_reopen_log(m, id, &e);
    pods_manager_close(m);
    if (r < 0) {
        cri_reply_failed(out, r, e, names[call]);
        return;
    }
    /* Every one of these responses is an empty message: one of them packs the same bytes. */
    Runtime__V1__StartContainerResponse resp = RUNTIME__V1__START_CONTAINER_RESPONSE__INIT;
    cri_reply_ok(out, &resp.base);
}

void cri_start_container(const struct cri_options *o, const ProtobufCMessage *req,
                         struct cri_reply *out)
{
    simple_call(o, START, ((const Runtime__V1__StartContainerRequest *)req)->container_id, 0, out);
}

void cri_stop_container(const struct cri_options *o, const ProtobufCMessage *req,
                        struct cri_reply *out)
{
    const Runtime__V1__StopContainerRequest *in = (const Runtime__V1__StopContainerRequest *)req;
    simple_call(o, STOP, in->container_id, in->timeout, out);
}

void cri_remove_container(const struct cri_options *o, const ProtobufCMessage *req,
                          struct cri_reply *out)
{
    simple_call(o, REMOVE, ((const Runtime__V1__RemoveContainerRequest *)req)->container_id, 0,
                out);
}

void cri_reopen_container_log(const struct cri_options *o, const ProtobufCMessage *req,
                              struct cri_reply *out)
{
    simple_call(o, REOPEN, ((const Runtime__V1__ReopenContainerLogRequest *)req)->container_id, 0,
                out);
}

void cri_container_status(const struct cri_options *o, const ProtobufCMessage *req,
                          struct cri_reply *out)
{
    const Runtime__V1__ContainerStatusRequest *in =
        (const Runtime__V1__ContainerStatusRequest *)req;
    _cleanup_json_ yajl_val rec = NULL, st = NULL;
    if (cri_get_record(o, in->container_id, "ContainerStatus", &rec, &st, NULL, out) < 0)
        return;
    struct cri_pool pool = {0};
    Runtime__V1__ContainerMetadata md;
    cri_container_meta(&md, rec);
    Runtime__V1__ImageSpec image = RUNTIME__V1__IMAGE_SPEC__INIT;
    image.image = cri_json_str(json_get(rec, "image"));
    Runtime__V1__ContainerStatus cs = RUNTIME__V1__CONTAINER_STATUS__INIT;
    cs.id = cri_json_str(json_get(rec, "id"));
    cs.metadata = &md;
    cs.state = cri_container_state(st);
    cs.created_at = cri_json_int(json_get(rec, "createdAt"));
    cs.started_at = cri_rfc3339_ns(YAJL_GET_STRING(json_get(st, "startedAt")));
    cs.image = &image;
    cs.image_ref = cri_json_str(json_get(rec, "imageRef"));
    cs.image_id = cs.image_ref;
    cs.log_path = cri_json_str(json_get(rec, "logPath"));
    if (cs.state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED) {
        cs.finished_at = cri_rfc3339_ns(YAJL_GET_STRING(json_get(st, "finishedAt")));
        yajl_val code = json_get(st, "exitCode");
        /* No exit code: it died where nobody could see it (128+SIGKILL, as the kubelet
         * counts an unknown end). */
        cs.exit_code = YAJL_IS_INTEGER(code) ? (int32_t)YAJL_GET_INTEGER(code) : 137;
        cs.reason = cri_json_str(json_get(st, "reason"));
        cs.message = cri_json_str(json_get(st, "message"));
    }
    CRI_MAP_FROM_JSON(&pool, json_get(rec, "labels"), Runtime__V1__ContainerStatus__LabelsEntry,
                      RUNTIME__V1__CONTAINER_STATUS__LABELS_ENTRY__INIT, cs.n_labels, cs.labels);
    CRI_MAP_FROM_JSON(
        &pool, json_get(rec, "annotations"), Runtime__V1__ContainerStatus__AnnotationsEntry,
        RUNTIME__V1__CONTAINER_STATUS__ANNOTATIONS_ENTRY__INIT, cs.n_annotations, cs.annotations);
    Runtime__V1__ContainerStatusResponse resp = RUNTIME__V1__CONTAINER_STATUS_RESPONSE__INIT;
    resp.status = &cs;
    if (in->verbose) {
        _cleanup_gen_ yajl_gen g = json_gen_new(false);
        jg_map_open(g);
        jg_key(g, "record");
        jg_value(g, rec);
        if (st) {
            jg_key(g, "status");
            jg_value(g, st);
        }
        jg_key_int(g, "pid", cri_json_int(json_get(st, "pid")));
        jg_map_close(g);
        resp.n_info = 1;
        resp.info = cri_verbose_info(
            &pool, &runtime__v1__container_status_response__info_entry__descriptor, g);
    }
    cri_reply_ok(out, &resp.base);
    cri_pool_free(&pool);
}

void cri_list_containers(const struct cri_options *o, const ProtobufCMessage *req,
                         struct cri_reply *out)
{
    const Runtime__V1__ListContainersRequest *in = (const Runtime__V1__ListContainersRequest *)req;
    const Runtime__V1__ContainerFilter *f = in->filter;
    struct cri_filter keep = CRI_FILTER(f);
    keep.sandbox = f ? f->pod_sandbox_id : NULL;
    if (f && f->state) {
        keep.has_state = true;
        keep.state = (int)f->state->state;
    }
    struct cri_records recs = {0};
    if (cri_list_records(o, true, &keep, "ListContainers", &recs, NULL, out) < 0)
        return;
    struct cri_pool pool = {0};
    Runtime__V1__Container **items = cri_pool_add(&pool, xcalloc(recs.n + 1, sizeof(*items)));
    for (size_t i = 0; i < recs.n; i++) {
        yajl_val rec = recs.rec[i];
        Runtime__V1__Container *it = cri_pool_add(&pool, xmalloc(sizeof(*it)));
        *it = (Runtime__V1__Container)RUNTIME__V1__CONTAINER__INIT;
        Runtime__V1__ContainerMetadata *md = cri_pool_add(&pool, xmalloc(sizeof(*md)));
        cri_container_meta(md, rec);
        Runtime__V1__ImageSpec *image = cri_pool_add(&pool, xmalloc(sizeof(*image)));
        *image = (Runtime__V1__ImageSpec)RUNTIME__V1__IMAGE_SPEC__INIT;
        image->image = cri_json_str(json_get(rec, "image"));
        it->id = cri_json_str(json_get(rec, "id"));
        it->pod_sandbox_id = cri_json_str(json_get(rec, "sandbox"));
        it->metadata = md;
        it->image = image;
        it->image_ref = cri_json_str(json_get(rec, "imageRef"));
        it->image_id = it->image_ref;
        it->state = cri_container_state(recs.st[i]);
        it->created_at = cri_json_int(json_get(rec, "createdAt"));
        CRI_MAP_FROM_JSON(&pool, json_get(rec, "labels"), Runtime__V1__Container__LabelsEntry,
                          RUNTIME__V1__CONTAINER__LABELS_ENTRY__INIT, it->n_labels, it->labels);
        CRI_MAP_FROM_JSON(
            &pool, json_get(rec, "annotations"), Runtime__V1__Container__AnnotationsEntry,
            RUNTIME__V1__CONTAINER__ANNOTATIONS_ENTRY__INIT, it->n_annotations, it->annotations);
        items[i] = it;
    }
    Runtime__V1__ListContainersResponse resp = RUNTIME__V1__LIST_CONTAINERS_RESPONSE__INIT;
    resp.n_containers = recs.n;
    resp.containers = items;
    cri_reply_ok(out, &resp.base);
    cri_pool_free(&pool);
    cri_records_free(&recs);
}

void cri_exec_sync(const struct cri_options *o, const ProtobufCMessage *req, struct cri_reply *out)
{
    const Runtime__V1__ExecSyncRequest *in = (const Runtime__V1__ExecSyncRequest *)req;
    _cleanup_free_ char **cmd = nul_terminated(in->cmd, in->n_cmd);
    struct pods_manager *m = NULL;
    if (cri_open_pods(o, false, &m, out) < 0)
        return;
    _cleanup_free_ char *sout = NULL, *serr = NULL;
    int code = 0;
    _cleanup_error_ pr_error *e = NULL;
    int r = pods_cri_exec_sync(m, in->container_id, cmd, in->timeout, &sout, &serr, &code, &e);
    pods_manager_close(m);
    if (r < 0) {
        cri_reply_failed(out, r, e, "ExecSync");
        return;
    }
    Runtime__V1__ExecSyncResponse resp = RUNTIME__V1__EXEC_SYNC_RESPONSE__INIT;
    resp.stdout.data = (uint8_t *)sout;
    resp.stdout.len = strlen(sout);
    resp.stderr.data = (uint8_t *)serr;
    resp.stderr.len = strlen(serr);
    resp.exit_code = code;
    cri_reply_ok(out, &resp.base);
}

void cri_update_container_resources(const struct cri_options *o, const ProtobufCMessage *req,
                                    struct cri_reply *out)
{
    const Runtime__V1__UpdateContainerResourcesRequest *in =
        (const Runtime__V1__UpdateContainerResourcesRequest *)req;
    const Runtime__V1__LinuxContainerResources *res = in->linux;
    if (!res) {
        cri_reply_error(out, GRPC_INVALID_ARGUMENT,
                        "UpdateContainerResources: linux resources are required");
        return;
    }
    if (res->oom_score_adj) {
        cri_reply_error(out, GRPC_UNIMPLEMENTED,
                        "UpdateContainerResources: %s cannot be changed by podrun yet",
                        "oom_score_adj");
        return;
    }
    if (cri_check_cpuset(res->cpuset_cpus, res->cpuset_mems, "UpdateContainerResources", out) < 0)
        return;
    if (cri_check_unified((void *const *)res->unified, res->n_unified, "UpdateContainerResources",
                          out) < 0)
        return;
    _cleanup_free_ char **unified = cri_map_strv((void *const *)res->unified, res->n_unified);
    if (cri_check_hugepages(res->hugepage_limits, res->n_hugepage_limits,
                            "UpdateContainerResources", out) < 0)
        return;
    _cleanup_free_ struct pods_hugepage_limit *huge =
        cri_hugepages(res->hugepage_limits, res->n_hugepage_limits);
    struct pods_resources pr = {
        .memory_limit = res->memory_limit_in_bytes > 0 ? res->memory_limit_in_bytes : 0,
        .cpu_shares = res->cpu_shares > 0 ? (uint64_t)res->cpu_shares : 0,
        .cpu_quota = res->cpu_quota > 0 ? res->cpu_quota : 0,
        .cpu_period = res->cpu_period > 0 ? (uint64_t)res->cpu_period : 0,
        .unified = unified,
        .hugepage_limits = huge,
        .n_hugepage_limits = res->n_hugepage_limits,
        .cpuset_cpus = res->cpuset_cpus,
        .cpuset_mems = res->cpuset_mems,
    };
    struct pods_manager *m = NULL;
    if (cri_open_pods(o, false, &m, out) < 0)
        return;
    _cleanup_error_ pr_error *e = NULL;
    int r = pods_cri_container_update(m, in->container_id, &pr, &e);
    pods_manager_close(m);
    if (r < 0) {
        cri_reply_failed(out, r, e, "UpdateContainerResources");
        return;
    }
    Runtime__V1__UpdateContainerResourcesResponse resp =
        RUNTIME__V1__UPDATE_CONTAINER_RESOURCES_RESPONSE__INIT;
    cri_reply_ok(out, &resp.base);
}
