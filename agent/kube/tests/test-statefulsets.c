/* SPDX-License-Identifier: Apache-2.0 */
/* StatefulSets, DaemonSets and PersistentVolumeClaims (agent/kube/statefulset.c): decoding,
 * defaults and validation, and the StatefulSet controller's decision. */
#include "json.h"
#include "kube/kube.h"
#include "tests/lib/unit.h"
#include "util.h"

#define TEMPLATE                                                                                   \
    "  selector: {matchLabels: {app: web}}\n"                                                      \
    "  template:\n    metadata: {labels: {app: web}}\n"                                            \
    "    spec: {containers: [{name: c, image: busybox, volumeMounts: [{name: data, mountPath: "    \
    "/d}]}]}\n"
#define CLAIMS                                                                                     \
    "  volumeClaimTemplates:\n  - metadata: {name: data}\n"                                        \
    "    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n"
#define STS "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: web}\nspec:\n"

static struct kube_object *decode(const char *text, char **msg)
{
    struct kube_docs d = {0};
    pr_error *err = NULL;
    struct kube_object *o = NULL;
    *msg = NULL;
    if (kube_parse_manifest(text, strlen(text), "d.yaml", &d, &err) < 0 || d.n != 1 ||
        kube_object_decode(steal_pointer(&d.v[0]), "d.yaml", &o, &err) < 0) {
        *msg = xstrdup(err && err->msg ? err->msg : "?");
        o = NULL;
    }
    pr_error_free(err);
    kube_docs_clear(&d);
    return o;
}

static void refused(const char *text, const char *want)
{
    char *msg;
    struct kube_object *o = decode(text, &msg);
    CHECK(o == NULL);
    CHECK(msg && strstr(msg, want));
    if (msg && !strstr(msg, want))
        fprintf(stderr, "  got: %s\n  want: %s\n", msg, want);
    kube_object_free(o);
    free(msg);
}

static void test_statefulset_defaults(void)
{
    char *msg;
    struct kube_object *o = decode(STS TEMPLATE CLAIMS, &msg);
    CHECK(o != NULL);
    if (!o) {
        fprintf(stderr, "  %s\n", msg);
        free(msg);
        return;
    }
    const struct kube_set *s = &o->u.set;
    CHECK(o->kind == KUBE_STATEFULSET);
    CHECK(s->w.replicas == 1);
    CHECK_STR(s->pod_management_policy, "OrderedReady");
    CHECK_STR(s->update_strategy.type, "RollingUpdate");
    CHECK(s->update_strategy.rolling_update.partition == 0);
    CHECK(s->w.revision_history_limit == 10);
    /* The template as the pods get it: the claim template's volume added. */
    CHECK(s->w.template_.spec.n_volumes == 1 && s->w.template_.spec.volumes[0].has_pvc);
    kube_object_free(o);
}

