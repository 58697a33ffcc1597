/* SPDX-License-Identifier: Apache-2.0 */
/* CRI sandboxes (pods.h): a pod made the way a kubelet asks for it, with no container yet.
 * The order of making is the CLI's (pod.c), each step noted in the sandbox's directory before
 * it is taken, so that the one teardown undoes a failed run and every remove: the record, the
 * pod cgroup (unless the kubelet names its own parent), the pinned namespaces, CNI ADD, the
 * pod's /etc files, the shim (unsupervised, a sandbox: containers come by request). */
#include "fs.h"
#include "manager.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

/* A sandbox's directories are named by the first 24 digits of its id (96 bits, checked unique
 * when made): the shim's socket path inside must fit a sockaddr_un under any run root. */
#define DIR_ID_LEN 24

bool pods_cri_id_valid(const char *id)
{
    if (!id || strlen(id) != PODS_CRI_ID_LEN)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int pods_cri_new_id(char **out, pr_error **err)
{
    unsigned char b[PODS_CRI_ID_LEN / 2];
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
        return pr_err(err, errno, "getrandom");
    char *s = xmalloc(PODS_CRI_ID_LEN + 1);
    for (size_t i = 0; i < sizeof(b); i++)
        sprintf(s + 2 * i, "%02x", b[i]);
    *out = s;
    return 0;
}

void pods_sandbox_paths_init(pods_manager *m, const char *id, struct pods_pod_paths *p)
{
    p->uid = id;
    p->run_dir = xasprintf("%s/sandboxes/%.*s", m->run_root, DIR_ID_LEN, id);
    p->shim_dir = xasprintf("%s/shim", p->run_dir);
    p->ns_dir = xasprintf("%s/ns", p->run_dir);
    p->lib_dir = xasprintf("%s/sandboxes/%.*s", m->lib_root, DIR_ID_LEN, id);
    p->log_dir = xasprintf("%s/logs", p->run_dir);
    p->cgroup = NULL;
}

char *pods_cri_sandboxes_dir(pods_manager *m)
{
    return xasprintf("%s/sandboxes", m->run_root);
}

char *pods_cri_shim_dir_in(const char *sandboxes_dir, const char *sandbox)
{
    return xasprintf("%s/%.*s/shim", sandboxes_dir, DIR_ID_LEN, sandbox);
}

int pods_shim_request(pods_manager *m, const struct pods_pod_paths *p, const char *req,
                      int timeout_s, yajl_val *reply, pr_error **err)
{
    char *argv[] = {m->shim, "--pod-dir", p->shim_dir, "--request", (char *)req, NULL};
    _cleanup_free_ char *out = NULL, *errout = NULL;
    int status;
    int r = pods_exec(argv, NULL, NULL, 0, timeout_s, &out, &errout, &status, err);
    if (r < 0)
        return r;
    _cleanup_json_ yajl_val v = NULL;
    bool ok = false;
    if (json_parse(out, "the shim's reply", &v, NULL) < 0 ||
        json_get_bool(v, "ok", "reply", &ok, NULL) < 0 || !ok) {
        const char *msg = YAJL_GET_STRING(json_get(v, "error"));
        errout[strcspn(errout, "\n")] = '\0';
        return pr_err(err, 0, "the shim: %s", msg ? msg : *errout ? errout : "no answer");
    }
    if (reply)
        *reply = steal_pointer(&v);
    return 0;
}

/* Sandboxes are made, changed and removed under the manager's shared lock, so that many run at
 * once (a kubelet starts a node's pods together); what must not interleave takes one of these:
 * the sandboxes' lock for names and ids (and podrun's own pod cgroups, whose parents are
 * shared), a sandbox's own for its containers. */
static int lock_sandboxes(pods_manager *m, int *fd, pr_error **err)
{
    _cleanup_free_ char *top = xasprintf("%s/sandboxes", m->run_root);
    _cleanup_free_ char *path = xasprintf("%s/sandboxes.lock", m->run_root);
    int r = mkdir_p(top, 0700, err);
    if (r < 0 || (r = lock_path(path, true, err)) < 0)
        return r;
    *fd = r;
    return 0;
}

int pods_sandbox_lock(const struct pods_pod_paths *p, int *fd, pr_error **err)
{
    _cleanup_free_ char *path = xasprintf("%s/lock", p->run_dir);
    int r = lock_path(path, true, err);
    if (r < 0)
        return r;
    *fd = r;
    return 0;
}

static char *record_path(const struct pods_pod_paths *p)
{
    return xasprintf("%s/sandbox.json", p->run_dir);
}

int pods_sandbox_record(pods_manager *m, const char *id, yajl_val *out, pr_error **err)
{
    if (!pods_cri_id_valid(id))
        return pr_err_code(err, ENOENT, "sandbox \"%s\" not found", id ? id : "");
    struct pods_pod_paths p;
    pods_sandbox_paths_init(m, id, &p);
    _cleanup_free_ char *path = record_path(&p);
    pods_pod_paths_clear(&p);
    if (access(path, F_OK) < 0)
        return pr_err_code(err, ENOENT, "sandbox \"%s\" not found", id);
    yajl_val rec = NULL;
    int r = json_parse_file_max(path, 1u << 20, READ_REGULAR, &rec, err);
    if (r < 0)
        return r;
    const char *rid = YAJL_GET_STRING(json_get(rec, "id"));
    if (!rid || !streq(rid, id)) {
        yajl_tree_free(rec);
        return pr_err_code(err, ENOENT, "sandbox \"%s\" not found", id);
    }
    *out = rec;
    return 0;
}

/* The record, rewritten whole; state and ip change after it is first written. */
static int write_record(const struct pods_pod_paths *p, const struct pods_sandbox_config *c,
                        long long created, const char *state, const char *ip, bool own_cgroup,
                        const char *cgroup, pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "id", p->uid);
    jg_key_str(g, "name", c->name);
    jg_key_str(g, "namespace", c->ns);
    jg_key_str(g, "uid", c->uid);
    jg_key_int(g, "attempt", c->attempt);
    jg_key_int(g, "createdAt", created);
    jg_key_str(g, "state", state);
    jg_key_str(g, "ip", ip);
    jg_key_str(g, "hostname", c->hostname);
    jg_key_str(g, "logDirectory", c->log_directory);
    jg_key_str(g, "cgroupParent", cgroup);
    jg_key_bool(g, "ownCgroup", own_cgroup);
    jg_key_str(g, "cgroupDriver", c->systemd_cgroup ? "systemd" : "cgroupfs");
    jg_key_bool(g, "hostNetwork", c->host_network);
    jg_key_bool(g, "hostIPC", c->host_ipc);
    jg_key_bool(g, "sharePID", c->share_pid);
    jg_key_kv(g, "sysctls", c->sysctls);
    jg_key_kv(g, "labels", c->labels);
    jg_key_kv(g, "annotations", c->annotations);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *path = record_path(p);
    return write_file_atomic(path, buf, len, 0600, err);
}

