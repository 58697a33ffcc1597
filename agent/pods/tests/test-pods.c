/* SPDX-License-Identifier: Apache-2.0 */
/* The pod manager's OCI config builder (agent/pods/bundle.c): every config it writes is parsed
 * back and checked field by field. Then what the manager refuses before making anything
 * (agent/pods/check.c). */
#include "pods/manager.h"
#include "pods/pods.h"
#include "fs.h"
#include "json.h"
#include "tests/lib/unit.h"
#include "util.h"

#include <sys/prctl.h>
#include <stdlib.h>
#include <sys/stat.h>

#define V(...) ((char *const[]){__VA_ARGS__, NULL})

static yajl_val build(const struct pods_container_config *c)
{
    _cleanup_free_ char *json = NULL;
    pr_error *err = NULL;
    if (pods_bundle_config(c, &json, &err) < 0) {
        fprintf(stderr, "# unexpected error: %s\n", err->msg);
        pr_error_free(err);
        return NULL;
    }
    yajl_val v = NULL;
    if (json_parse(json, "built config", &v, NULL) < 0)
        return NULL;
    return v;
}

/* The error message of a config that must be refused, or NULL when it was accepted. */
static char *refusal(const struct pods_container_config *c)
{
    _cleanup_free_ char *json = NULL;
    pr_error *err = NULL;
    if (pods_bundle_config(c, &json, &err) == 0)
        return NULL;
    char *m = xstrdup(err->msg);
    pr_error_free(err);
    return m;
}

static yajl_val path(yajl_val v, const char *a, const char *b)
{
    v = json_get(v, a);
    return b ? json_get(v, b) : v;
}

static bool strv_has(yajl_val arr, const char *s)
{
    for (size_t i = 0; i < json_array_len(arr); i++) {
        yajl_val x = json_array_at(arr, i);
        if (YAJL_IS_STRING(x) && streq(x->u.string, s))
            return true;
    }
    return false;
}

static const char *str_at(yajl_val arr, size_t i)
{
    yajl_val x = json_array_at(arr, i);
    return x && YAJL_IS_STRING(x) ? x->u.string : NULL;
}

static image_process test_image(void)
{
    static char *ep[] = {(char *)"/entry", NULL}, *cmd[] = {(char *)"serve", (char *)"-v", NULL};
    static char *env[] = {(char *)"PATH=/bin", (char *)"MODE=image", NULL};
    static char *labels[] = {(char *)"org.example.team=core", NULL};
    static char *ports[] = {(char *)"80/tcp", (char *)"443/tcp", NULL};
    static gid_t gids[] = {10, 11};
    return (image_process){.entrypoint = ep,
                           .cmd = cmd,
                           .env = env,
                           .cwd = (char *)"/srv",
                           .uid = 1000,
                           .gid = 100,
                           .additional_gids = gids,
                           .n_additional_gids = 2,
                           .stop_signal = (char *)"SIGQUIT",
                           .exposed_ports = ports,
                           .labels = labels};
}