static void test_statefulset_validation(void)
{
    refused(STS "  replicas: -1\n" TEMPLATE CLAIMS, "spec.replicas: Invalid value: -1");
    refused(STS "  podManagementPolicy: Random\n" TEMPLATE CLAIMS,
            "spec.podManagementPolicy: Unsupported value: \"Random\"");
    refused(STS "  updateStrategy: {type: Sometimes}\n" TEMPLATE CLAIMS,
            "spec.updateStrategy.type: Unsupported value: \"Sometimes\"");
    refused(STS
            "  updateStrategy: {type: OnDelete, rollingUpdate: {partition: 1}}\n" TEMPLATE CLAIMS,
            "spec.updateStrategy.rollingUpdate: Invalid value");
    refused(STS "  ordinals: {start: -1}\n" TEMPLATE CLAIMS,
            "spec.ordinals.start: Invalid value: -1: must be greater than or equal to 0");
    refused(STS "  ordinals: {begin: 1}\n" TEMPLATE CLAIMS, "spec.ordinals.begin: unknown field");
    refused(STS "  persistentVolumeClaimRetentionPolicy: {whenScaled: Keep}\n" TEMPLATE CLAIMS,
            "whenScaled: Unsupported value: \"Keep\": supported values: \"Delete\", \"Retain\"");
    refused(STS "  updateStrategy: {rollingUpdate: {maxUnavailable: 0}}\n" TEMPLATE CLAIMS,
            "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: must be greater "
            "than 0");
    refused(STS "  updateStrategy: {rollingUpdate: {maxUnavailable: 120%}}\n" TEMPLATE CLAIMS,
            "maxUnavailable: Invalid value: \"120%\": must not be greater than 100%");
    refused(STS "  updateStrategy: {rollingUpdate: {maxUnavailable: x%}}\n" TEMPLATE CLAIMS,
            "maxUnavailable: Invalid value: \"x%\": a valid percent string");
    refused(STS TEMPLATE, "volumeMounts[0].name: not found: no volume \"data\"");
    refused(STS TEMPLATE "  volumeClaimTemplates:\n  - metadata: {name: data}\n"
                         "    spec: {resources: {requests: {storage: 1Gi}}}\n",
            "spec.volumeClaimTemplates[0].spec.accessModes: Required value");
    refused(STS TEMPLATE "  volumeClaimTemplates:\n  - metadata: {name: data}\n"
                         "    spec: {accessModes: [ReadWriteOnce]}\n",
            "spec.volumeClaimTemplates[0].spec.resources[storage]: Required value");
    refused(STS TEMPLATE CLAIMS "  - metadata: {name: data}\n"
                                "    spec: {accessModes: [ReadWriteOnce], resources: {requests: "
                                "{storage: 1Gi}}}\n",
            "spec.volumeClaimTemplates[1].metadata.name: Duplicate value: \"data\"");
    refused("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: "
            "a2345678901234567890123456789012345678901234567890123}\nspec:\n" TEMPLATE CLAIMS,
            "must be no more than 52 characters");
}

static void test_claim_and_daemonset(void)
{
    char *msg;
    struct kube_object *o = decode("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: "
                                   "c}\nspec: {accessModes: [ReadWriteOnce, ReadOnlyMany], "
                                   "resources: {requests: {storage: 512Mi}}}\n",
                                   &msg);
    CHECK(o != NULL);
    if (o) {
        CHECK_STR(o->u.claim.storage_class, KUBE_LOCAL_PATH_CLASS);
        CHECK_STR(o->u.claim.volume_mode, "Filesystem");
        CHECK(o->u.claim.storage_bytes == 512LL << 20);
    }
    kube_object_free(o);
    free(msg);
#define PVC "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: c}\nspec: "
    refused(PVC "{accessModes: [ReadWriteOncePod, ReadWriteOnce], resources: {requests: "
                "{storage: 1}}}\n",
            "may not use ReadWriteOncePod with other access modes");
    refused(PVC "{accessModes: [ReadWriteOnce], resources: {requests: {storage: 1, cpu: 1}}}\n",
            "spec.resources.requests[cpu]: Unsupported value");
    refused(PVC "{accessModes: [ReadWriteOnce], selector: {}, resources: {requests: {storage: "
                "1}}}\n",
            "spec.selector: not supported by podrun");
    refused(PVC "{accessModes: [ReadWriteOnce], storageClassName: fast, resources: {requests: "
                "{storage: 1}}}\n",
            "spec.storageClassName: Unsupported value: \"fast\"");
#define DS                                                                                         \
    "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d}\nspec:\n"                           \
    "  selector: {matchLabels: {app: d}}\n"                                                        \
    "  template: {metadata: {labels: {app: d}}, spec: {containers: [{name: c, image: b}]}}\n"
    o = decode(DS, &msg);
    CHECK(o && o->kind == KUBE_DAEMONSET);
    if (o)
        CHECK_STR(o->u.set.update_strategy.type, "RollingUpdate");
    kube_object_free(o);
    free(msg);
    refused(DS "  replicas: 2\n", "spec.replicas: unknown field in DaemonSetSpec");
    /* maxSurge: with maxUnavailable 0 (its default 1 would be a second non-zero). */
    refused(DS "  updateStrategy: {rollingUpdate: {maxSurge: 1}}\n",
            "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: may not be set when "
            "maxUnavailable is non-zero");
    refused(DS "  updateStrategy: {rollingUpdate: {maxUnavailable: 0}}\n",
            "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when "
            "maxSurge is 0");
    refused(DS "  updateStrategy: {rollingUpdate: {maxUnavailable: 0, maxSurge: 101%}}\n",
            "maxSurge: Invalid value: \"101%\": must not be greater than 100%");
    o = decode(DS "  updateStrategy: {rollingUpdate: {maxUnavailable: 0, maxSurge: 25%}}\n", &msg);
    CHECK(o && o->u.set.update_strategy.rolling_update.max_surge.is_string);
    if (o)
        CHECK(kube_daemonset_surges(json_get(o->tree, "spec")));
    kube_object_free(o);
    free(msg);
    o = decode(DS, &msg);
    CHECK(o && !kube_daemonset_surges(json_get(o->tree, "spec")));
    kube_object_free(o);
    free(msg);
}