int pods_sandbox_ids(pods_manager *m, char ***ids, pr_error **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/sandboxes", m->run_root);
    _cleanup_dir_ DIR *d = opendir(dir);
    *ids = NULL;
    if (!d)
        return errno == ENOENT ? 0 : pr_err(err, errno, "open `%s`", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strlen(e->d_name) != DIR_ID_LEN)
            continue;
        _cleanup_free_ char *path = xasprintf("%s/%s/sandbox.json", dir, e->d_name);
        _cleanup_json_ yajl_val rec = NULL;
        if (json_parse_file_max(path, 1u << 20, READ_REGULAR, &rec, NULL) < 0)
            continue;
        const char *id = YAJL_GET_STRING(json_get(rec, "id"));
        if (pods_cri_id_valid(id) && strncmp(id, e->d_name, DIR_ID_LEN) == 0)
            strv_extend(ids, id);
    }
    return 0;
}

/* The kubelet's metadata names one sandbox: a second run of it is refused while the first
 * exists (the kubelet removes the old attempt first). */
static int check_unique(pods_manager *m, const struct pods_sandbox_config *c, pr_error **err)
{
    _cleanup_strv_ char **ids = NULL;
    int r = pods_sandbox_ids(m, &ids, err);
    for (size_t i = 0; r == 0 && ids && ids[i]; i++) {
        _cleanup_json_ yajl_val rec = NULL;
        _cleanup_error_ pr_error *e = NULL;
        if (pods_sandbox_record(m, ids[i], &rec, &e) < 0)
            continue;
        const char *n = YAJL_GET_STRING(json_get(rec, "name"));
        const char *ns = YAJL_GET_STRING(json_get(rec, "namespace"));
        const char *uid = YAJL_GET_STRING(json_get(rec, "uid"));
        yajl_val a = json_get(rec, "attempt");
        if (n && ns && uid && streq(n, c->name) && streq(ns, c->ns) && streq(uid, c->uid) &&
            YAJL_IS_INTEGER(a) && YAJL_GET_INTEGER(a) == c->attempt)
            return pr_err_code(err, EEXIST,
                               "sandbox name \"%s_%s_%s_%u\" is reserved for sandbox %s", c->name,
                               c->ns, c->uid, c->attempt, ids[i]);
    }
    return r;
}