static void test_argv_follows_kubernetes_rules(void)
{
    image_process img = test_image();
    struct {
        char *const *command, *const *args;
        const char *want;
    } cases[] = {
        {NULL, NULL, "/entry serve -v"},
        {NULL, V("other"), "/entry other"},
        {V("/bin/sh", "-c"), NULL, "/bin/sh -c"},
        {V("/bin/sh"), V("-c", "true"), "/bin/sh -c true"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_strv_ char **argv = pods_container_argv(&img, cases[i].command, cases[i].args);
        _cleanup_free_ char *joined = xstrdup("");
        for (char **a = argv; a && *a; a++) {
            char *n = xasprintf("%s%s%s", joined, *joined ? " " : "", *a);
            free(joined);
            joined = n;
        }
        CHECK_STR(joined, cases[i].want);
    }
    image_process bare = {0};
    _cleanup_strv_ char **none = pods_container_argv(&bare, NULL, V("x"));
    CHECK(none && streq(none[0], "x") && !none[1]);
    CHECK(pods_container_argv(&bare, NULL, NULL) == NULL);
    struct pods_container_config c = {.rootfs = "/r", .image = &bare};
    _cleanup_free_ char *why = refusal(&c);
    CHECK(why && strstr(why, "nothing to run"));
}

static void test_image_defaults_and_pod_overrides(void)
{
    image_process img = test_image();
    struct pods_container_config c = {
        .rootfs = "/var/lib/podrun/pods/p/rootfs",
        .image = &img,
        .env = V("MODE=pod", "EXTRA=1"),
        .hostname = "web-0",
        .annotations = V("io.kubernetes.pod.name=web-0", "org.example.team=edge"),
    };
    _cleanup_json_ yajl_val v = build(&c);
    CHECK(v != NULL);
    yajl_val env = path(v, "process", "env");
    CHECK_STR(str_at(env, 0), "PATH=/bin");
    CHECK_STR(str_at(env, 1), "MODE=pod"); /* replaced where it stood */
    CHECK(strv_has(env, "HOSTNAME=web-0") && strv_has(env, "EXTRA=1"));
    CHECK(json_array_len(env) == 4);
    CHECK_STR(path(v, "process", "cwd")->u.string, "/srv");
    yajl_val user = path(v, "process", "user");
    CHECK(YAJL_GET_INTEGER(json_get(user, "uid")) == 1000);
    CHECK(YAJL_GET_INTEGER(json_get(user, "gid")) == 100);
    CHECK(json_array_len(json_get(user, "additionalGids")) == 2);
    CHECK_STR(json_get(v, "hostname")->u.string, "web-0");
    CHECK_STR(path(v, "root", "path")->u.string, "/var/lib/podrun/pods/p/rootfs");
    yajl_val ann = json_get(v, "annotations");
    CHECK_STR(json_get(ann, "org.example.team")->u.string, "edge");
    CHECK_STR(json_get(ann, "org.opencontainers.image.stopSignal")->u.string, "SIGQUIT");
    CHECK_STR(json_get(ann, "org.opencontainers.image.exposedPorts")->u.string, "80/tcp,443/tcp");
    CHECK_STR(json_get(ann, "io.kubernetes.pod.name")->u.string, "web-0");

    c.has_user = true;
    c.uid = 0;
    c.gid = 0;
    c.cwd = "/work";
    _cleanup_json_ yajl_val w = build(&c);
    CHECK(YAJL_GET_INTEGER(path(w, "process", "user")->u.object.values[0]) == 0);
    CHECK(json_get(path(w, "process", "user"), "additionalGids") == NULL);
    CHECK_STR(path(w, "process", "cwd")->u.string, "/work");
}

/* Every syscall name an allow rule of the profile lists. */
static bool seccomp_allows(yajl_val d, const char *name)
{
    yajl_val rules = json_get(path(d, "linux", "seccomp"), "syscalls");
    for (size_t i = 0; i < json_array_len(rules); i++) {
        yajl_val r = json_array_at(rules, i);
        const char *action = YAJL_GET_STRING(json_get(r, "action"));
        if (action && streq(action, "SCMP_ACT_ALLOW") && strv_has(json_get(r, "names"), name))
            return true;
    }
    return false;
}

static void test_seccomp(void)
{
    struct pods_container_config c = {.rootfs = "/r", .args = V("true")};
    _cleanup_json_ yajl_val none = build(&c);
    CHECK(!path(none, "linux", "seccomp"));

    c.seccomp = PODS_SECCOMP_RUNTIME_DEFAULT;
    _cleanup_json_ yajl_val def = build(&c);
    const char *act = YAJL_GET_STRING(json_get(path(def, "linux", "seccomp"), "defaultAction"));
    CHECK(act && streq(act, "SCMP_ACT_ERRNO"));
    CHECK(seccomp_allows(def, "read") && seccomp_allows(def, "execve"));
    CHECK(!seccomp_allows(def, "unshare") && !seccomp_allows(def, "mount") &&
          !seccomp_allows(def, "keyctl") && !seccomp_allows(def, "reboot"));
    /* clone only without namespace flags; clone3 answers ENOSYS so that glibc falls back. */
    CHECK(seccomp_allows(def, "clone") && !seccomp_allows(def, "clone3"));

    c.cap_add = V("SYS_ADMIN", "SYS_BOOT");
    _cleanup_json_ yajl_val admin = build(&c);
    CHECK(seccomp_allows(admin, "unshare") && seccomp_allows(admin, "mount") &&
          seccomp_allows(admin, "reboot") && seccomp_allows(admin, "clone3"));
    /* A name two capabilities unlock (syslog: SYS_ADMIN and SYSLOG) is listed once. */
    c.cap_add = V("SYS_ADMIN", "SYSLOG");
    _cleanup_json_ yajl_val two = build(&c);
    size_t n = 0;
    yajl_val rules = json_get(path(two, "linux", "seccomp"), "syscalls");
    for (size_t i = 0; i < json_array_len(rules); i++)
        n += strv_has(json_get(json_array_at(rules, i), "names"), "syslog");
    CHECK(n == 1);
    c.cap_add = NULL;

    c.privileged = true;
    _cleanup_json_ yajl_val priv = build(&c);
    CHECK(!path(priv, "linux", "seccomp"));
    c.privileged = false;

    _cleanup_json_ yajl_val profile = NULL;
    CHECK(json_parse("{\"defaultAction\":\"SCMP_ACT_LOG\"}", "p", &profile, NULL) == 0);
    c.seccomp = PODS_SECCOMP_PROFILE;
    c.seccomp_profile = profile;
    _cleanup_json_ yajl_val loc = build(&c);
    act = YAJL_GET_STRING(json_get(path(loc, "linux", "seccomp"), "defaultAction"));
    CHECK(act && streq(act, "SCMP_ACT_LOG"));
}

static void test_capabilities(void)
{
    struct pods_container_config c = {.rootfs = "/r", .args = V("true")};
    _cleanup_json_ yajl_val d = build(&c);
    yajl_val bounding = path(d, "process", "capabilities");
    bounding = json_get(bounding, "bounding");
    CHECK(json_array_len(bounding) == 14);
    CHECK(strv_has(bounding, "CAP_NET_RAW") && !strv_has(bounding, "CAP_SYS_ADMIN"));

    c.cap_add = V("NET_ADMIN", "cap_sys_time");
    c.cap_drop = V("CAP_NET_RAW");
    _cleanup_json_ yajl_val a = build(&c);
    yajl_val eff = json_get(path(a, "process", "capabilities"), "effective");
    CHECK(strv_has(eff, "CAP_NET_ADMIN") && strv_has(eff, "CAP_SYS_TIME"));
    CHECK(!strv_has(eff, "CAP_NET_RAW") && json_array_len(eff) == 15);

    c.cap_add = NULL;
    c.cap_drop = V("ALL");
    _cleanup_json_ yajl_val none = build(&c);
    CHECK(json_array_len(json_get(path(none, "process", "capabilities"), "permitted")) == 0);

    /* Kubernetes' restricted profile: drop ALL, add one back; the one added stays. */
    c.cap_add = V("NET_BIND_SERVICE");
    _cleanup_json_ yajl_val one = build(&c);
    yajl_val perm = json_get(path(one, "process", "capabilities"), "permitted");
    CHECK(json_array_len(perm) == 1 && strv_has(perm, "CAP_NET_BIND_SERVICE"));
    c.cap_add = NULL;

    c.cap_drop = NULL;
    c.cap_add = V("CAP_BOGUS");
    _cleanup_free_ char *why = refusal(&c);
    CHECK(why && strstr(why, "CAP_BOGUS") && strstr(why, "capabilities.add"));
}

static void test_namespaces_and_hostname(void)
{
    struct pods_container_config c = {.rootfs = "/r", .args = V("true")};
    c.namespaces[PODS_NS_NET] = (struct pods_namespace){PODS_NS_JOIN, "/run/podrun/netns/p"};
    c.namespaces[PODS_NS_PID] = (struct pods_namespace){PODS_NS_HOST, NULL};
    _cleanup_json_ yajl_val v = build(&c);
    yajl_val ns = path(v, "linux", "namespaces");
    CHECK(json_array_len(ns) == 5);
    bool joined = false, pid = false;
    for (size_t i = 0; i < json_array_len(ns); i++) {
        yajl_val n = json_array_at(ns, i);
        const char *t = json_get(n, "type")->u.string;
        pid = pid || streq(t, "pid");
        if (streq(t, "network"))
            joined =
                json_get(n, "path") && streq(json_get(n, "path")->u.string, "/run/podrun/netns/p");
    }
    CHECK(joined && !pid);

    c.namespaces[PODS_NS_NET].path = "relative";
    _cleanup_free_ char *rel = refusal(&c);
    CHECK(rel && strstr(rel, "network"));
    c.namespaces[PODS_NS_NET].path = "/run/podrun/netns/p";
    c.namespaces[PODS_NS_UTS].mode = PODS_NS_HOST;
    c.hostname = "x";
    _cleanup_free_ char *host = refusal(&c);
    CHECK(host && strstr(host, "UTS"));
}

static void test_mounts_resources_privileged(void)
{
    const struct pods_mount extra[] = {
        {"/dev/shm", "bind", "/run/podrun/pods/p/shm", V("rbind", "rw")},
        {"/data", "bind", "/var/lib/podrun/volumes/d", V("rbind", "ro")},
    };
    struct pods_container_config c = {
        .rootfs = "/r",
        .args = V("true"),
        .mounts = extra,
        .n_mounts = 2,
        .cgroups_path = "/podrun/p/c",
        .resources = {.memory_limit = 64 << 20,
                      .cpu_shares = 512,
                      .cpu_quota = 50000,
                      .pids_limit = 100},
    };
    _cleanup_json_ yajl_val v = build(&c);
    yajl_val mounts = json_get(v, "mounts");
    size_t shm = 0, procs = 0;
    for (size_t i = 0; i < json_array_len(mounts); i++) {
        yajl_val m = json_array_at(mounts, i);
        const char *d = json_get(m, "destination")->u.string;
        if (streq(d, "/dev/shm")) {
            shm++;
            CHECK_STR(json_get(m, "type")->u.string, "bind");
        }
        procs += streq(d, "/proc");
    }
    CHECK(shm == 1 && procs == 1);
    CHECK_STR(path(v, "linux", "cgroupsPath")->u.string, "/podrun/p/c");
    yajl_val res = path(v, "linux", "resources");
    CHECK(YAJL_GET_INTEGER(path(res, "memory", "limit")) == 64 << 20);
    CHECK(YAJL_GET_INTEGER(path(res, "cpu", "period")) == 100000);
    CHECK(YAJL_GET_INTEGER(path(res, "pids", "limit")) == 100);
    CHECK(json_array_len(path(v, "linux", "maskedPaths")) > 0);

    c.privileged = true;
    _cleanup_json_ yajl_val p = build(&c);
    CHECK(path(p, "linux", "maskedPaths") == NULL);
    yajl_val caps = json_get(path(p, "process", "capabilities"), "bounding");
    /* Every capability this process holds (the machine's bounding set may lack some). */
    size_t held = 0;
    for (unsigned long i = 0; i < 41; i++)
        held += prctl(PR_CAPBSET_READ, i) == 1;
    CHECK(strv_has(caps, "CAP_SYS_ADMIN") && json_array_len(caps) == held);
    yajl_val dev = json_array_at(path(path(p, "linux", "resources"), "devices", NULL), 0);
    CHECK(YAJL_IS_TRUE(json_get(dev, "allow")));

    const struct pods_mount bad[] = {{"data", "bind", "/x", NULL}};
    c.mounts = bad;
    c.n_mounts = 1;
    _cleanup_free_ char *why = refusal(&c);
    CHECK(why && strstr(why, "mounts[0]"));
}

static void test_write_refuses_symlinked_dir(void)
{
    char dir[] = "/tmp/test-pods.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    _cleanup_free_ char *real = xasprintf("%s/real", dir), *link = xasprintf("%s/link", dir);
    CHECK(mkdir(real, 0700) == 0 && symlink(real, link) == 0);
    struct pods_container_config c = {.rootfs = "/r", .args = V("true")};
    pr_error *err = NULL;
    CHECK(pods_bundle_write(link, &c, &err) < 0 && err && strstr(err->msg, "symlink"));
    pr_error_free(err);
    _cleanup_free_ char *cfg = xasprintf("%s/config.json", real);
    CHECK(access(cfg, F_OK) < 0);
    CHECK(pods_bundle_write(real, &c, NULL) == 0 && access(cfg, F_OK) == 0);
    rm_rf(dir);
}

/* The error pods_check_object gives a one-document manifest, or NULL when it passes. */
static char *check_refusal(const char *manifest)
{
    struct kube_docs d = {0};
    struct kube_object *o = NULL;
    pr_error *err = NULL;
    char *why = NULL;
    if (kube_parse_manifest(manifest, strlen(manifest), "m.yaml", &d, &err) < 0 || d.n != 1 ||
        kube_object_decode(steal_pointer(&d.v[0]), "m.yaml", &o, &err) < 0) {
        why = xasprintf("does not decode: %s", err ? err->msg : "");
    } else if (pods_check_object(o, &err) < 0) {
        why = xstrdup(err->msg);
    }
    pr_error_free(err);
    kube_object_free(o);
    kube_docs_clear(&d);
    return why;
}

#define POD(spec) "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n" spec
#define CTR       "  containers:\n  - name: c\n    image: busybox\n"

static void test_check_refuses_by_name(void)
{
    static const struct {
        const char *manifest, *field;
    } cases[] = {
        {POD(CTR "    lifecycle: {postStart: {tcpSocket: {port: 80}}}\n"),
         "spec.containers[0].lifecycle.postStart.tcpSocket"},
        {POD(CTR "    lifecycle: {stopSignal: SIGUSR1}\n"), "spec.containers[0].lifecycle.stopSignal"},
        {POD(CTR "    env: [{name: NAME, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}]\n"),
         "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath \"status.hostIP\""},
        {POD(CTR "    resources: {limits: {ephemeral-storage: 1Gi}}\n"),
         "spec.containers[0].resources.limits.ephemeral-storage"},
        {POD("  initContainers:\n  - name: i\n    image: busybox\n    tty: true\n" CTR),
         "spec.initContainers[0].tty"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *why = check_refusal(cases[i].manifest);
        CHECK(why && strstr(why, cases[i].field) && strstr(why, "not supported"));
        if (!why || !strstr(why, cases[i].field))
            fprintf(stderr, "# case %zu: %s\n", i, why ? why : "accepted");
    }
    _cleanup_free_ char *ok = check_refusal(POD(
        "  volumes: [{name: v, emptyDir: {}}, {name: h, hostPath: {path: /srv}},\n"
        "            {name: c, configMap: {name: c}}, {name: s, secret: {secretName: s}},\n"
        "            {name: p, persistentVolumeClaim: {claimName: p}}]\n" CTR
        "    volumeMounts: [{name: v, mountPath: /v}, {name: h, mountPath: /h, subPath: x}]\n"
        "    resources: {limits: {cpu: 500m, memory: 64Mi}}\n"
        "    env: [{name: A, valueFrom: {configMapKeyRef: {name: c, key: k}}},\n"
        "          {name: B, valueFrom: {fieldRef: {fieldPath: \"metadata.labels['x']\"}}}]\n"));
    CHECK(ok == NULL);
    /* The node's namespaces, a shared PID namespace, hostPort, DNS and names are run now. */
    _cleanup_free_ char *host =
        check_refusal(POD("  hostIPC: true\n  shareProcessNamespace: true\n"
                          "  subdomain: s\n  setHostnameAsFQDN: true\n  dnsPolicy: None\n"
                          "  dnsConfig: {nameservers: [192.0.2.1]}\n"
                          "  hostAliases: [{ip: 192.0.2.2, hostnames: [a]}]\n" CTR
                          "    ports: [{containerPort: 80, hostPort: 8080, hostIP: 192.0.2.3}]\n"));
    CHECK(host == NULL);
    _cleanup_free_ char *hostnet =
        check_refusal(POD("  hostNetwork: true\n" CTR "    ports: [{containerPort: 80}]\n"));
    CHECK(hostnet == NULL);
    _cleanup_free_ char *mismatch = check_refusal(
        POD("  hostNetwork: true\n" CTR "    ports: [{containerPort: 80, hostPort: 81}]\n"));
    CHECK(mismatch && strstr(mismatch, "must match `containerPort` when `hostNetwork` is true"));
    _cleanup_free_ char *both =
        check_refusal(POD("  hostPID: true\n  shareProcessNamespace: true\n" CTR));
    CHECK(both && strstr(both, "ShareProcessNamespace and HostPID cannot both be enabled"));
    _cleanup_free_ char *gen = check_refusal("apiVersion: v1\nkind: ConfigMap\n"
                                             "metadata: {generateName: c-}\n");
    CHECK(gen && strstr(gen, "metadata.name is required"));
}

static void test_resource_names(void)
{
    CHECK(streq(pods_resource_name("po"), "pods") && streq(pods_resource_name("Pod"), "pods"));
    CHECK(streq(pods_resource_name("cm"), "configmaps"));
    CHECK(streq(pods_resource_name("secret"), "secrets"));
    CHECK(streq(pods_resource_name("ns"), "namespaces"));
    CHECK(streq(pods_resource_name("deploy"), "deployments"));
    CHECK(streq(pods_resource_name("rs"), "replicasets"));
    CHECK(streq(pods_resource_name("sts"), "statefulsets"));
    CHECK(streq(pods_resource_name("ds"), "daemonsets"));
    CHECK(streq(pods_resource_name("pvc"), "persistentvolumeclaims"));
    CHECK(streq(pods_resource_name("pv"), "persistentvolumes"));
    CHECK(pods_resource_name("cronjobs-of-tomorrow") == NULL);
    CHECK(streq(pods_resource_group("statefulsets"), "apps") && !pods_resource_group("pods"));
}

/* A sandbox's and its containers' cgroups under either driver (agent/pods/cricgroup.c). */
static void test_cri_cgroup_paths(void)
{
    pr_error *err = NULL;
    /* The parent must be the driver's kind; the error names both drivers. */
    CHECK(pods_cri_check_cgroup_parent(NULL, true, &err) == 0);
    CHECK(pods_cri_check_cgroup_parent("", false, &err) == 0);
    CHECK(pods_cri_check_cgroup_parent("kubepods-besteffort-podx.slice", true, &err) == 0);
    CHECK(pods_cri_check_cgroup_parent("/kubepods/besteffort/podx", false, &err) == 0);
    CHECK(pods_cri_check_cgroup_parent("/kubepods/besteffort/podx", true, &err) == -EINVAL);
    CHECK(strstr(err->msg, "cgroupfs path") && strstr(err->msg, "systemd cgroup driver"));
    pr_error_freep(&err);
    CHECK(pods_cri_check_cgroup_parent("kubepods.slice", false, &err) == -EINVAL);
    CHECK(strstr(err->msg, "systemd slice") && strstr(err->msg, "cgroupfs cgroup driver"));
    pr_error_freep(&err);
    CHECK(pods_cri_check_cgroup_parent("kubepods--x.slice", true, &err) == -EINVAL);
    CHECK(strstr(err->msg, "misplaced '-'") != NULL);
    pr_error_freep(&err);
    CHECK(pods_cri_check_cgroup_parent("a/b.slice", true, &err) == -EINVAL);
    pr_error_freep(&err);
    CHECK(pods_cri_check_cgroup_parent("kube pods.slice", true, &err) == -EINVAL);
    CHECK(strstr(err->msg, "is not a slice name") != NULL);
    pr_error_freep(&err);
    char longname[300];
    memset(longname, 'a', sizeof(longname));
    strcpy(longname + 250, ".slice");
    CHECK(pods_cri_check_cgroup_parent(longname, true, &err) == -EINVAL);
    CHECK(strstr(err->msg, "at most 255") != NULL);
    pr_error_freep(&err);
    longname[243] = '\0';
    strcat(longname, ".slice");
    CHECK(pods_cri_check_cgroup_parent(longname, true, &err) == 0);
    CHECK(pods_cri_check_cgroup_parent("kubepods/../x", false, &err) == -EINVAL);
    pr_error_freep(&err);

    static const char id[] = "c0ffee";
    _cleanup_json_ yajl_val sd = NULL, fs = NULL, bare = NULL, old = NULL;
    CHECK(json_parse("{\"id\":\"s1\",\"cgroupParent\":\"kubepods-besteffort-podu1.slice\","
                     "\"cgroupDriver\":\"systemd\"}",
                     "t", &sd, NULL) == 0);
    CHECK(json_parse("{\"id\":\"s2\",\"cgroupParent\":\"/kubepods/podu1\","
                     "\"cgroupDriver\":\"cgroupfs\"}",
                     "t", &fs, NULL) == 0);
    CHECK(json_parse("{\"id\":\"s3\",\"cgroupParent\":\"\",\"cgroupDriver\":\"systemd\"}", "t",
                     &bare, NULL) == 0);
    /* A record from before drivers were recorded: cgroupfs. */
    CHECK(json_parse("{\"id\":\"s4\",\"cgroupParent\":\"/podrun/kubepods/besteffort/pods4\"}", "t",
                     &old, NULL) == 0);
    char *s = pods_cri_cgroups_path(sd, id);
    CHECK_STR(s, "kubepods-besteffort-podu1.slice:cri-podrun:c0ffee");
    free(s);
    s = pods_cri_cgroups_path(fs, id);
    CHECK_STR(s, "/kubepods/podu1/c0ffee");
    free(s);
    s = pods_cri_cgroups_path(bare, id);
    CHECK_STR(s, ":cri-podrun:c0ffee");
    free(s);
    s = pods_cri_cgroups_path(old, id);
    CHECK_STR(s, "/podrun/kubepods/besteffort/pods4/c0ffee");
    free(s);

    s = NULL;
    CHECK(pods_cri_cgroup_dir(sd, NULL, &s, &err) == 0);
    CHECK_STR(s, "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podu1.slice");
    free(s);
    CHECK(pods_cri_cgroup_dir(sd, id, &s, &err) == 0);
    CHECK_STR(s, "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podu1.slice/"
                 "cri-podrun-c0ffee.scope");
    free(s);
    CHECK(pods_cri_cgroup_dir(fs, NULL, &s, &err) == 0);
    CHECK_STR(s, "/kubepods/podu1");
    free(s);
    CHECK(pods_cri_cgroup_dir(fs, id, &s, &err) == 0);
    CHECK_STR(s, "/kubepods/podu1/c0ffee");
    free(s);
    /* No slice: the pod has no cgroup, its containers' scopes are in the runtime's default. */
    CHECK(pods_cri_cgroup_dir(bare, NULL, &s, &err) == -ENOENT);
    pr_error_freep(&err);
    CHECK(pods_cri_cgroup_dir(bare, id, &s, &err) == 0);
    CHECK_STR(s, "/system.slice/cri-podrun-c0ffee.scope");
    free(s);
    CHECK(pods_cri_cgroup_dir(old, id, &s, &err) == 0);
    CHECK_STR(s, "/podrun/kubepods/besteffort/pods4/c0ffee");
    free(s);
}

static void test_cri_log_records(void)
{
    static const struct {
        const char *line, *msg;
        bool full, err;
    } cases[] = {
        {"2016-10-06T00:17:09.669794202Z stdout F message here", "message here", true, false},
        {"2016-10-06T00:17:09.669794202Z stderr P part", "part", false, true},
        {"2016-10-06T00:17:09Z stdout F ", "", true, false},
        {"2016-10-06T00:17:09+02:00 stdout F:x tagged", "tagged", true, false},
        {"2016-10-06T00:17:09Z stdout F  two spaces", " two spaces", true, false},
        {"2016-10-06T00:17:09Z stdin F no", NULL, false, false},
        {"2016-10-06T00:17:09Z stdout X no", NULL, false, false},
        {"2016-10-06T00:17:09Z stdout FF no", NULL, false, false},
        {"2016-10-06 stdout F no", NULL, false, false},
        {"garbage", NULL, false, false},
        {"2016-10-06T00:17:09Z stdout F", NULL, false, false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *line = xstrdup(cases[i].line);
        bool full = false, err = false;
        const char *m = pods_cri_log_message(line, strlen(line), &full, &err);
        if (!cases[i].msg) {
            CHECK(m == NULL);
            continue;
        }
        CHECK(m != NULL);
        if (m) {
            CHECK_STR(m, cases[i].msg);
            CHECK(full == cases[i].full);
            CHECK(err == cases[i].err);
        }
    }
}

int main(void)
{
    RUN(test_argv_follows_kubernetes_rules);
    RUN(test_image_defaults_and_pod_overrides);
    RUN(test_capabilities);
    RUN(test_namespaces_and_hostname);
    RUN(test_mounts_resources_privileged);
    RUN(test_seccomp);
    RUN(test_write_refuses_symlinked_dir);
    RUN(test_check_refuses_by_name);
    RUN(test_resource_names);
    RUN(test_cri_cgroup_paths);
    RUN(test_cri_log_records);
    UNIT_DONE();
}