static void test_ordinals(void)
{
    CHECK(kube_statefulset_ordinal("web", "web-0") == 0);
    CHECK(kube_statefulset_ordinal("web", "web-12") == 12);
    CHECK(kube_statefulset_ordinal("web", "web-01") == -1);
    CHECK(kube_statefulset_ordinal("web", "web-") == -1);
    CHECK(kube_statefulset_ordinal("web", "web-x") == -1);
    CHECK(kube_statefulset_ordinal("web", "webb-1") == -1);
    CHECK(kube_statefulset_ordinal("web", "web-1-2") == -1);
    CHECK(kube_statefulset_ordinal("web", "web-99999999999") == -1);
}

#define READY(o)                                                                                   \
    {                                                                                              \
        .ordinal = (o), .running_ready = true, .updated = true                                     \
    }
#define NOT_READY(o)                                                                               \
    {                                                                                              \
        .ordinal = (o), .updated = true                                                            \
    }

static void plan(const struct kube_sts_spec *s, const struct kube_sts_pod *p, size_t n,
                 const char *want_create, const char *want_delete)
{
    struct kube_sts_plan out;
    kube_statefulset_plan(s, p, n, &out);
    char c[64] = "", d[64] = "";
    for (size_t i = 0; i < out.n_create; i++)
        snprintf(c + strlen(c), sizeof(c) - strlen(c), "%s%d", i ? "," : "", out.create[i]);
    for (size_t i = 0; i < out.n_delete; i++)
        snprintf(d + strlen(d), sizeof(d) - strlen(d), "%s%d", i ? "," : "", out.delete_[i]);
    CHECK_STR(c, want_create);
    CHECK_STR(d, want_delete);
    kube_statefulset_plan_clear(&out);
}

static void test_ordered_ready(void)
{
    struct kube_sts_spec s = {.replicas = 3};
    plan(&s, NULL, 0, "0", "");
    struct kube_sts_pod a[] = {NOT_READY(0)};
    plan(&s, a, 1, "", "");
    struct kube_sts_pod b[] = {READY(0)};
    plan(&s, b, 1, "1", "");
    /* A gap is filled first, in order. */
    struct kube_sts_pod c[] = {READY(0), READY(2)};
    plan(&s, c, 2, "1", "");
    /* A failed pod goes; nothing else happens until it is back. */
    struct kube_sts_pod d[] = {READY(0), {.ordinal = 1, .failed = true, .updated = true}};
    plan(&s, d, 2, "", "1");
    /* Scale down: the highest first, one at a time, only while all are Ready. */
    s.replicas = 1;
    struct kube_sts_pod e[] = {READY(0), READY(1), READY(2)};
    plan(&s, e, 3, "", "2");
    struct kube_sts_pod f[] = {NOT_READY(0), READY(1), READY(2)};
    plan(&s, f, 3, "", "");
    struct kube_sts_pod g[] = {READY(0), READY(1), {.ordinal = 2, .terminating = true}};
    plan(&s, g, 3, "", "");
    s.replicas = 0;
    plan(&s, e, 3, "", "2");
}