static int check_config(const struct pods_sandbox_config *c, pr_error **err)
{
    int r;
    if (!c->name || !*c->name || !c->ns || !*c->ns || !c->uid || !*c->uid)
        return pr_err_code(err, EINVAL, "config.metadata: name, namespace and uid are required");
    if (!kube_valid_subdomain(c->name) || !kube_valid_label_name(c->ns) || strchr(c->uid, '/'))
        return pr_err_code(err, EINVAL, "config.metadata: \"%s\" in \"%s\" is not a valid name",
                           c->name, c->ns);
    if (!c->log_directory || c->log_directory[0] != '/')
        return pr_err_code(err, EINVAL, "config.log_directory: an absolute path is required");
    if ((r = pods_cri_check_cgroup_parent(c->cgroup_parent, c->systemd_cgroup, err)) < 0)
        return r;
    for (size_t i = 0; i < c->n_port_mappings; i++) {
        const struct pods_port_mapping *a = &c->port_mappings[i];
        if (!a->host_port)
            continue;
        if (a->host_port < 1 || a->host_port > 65535 || a->container_port < 1 ||
            a->container_port > 65535)
            return pr_err_code(err, EINVAL, "config.port_mappings[%zu]: ports are 1 to 65535", i);
        for (size_t j = 0; j < i; j++)
            if (c->port_mappings[j].host_port == a->host_port &&
                streq(c->port_mappings[j].protocol, a->protocol))
                return pr_err_code(err, EINVAL,
                                   "config.port_mappings[%zu]: host port %d/%s is also in "
                                   "port_mappings[%zu]",
                                   i, a->host_port, a->protocol, j);
    }
    if (!c->host_network && (!c->hostname || !*c->hostname))
        return pr_err_code(err, EINVAL,
                           "config.hostname: required unless the network is the node's");
    return 0;
}

static void write_lines(FILE *f, const char *word, char *const *v, bool one_line)
{
    if (!v || !*v)
        return;
    if (one_line) {
        fputs(word, f);
        for (; *v; v++)
            fprintf(f, " %s", *v);
        fputc('\n', f);
        return;
    }
    for (; *v; v++)
        fprintf(f, "%s %s\n", word, *v);
}

/* resolv.conf as containerd writes it: the kubelet's DNS config, else the node's file. */
static int write_etc(pods_manager *m, const struct pods_pod_paths *p,
                     const struct pods_sandbox_config *c, pr_error **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/etc", p->run_dir);
    int r = mkdir_p(dir, 0755, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if ((c->dns_servers && *c->dns_servers) || (c->dns_searches && *c->dns_searches) ||
        (c->dns_options && *c->dns_options)) {
        FILE *f = open_memstream(&text, &len);
        write_lines(f, "search", c->dns_searches, true);
        write_lines(f, "nameserver", c->dns_servers, false);
        write_lines(f, "options", c->dns_options, true);
        fclose(f);
    } else if (m->resolv_conf && *m->resolv_conf && access(m->resolv_conf, F_OK) == 0 &&
               (r = read_file_max(m->resolv_conf, PODS_RESOLV_CONF_MAX, READ_REGULAR, &text, &len,
                                  err)) < 0) {
        return r;
    }
    _cleanup_free_ char *resolv = xasprintf("%s/resolv.conf", dir);
    _cleanup_free_ char *hostname = xasprintf("%s/hostname", dir);
    _cleanup_free_ char *host = xasprintf("%s\n", c->hostname ? c->hostname : "");
    if ((r = write_file_atomic_volatile(resolv, text ? text : "", len, 0644, err)) < 0 ||
        (r = write_file_atomic_volatile(hostname, host, strlen(host), 0644, err)) < 0)
        return r;
    return 0;
}

static int write_shim_spec(pods_manager *m, const struct pods_pod_paths *p,
                           const struct pods_sandbox_config *c, pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(true);
    _cleanup_free_ char *runtime_root = xasprintf("%s/runtime", m->run_root);
    jg_map_open(g);
    jg_key_str(g, "name", c->name);
    jg_key_str(g, "namespace", c->ns);
    jg_key_str(g, "runtime", m->runtime);
    jg_key_str(g, "runtimeRoot", runtime_root);
    jg_key_bool(g, "supervise", false);
    jg_key_bool(g, "sandbox", true);
    if (c->systemd_cgroup)
        jg_key_bool(g, "runtimeSystemdCgroup", true);
    jg_key_str(g, "restartPolicy", "Never");
    /* The kubelet rotates CRI logs itself and asks for a reopen. */
    jg_key_int(g, "logMaxSize", 0);
    jg_key_str(g, "logDir", c->log_directory);
    /* The shim holds the shared PID namespace's init, as for a CLI pod with
     * shareProcessNamespace (DESIGN.md contract 2): there is no pause container to be it. */
    _cleanup_free_ char *pidns = xasprintf("%s/pid", p->ns_dir);
    if (c->share_pid)
        jg_key_str(g, "pidNamespace", pidns);
    jg_key(g, "containers");
    jg_array_open(g);
    jg_array_close(g);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *path = xasprintf("%s/spec.json", p->shim_dir);
    return write_file_atomic_volatile(path, buf, len, 0600, err);
}

/* The shim's remove (every container stopped at once and deleted), then whatever is left of
 * the containers' roots. */
static int stop_shim(pods_manager *m, const struct pods_pod_paths *p, pr_error **err)
{
    if (!pods_shim_alive(p))
        return 0;
    int r = pods_shim_request(m, p, "{\"cmd\":\"remove\",\"timeoutSeconds\":0}", 60, NULL, err);
    if (r == 0 && pods_shim_alive(p))
        r = pr_err(err, 0, "the shim of sandbox %s did not go away after remove", p->uid);
    return r;
}

static int teardown(pods_manager *m, const struct pods_pod_paths *p, yajl_val rec, pr_error **err)
{
    _cleanup_free_ char *netns = xasprintf("%s/net", p->ns_dir);
    int r = stop_shim(m, p, err);
    /* A shim that died leaves the shared PID namespace's init running. */
    if (r == 0)
        r = pods_pidns_kill(p, err);
    if (r == 0) {
        int r2 = pods_cri_containers_remove_all(m, p, err);
        bool own = rec && YAJL_IS_TRUE(json_get(rec, "ownCgroup"));
        int r3 = 0;
        if (own && r2 == 0) {
            _cleanup_close_ int lock = -1;
            if ((r3 = lock_sandboxes(m, &lock, err)) == 0)
                r3 = pods_cgroup_remove(m, p->uid, err);
        }
        int r6 = pods_hostports_del(m, p, err);
        int r4 = pods_cni_del(m, p->uid, netns, p->run_dir, err);
        int r5 = pods_sandbox_destroy(p->ns_dir, err);
        r = r2 < 0 ? r2 : r3 < 0 ? r3 : r6 < 0 ? r6 : r4 < 0 ? r4 : r5;
    }
    if (r < 0)
        return pr_err_prefix(err, "remove sandbox %s", p->uid);
    const char *dirs[] = {p->lib_dir, p->run_dir};
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
        if (rm_rf(dirs[i]) < 0)
            return pr_err(err, errno, "remove sandbox %s: remove `%s`", p->uid, dirs[i]);
    return 0;
}

/* A pod cgroup of podrun's own when the kubelet names none, under the cgroupfs driver only:
 * under systemd's, containers without a slice go to the runtime's default one, as containerd's
 * do (a slice would need systemd to make it and remove it). */
static bool own_cgroup(const struct pods_sandbox_config *c)
{
    return (!c->cgroup_parent || !*c->cgroup_parent) && !c->systemd_cgroup;
}

static int make_sandbox(pods_manager *m, const struct pods_pod_paths *p,
                        const struct pods_sandbox_config *c, long long created, pr_error **err)
{
    bool own = own_cgroup(c);
    _cleanup_free_ char *cgroup = own ? pods_cgroup_pod_path(m, KUBE_QOS_BESTEFFORT, p->uid)
                                      : xstrdup(c->cgroup_parent ? c->cgroup_parent : "");
    _cleanup_free_ char *netns = xasprintf("%s/net", p->ns_dir);
    _cleanup_free_ char *ip = NULL;
    int flags =
        (c->host_network ? 0 : CLONE_NEWNET | CLONE_NEWUTS) | (c->host_ipc ? 0 : CLONE_NEWIPC);
    int r;
    if ((r = pods_sandbox_create(p->ns_dir, flags, c->hostname, err)) < 0)
        return r;
    if (c->host_network && !(ip = pods_node_ip()))
        ip = xstrdup("");
    if (!c->host_network && (r = pods_cni_add(m, p->uid, netns, p->run_dir, &ip, err)) < 0)
        return r;
    if (c->n_port_mappings) {
        /* Claims are judged against every other pod's: one sandbox at a time. */
        _cleanup_close_ int lock = -1;
        if ((r = lock_sandboxes(m, &lock, err)) < 0 ||
            (r = pods_hostports_add_mappings(m, p, c->port_mappings, c->n_port_mappings,
                                             c->host_network ? NULL : ip, err)) < 0)
            return r;
    }
    if ((r = write_etc(m, p, c, err)) < 0 || (r = mkdir_p(p->shim_dir, 0700, err)) < 0 ||
        (r = write_shim_spec(m, p, c, err)) < 0 || (r = pods_shim_start(m, p, err)) < 0)
        return r;
    return write_record(p, c, created, "ready", ip, own, cgroup, err);
}

/* A sandbox directory without its record is of a run killed before the record was written
 * (directory and record are made in one hold of the sandboxes' lock, which the caller holds),
 * or of a remove killed while it deleted the directory: no call lists it, so none would ever
 * remove it. Removed here, unless a remove still holds the sandbox's lock; rm_rf never crosses
 * a mount. */
static void remove_orphans(pods_manager *m)
{
    _cleanup_free_ char *top = xasprintf("%s/sandboxes", m->run_root);
    _cleanup_dir_ DIR *d = opendir(top);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' || strlen(e->d_name) != DIR_ID_LEN)
            continue;
        _cleanup_free_ char *rec = xasprintf("%s/sandbox.json", e->d_name);
        if (faccessat(dirfd(d), rec, F_OK, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
            continue;
        _cleanup_free_ char *lock = xasprintf("%s/lock", e->d_name);
        _cleanup_close_ int fd = openat(dirfd(d), lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0)
            continue;
        rm_rf_at(dirfd(d), e->d_name);
    }
}

int pods_sandbox_run(pods_manager *m, const struct pods_sandbox_config *c, char **id,
                     pr_error **err)
{
    _cleanup_free_ char *sid = NULL;
    _cleanup_close_ int lock = -1;
    int r;
    if ((r = check_config(c, err)) < 0 || (r = lock_sandboxes(m, &lock, err)) < 0)
        return r;
    remove_orphans(m);
    if ((r = check_unique(m, c, err)) < 0)
        return r;
    _cleanup_free_ char *top = xasprintf("%s/sandboxes", m->run_root);
    struct pods_pod_paths p;
    /* A directory of that name already there (a prefix taken, or a teardown left it): another
     * id. */
    for (int tries = 0;; tries++) {
        free(sid);
        sid = NULL;
        if ((r = pods_cri_new_id(&sid, err)) < 0)
            return r;
        pods_sandbox_paths_init(m, sid, &p);
        int e = EEXIST;
        if (mkdir(p.run_dir, 0700) == 0) {
            if (access(p.lib_dir, F_OK) < 0)
                break;
            rmdir(p.run_dir);
        } else {
            e = errno;
        }
        pods_pod_paths_clear(&p);
        if (e != EEXIST || tries > 8)
            return pr_err(err, e, "create a sandbox directory under `%s`", top);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long created = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    bool own = own_cgroup(c);
    _cleanup_free_ char *cgroup = own ? pods_cgroup_pod_path(m, KUBE_QOS_BESTEFFORT, sid)
                                      : xstrdup(c->cgroup_parent ? c->cgroup_parent : "");
    struct kube_compute none = {0};
    /* The record first, naming the cgroup: the teardown of a run killed from here on finds
     * what to undo; with it the name is taken, and the lock can go. */
    if ((r = write_record(&p, c, created, "notready", NULL, own, cgroup, err)) == 0 && own)
        r = pods_cgroup_create(m, sid, KUBE_QOS_BESTEFFORT, &none, err);
    close(lock);
    lock = -1;
    if (r == 0)
        r = make_sandbox(m, &p, c, created, err);
    if (r < 0) {
        _cleanup_json_ yajl_val rec = NULL;
        _cleanup_error_ pr_error *e = NULL;
        _cleanup_free_ char *path = record_path(&p);
        json_parse_file(path, &rec, NULL);
        if (teardown(m, &p, rec, &e) < 0 && err && *err) {
            char *msg = xasprintf("%s; undoing it failed too: %s", (*err)->msg, e->msg);
            free((*err)->msg);
            (*err)->msg = msg;
        }
        pods_pod_paths_clear(&p);
        return r;
    }
    pods_pod_paths_clear(&p);
    *id = steal_pointer(&sid);
    return 0;
}

int pods_sandbox_stop(pods_manager *m, const char *id, pr_error **err)
{
    _cleanup_json_ yajl_val rec = NULL;
    int r = pods_sandbox_record(m, id, &rec, err);
    if (r < 0)
        return r;
    struct pods_pod_paths p;
    pods_sandbox_paths_init(m, id, &p);
    _cleanup_free_ char *netns = xasprintf("%s/net", p.ns_dir);
    _cleanup_close_ int lock = -1;
    if ((r = pods_sandbox_lock(&p, &lock, err)) < 0) {
        pods_pod_paths_clear(&p);
        return r;
    }
    /* Every container killed at once (the kubelet stopped them with their grace already). */
    if (pods_shim_alive(&p))
        r = pods_shim_request(m, &p, "{\"cmd\":\"stop\",\"timeoutSeconds\":0}", 60, NULL, err);
    if (r == 0)
        r = pods_cri_wait_stopped(m, &p, NULL, 30, err);
    if (r == 0)
        r = pods_hostports_del(m, &p, err);
    if (r == 0)
        r = pods_cni_del(m, id, netns, p.run_dir, err);
    if (r == 0 && !streq(YAJL_GET_STRING(json_get(rec, "state")) ?: "", "notready")) {
        /* The record again with state notready, the rest as it was. */
        _cleanup_gen_ yajl_gen g = json_gen_new(false);
        jg_map_open(g);
        for (size_t i = 0; i < rec->u.object.len; i++) {
            jg_key(g, rec->u.object.keys[i]);
            if (streq(rec->u.object.keys[i], "state"))
                jg_str(g, "notready");
            else
                jg_value(g, rec->u.object.values[i]);
        }
        jg_map_close(g);
        size_t len;
        const char *buf = jg_buf(g, &len);
        _cleanup_free_ char *path = record_path(&p);
        r = write_file_atomic(path, buf, len, 0600, err);
    }
    pods_pod_paths_clear(&p);
    return r < 0 ? pr_err_prefix(err, "stop sandbox %s", id) : 0;
}

int pods_sandbox_remove(pods_manager *m, const char *id, pr_error **err)
{
    if (!pods_cri_id_valid(id))
        return 0;
    struct pods_pod_paths p;
    pods_sandbox_paths_init(m, id, &p);
    _cleanup_json_ yajl_val rec = NULL;
    _cleanup_free_ char *path = record_path(&p);
    int r = 0;
    _cleanup_error_ pr_error *e = NULL;
    bool there = access(p.run_dir, F_OK) == 0 || access(p.lib_dir, F_OK) == 0;
    /* A directory of another id with the same first digits is not this one's. */
    if (there && json_parse_file(path, &rec, &e) == 0 &&
        !streq(YAJL_GET_STRING(json_get(rec, "id")) ?: "", id))
        there = false;
    _cleanup_close_ int lock = -1;
    if (there && access(p.run_dir, F_OK) == 0)
        r = pods_sandbox_lock(&p, &lock, err);
    if (there && r == 0)
        r = teardown(m, &p, rec, err);
    pods_pod_paths_clear(&p);
    return r;
}