static void test_parallel(void)
{
    struct kube_sts_spec s = {.replicas = 3, .parallel = true};
    plan(&s, NULL, 0, "0,1,2", "");
    struct kube_sts_pod a[] = {NOT_READY(1)};
    plan(&s, a, 1, "0,2", "");
    /* A huge replicas makes at most 500 per pass, and quickly. */
    s.replicas = INT32_MAX;
    struct kube_sts_plan big;
    kube_statefulset_plan(&s, NULL, 0, &big);
    CHECK(big.n_create == 500 && big.create[499] == 499);
    kube_statefulset_plan_clear(&big);
    s.parallel = false;
    kube_statefulset_plan(&s, NULL, 0, &big);
    CHECK(big.n_create == 1);
    kube_statefulset_plan_clear(&big);
    s.parallel = true;
    s.replicas = 1;
    struct kube_sts_pod b[] = {NOT_READY(0), READY(1), NOT_READY(2)};
    plan(&s, b, 3, "", "2,1");
}

static void test_rolling_update(void)
{
    struct kube_sts_spec s = {.replicas = 3};
    struct kube_sts_pod old[] = {{.ordinal = 0, .running_ready = true},
                                 {.ordinal = 1, .running_ready = true},
                                 {.ordinal = 2, .running_ready = true}};
    plan(&s, old, 3, "", "2");
    old[2].updated = true;
    plan(&s, old, 3, "", "1");
    /* Not while a pod is not Ready. */
    old[2].running_ready = false;
    plan(&s, old, 3, "", "");
    old[2].running_ready = true;
    s.partition = 2;
    plan(&s, old, 3, "", "");
    s.partition = 0;
    s.on_delete = true;
    plan(&s, old, 3, "", "");
}

/* spec.ordinals.start: the replicas are start .. start+replicas-1; others are condemned. */
static void test_start_ordinal(void)
{
    struct kube_sts_spec s = {.replicas = 2, .start = 5};
    plan(&s, NULL, 0, "5", "");
    struct kube_sts_pod a[] = {READY(5)};
    plan(&s, a, 1, "6", "");
    struct kube_sts_pod b[] = {READY(5), READY(6)};
    plan(&s, b, 2, "", "");
    /* The start moved up: 0 and 1 are outside, highest first, one at a time. */
    struct kube_sts_pod c[] = {READY(0), READY(1), READY(5), READY(6)};
    plan(&s, c, 4, "", "1");
    s.parallel = true;
    plan(&s, c, 4, "", "1,0");
    s.parallel = false;
    /* Scale down from the top of the range. */
    s.replicas = 1;
    plan(&s, b, 2, "", "6");
    /* Rolling update within the range only; the partition is an ordinal. */
    s.replicas = 2;
    struct kube_sts_pod old[] = {{.ordinal = 5, .running_ready = true},
                                 {.ordinal = 6, .running_ready = true}};
    plan(&s, old, 2, "", "6");
    s.partition = 6;
    old[1].updated = true;
    plan(&s, old, 2, "", "");
    s.partition = 5;
    plan(&s, old, 2, "", "5");
    /* Decoded from the manifest. */
    char *msg;
    struct kube_object *o = decode(STS "  ordinals: {start: 3}\n" TEMPLATE CLAIMS, &msg);
    CHECK(o && o->u.set.has_ordinals && o->u.set.ordinals_start == 3);
    if (o) {
        CHECK_STR(o->u.set.retention.when_deleted, "Retain");
        CHECK_STR(o->u.set.retention.when_scaled, "Retain");
    }
    kube_object_free(o);
    free(msg);
    o = decode(STS "  persistentVolumeClaimRetentionPolicy: {whenScaled: Delete}\n" TEMPLATE CLAIMS,
               &msg);
    CHECK(o != NULL);
    if (o) {
        CHECK_STR(o->u.set.retention.when_deleted, "Retain");
        CHECK_STR(o->u.set.retention.when_scaled, "Delete");
    }
    kube_object_free(o);
    free(msg);
}

/* rollingUpdate.maxUnavailable (MaxUnavailableStatefulSet): several pods at once, highest
 * first, less those already unavailable; OrderedReady still waits for all to be Ready. */
static void test_max_unavailable(void)
{
    struct kube_sts_spec s = {.replicas = 5, .max_unavailable = 2};
    struct kube_sts_pod old[5];
    for (int i = 0; i < 5; i++)
        old[i] = (struct kube_sts_pod){.ordinal = i, .running_ready = true};
    plan(&s, old, 5, "", "4,3");
    /* OrderedReady: 4 and 3 came back updated but 3 is not Ready: nothing more. */
    old[4].updated = old[3].updated = true;
    old[3].running_ready = false;
    plan(&s, old, 5, "", "");
    old[3].running_ready = true;
    plan(&s, old, 5, "", "2,1");
    /* The partition holds the ones below it. */
    s.partition = 2;
    plan(&s, old, 5, "", "2");
    s.partition = 0;
    /* Parallel: the update goes on beside an unready pod, within the budget. */
    s.parallel = true;
    old[4].running_ready = false;
    plan(&s, old, 5, "", "2");
    /* A missing replica counts as unavailable: it is made and one old pod goes. */
    struct kube_sts_pod gap[] = {{.ordinal = 0, .running_ready = true},
                                 {.ordinal = 1, .running_ready = true},
                                 {.ordinal = 2, .running_ready = true},
                                 {.ordinal = 3, .running_ready = true}};
    plan(&s, gap, 4, "4", "3");
    s.max_unavailable = 1;
    plan(&s, gap, 4, "4", "");
    /* Resolved from the stored spec: a count or a percentage rounded down, at least 1. */
    yajl_val spec = NULL;
    CHECK(json_parse("{\"updateStrategy\": {\"rollingUpdate\": {\"maxUnavailable\": \"50%\"}}}",
                     "s", &spec, NULL) == 0);
    CHECK(kube_statefulset_max_unavailable(spec, 5) == 2);
    CHECK(kube_statefulset_max_unavailable(spec, 1) == 1);
    yajl_tree_free(spec);
    CHECK(json_parse("{\"updateStrategy\": {\"rollingUpdate\": {\"maxUnavailable\": 3}}}", "s",
                     &spec, NULL) == 0);
    CHECK(kube_statefulset_max_unavailable(spec, 5) == 3);
    yajl_tree_free(spec);
    CHECK(kube_statefulset_max_unavailable(NULL, 5) == 0);
}

/* A DaemonSet's surge on the node: new beside old, old gone once new is available. */
static void test_daemonset_surge(void)
{
    CHECK(kube_daemonset_surge_step(&(struct kube_ds_node){.has_old = true}) == KUBE_DS_CREATE_NEW);
    CHECK(kube_daemonset_surge_step(&(struct kube_ds_node){0}) == KUBE_DS_CREATE_NEW);
    CHECK(kube_daemonset_surge_step(&(struct kube_ds_node){.has_old = true, .has_new = true}) ==
          KUBE_DS_WAIT);
    CHECK(kube_daemonset_surge_step(&(struct kube_ds_node){
              .has_old = true, .has_new = true, .new_available = true}) == KUBE_DS_DELETE_OLD);
    CHECK(kube_daemonset_surge_step(&(struct kube_ds_node){.has_new = true}) == KUBE_DS_WAIT);
}

static void test_node_selector(void)
{
    yajl_val labels = NULL, sel = NULL, none = NULL;
    CHECK(json_parse("{\"kubernetes.io/os\": \"linux\", \"disk\": \"ssd\"}", "l", &labels, NULL) ==
          0);
    CHECK(json_parse("{\"disk\": \"ssd\"}", "s", &sel, NULL) == 0);
    CHECK(json_parse("{\"disk\": \"hdd\"}", "n", &none, NULL) == 0);
    CHECK(kube_node_selector_matches(NULL, labels));
    CHECK(kube_node_selector_matches(sel, labels));
    CHECK(!kube_node_selector_matches(none, labels));
    CHECK(!kube_node_selector_matches(sel, NULL));
    yajl_tree_free(labels);
    yajl_tree_free(sel);
    yajl_tree_free(none);
}

int main(void)
{
    RUN(test_statefulset_defaults);
    RUN(test_statefulset_validation);
    RUN(test_claim_and_daemonset);
    RUN(test_ordinals);
    RUN(test_ordered_ready);
    RUN(test_parallel);
    RUN(test_rolling_update);
    RUN(test_node_selector);
    RUN(test_start_ordinal);
    RUN(test_max_unavailable);
    RUN(test_daemonset_surge);
    UNIT_DONE();
}
