/* SPDX-License-Identifier: Apache-2.0 */
/* The workload controllers' pure decisions (agent/kube/replicaset.c, rollout.c). */
#include "json.h"
#include "kube/kube.h"
#include "tests/lib/unit.h"
#include "util.h"

static struct kube_owned_pod running(const char *name, bool ready, int64_t ready_since,
                                     int32_t restarts, int64_t created)
{
    return (struct kube_owned_pod){.name = name,
                                   .phase = "Running",
                                   .ready = ready,
                                   .ready_since = ready_since,
                                   .restarts = restarts,
                                   .created = created};
}

static void test_replicaset_creates_what_is_missing_not_counting_finished_or_deleted(void)
{
    struct kube_owned_pod pods[] = {
        running("a", true, 10, 0, 1),
        {.name = "b", .phase = "Succeeded", .created = 2},
        {.name = "c", .phase = "Failed", .created = 3},
        {.name = "d", .phase = "Running", .terminating = true, .created = 4},
    };
    struct kube_replicaset_plan p;
    kube_replicaset_plan(3, pods, ARRAY_SIZE(pods), &p);
    CHECK(p.create == 2);
    CHECK(p.n_delete == 0);
    kube_replicaset_plan_clear(&p);
    kube_replicaset_plan(1, pods, ARRAY_SIZE(pods), &p);
    CHECK(p.create == 0 && p.n_delete == 0);
    kube_replicaset_plan_clear(&p);
    kube_replicaset_plan(0, pods, ARRAY_SIZE(pods), &p);
    CHECK(p.create == 0 && p.n_delete == 1 && p.delete_idx[0] == 0);
    kube_replicaset_plan_clear(&p);
}

static void test_replicaset_deletes_in_kubernetes_order(void)
{
    struct kube_owned_pod pods[] = {
        running("ready-long", true, 100, 0, 1),           /* 0: kept longest */
        running("ready-short", true, 500, 0, 2),          /* 1 */
        running("not-ready", false, 0, 0, 3),             /* 2 */
        {.name = "pending", .phase = "Pending"},          /* 3: first */
        running("ready-short-restarts", true, 500, 4, 2), /* 4: before 1 */
        running("ready-short-newer", true, 500, 0, 9),    /* 5: before 1, after 4 */
        {.name = "unknown", .phase = "Unknown"},          /* 6: after pending */
    };
    struct kube_replicaset_plan p;
    kube_replicaset_plan(0, pods, ARRAY_SIZE(pods), &p);
    size_t want[] = {3, 6, 2, 4, 5, 1, 0};
    CHECK(p.n_delete == ARRAY_SIZE(want));
    for (size_t i = 0; i < p.n_delete && i < ARRAY_SIZE(want); i++) {
        if (p.delete_idx[i] != want[i])
            fprintf(stderr, "# position %zu: %s, want %s\n", i, pods[p.delete_idx[i]].name,
                    pods[want[i]].name);
        CHECK(p.delete_idx[i] == want[i]);
    }
    kube_replicaset_plan_clear(&p);
    /* Scaling 7 to 5 takes the first two of that order. */
    kube_replicaset_plan(5, pods, ARRAY_SIZE(pods), &p);
    CHECK(p.n_delete == 2 && p.delete_idx[0] == 3 && p.delete_idx[1] == 6);
    kube_replicaset_plan_clear(&p);
}

static void test_replicaset_burst_is_500(void)
{
    struct kube_replicaset_plan p;
    kube_replicaset_plan(2000, NULL, 0, &p);
    CHECK(p.create == 500);
    kube_replicaset_plan_clear(&p);
    kube_replicaset_plan(-1, NULL, 0, &p);
    CHECK(p.create == 0 && p.n_delete == 0);
    kube_replicaset_plan_clear(&p);
}

static void test_pod_available_after_min_ready_seconds(void)
{
    struct kube_owned_pod p = running("a", true, 100, 0, 1);
    CHECK(kube_pod_available(&p, 0, 100));
    CHECK(!kube_pod_available(&p, 10, 109));
    CHECK(kube_pod_available(&p, 10, 110));
    p.ready = false;
    CHECK(!kube_pod_available(&p, 0, 200));
    p.ready = true;
    p.terminating = true;
    CHECK(!kube_pod_available(&p, 0, 200));
}

static yajl_val tree(const char *json)
{
    yajl_val v = NULL;
    pr_error *err = NULL;
    if (json_parse(json, "t", &v, &err) < 0) {
        fprintf(stderr, "# %s\n", err->msg);
        pr_error_free(err);
    }
    return v;
}

static void test_template_hash_is_stable_and_in_kubernetes_letters(void)
{
    _cleanup_json_ yajl_val a =
        tree("{\"metadata\":{\"labels\":{\"app\":\"web\",\"tier\":\"f\"}},"
             "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"b\"}]}}");
    _cleanup_json_ yajl_val b =
        tree("{\"spec\":{\"containers\":[{\"image\":\"b\",\"name\":\"c\"}]},"
             "\"metadata\":{\"labels\":{\"tier\":\"f\",\"app\":\"web\"}}}");
    _cleanup_json_ yajl_val c =
        tree("{\"metadata\":{\"labels\":{\"app\":\"web\",\"tier\":\"f\"}},"
             "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}");
    char ha[KUBE_HASH_MAX], hb[KUBE_HASH_MAX], hc[KUBE_HASH_MAX], h1[KUBE_HASH_MAX];
    pr_error *err = NULL;
    CHECK(kube_template_hash(a, 0, ha, &err) == 0);
    CHECK(kube_template_hash(b, 0, hb, &err) == 0);
    CHECK(kube_template_hash(c, 0, hc, &err) == 0);
    CHECK(kube_template_hash(a, 1, h1, &err) == 0);
    CHECK_STR(ha, hb); /* key order does not matter */
    CHECK(!streq(ha, hc));
    CHECK(!streq(ha, h1)); /* a collision count gives another name */
    CHECK(strlen(ha) >= 1 && strlen(ha) <= 10);
    CHECK(strspn(ha, "bcdfghjklmnpqrstvwxz2456789") == strlen(ha));
    unsigned char rnd[KUBE_SUFFIX_LEN] = {0, 26, 27, 255, 100};
    char sfx[KUBE_SUFFIX_LEN + 1];
    kube_name_suffix(rnd, sfx);
    CHECK_STR(sfx, "b9bqz"); /* letters 0, 26, 27%27=0, 255%27=12, 100%27=19 */
}

static void test_rollout_limits_round_as_kubernetes(void)
{
    pr_error *err = NULL;
    int32_t s, u;
    struct kube_rollout d = {.replicas = 3};
    CHECK(kube_rollout_limits(&d, &s, &u, &err) == 0);
    CHECK(s == 1 && u == 0); /* 25% of 3: surge up to 1, unavailable down to 0 */
    d.replicas = 10;
    d.max_surge = (struct kube_int_or_string){.set = true, .is_string = true, .s = "30%"};
    d.max_unavailable = (struct kube_int_or_string){.set = true, .is_string = true, .s = "30%"};
    CHECK(kube_rollout_limits(&d, &s, &u, &err) == 0);
    CHECK(s == 3 && u == 3);
    d.replicas = 1;
    d.max_surge = (struct kube_int_or_string){.set = true, .i = 0};
    d.max_unavailable = (struct kube_int_or_string){.set = true, .is_string = true, .s = "10%"};
    CHECK(kube_rollout_limits(&d, &s, &u, &err) == 0);
    CHECK(s == 0 && u == 1); /* both 0 would stall: one may be unavailable */
    d.max_surge = (struct kube_int_or_string){.set = true, .is_string = true, .s = "many"};
    CHECK(kube_rollout_limits(&d, &s, &u, &err) < 0);
    CHECK(err && strstr(err->msg, "maxSurge") && strstr(err->msg, "\"many\""));
    pr_error_free(err);
    err = NULL;
    d.max_surge = (struct kube_int_or_string){.set = true, .i = -2};
    CHECK(kube_rollout_limits(&d, &s, &u, &err) < 0);
    pr_error_free(err);
}

/* Plays a rolling update of `replicas` from an old ReplicaSet with all pods available to a new
 * one whose pods become available one step after they are asked for, checking Kubernetes'
 * promises at every step. */
static void play_rolling(int32_t replicas, struct kube_int_or_string surge,
                         struct kube_int_or_string unavailable, int32_t want_surge,
                         int32_t want_unavailable)
{
    struct kube_rollout d = {
        .replicas = replicas, .max_surge = surge, .max_unavailable = unavailable};
    struct kube_rs_state rs[2] = {
        {.created = 1, .replicas = replicas, .pods = replicas, .available = replicas},
        {.created = 2},
    };
    pr_error *err = NULL;
    int32_t want[2];
    int steps = 0;
    while (!kube_rollout_complete(&d, rs, 2, 1) && steps < 1000) {
        CHECK(kube_rollout_step(&d, rs, 2, 1, want, &err) == 0);
        /* The pods follow: old pods go at once, new pods are created now and ready next step. */
        int32_t new_avail = rs[1].pods;
        for (int i = 0; i < 2; i++) {
            rs[i].replicas = want[i];
            rs[i].pods = want[i];
        }
        rs[0].available = MIN(rs[0].available, rs[0].pods);
        rs[1].available = MIN(new_avail, rs[1].pods);
        int32_t total = rs[0].replicas + rs[1].replicas;
        int32_t available = rs[0].available + rs[1].available;
        CHECK(total <= replicas + want_surge);
        CHECK(available >= replicas - want_unavailable);
        steps++;
    }
    CHECK(kube_rollout_complete(&d, rs, 2, 1));
    CHECK(steps < 1000);
}

static void test_rolling_update_keeps_surge_and_availability(void)
{
    struct kube_int_or_string unset = {0};
    play_rolling(3, unset, unset, 1, 0);
    play_rolling(10, unset, unset, 3, 2);
    play_rolling(1, (struct kube_int_or_string){.set = true, .i = 0},
                 (struct kube_int_or_string){.set = true, .i = 1}, 0, 1);
    play_rolling(5, (struct kube_int_or_string){.set = true, .is_string = true, .s = "100%"},
                 (struct kube_int_or_string){.set = true, .i = 0}, 5, 0);
}

static void test_rolling_update_removes_unavailable_old_pods_first(void)
{
    /* 4 replicas, an old ReplicaSet with 2 of 4 pods failing: they go before anything else. */
    struct kube_rollout d = {.replicas = 4};
    struct kube_rs_state rs[2] = {
        {.created = 1, .replicas = 4, .pods = 4, .available = 2},
        {.created = 2, .replicas = 1, .pods = 1, .available = 0},
    };
    int32_t want[2];
    pr_error *err = NULL;
    CHECK(kube_rollout_step(&d, rs, 2, 1, want, &err) == 0);
    /* all 5 - min available 3 - new unavailable 1 = 1 may go, and it is an unavailable one. */
    CHECK(want[0] == 3 && want[1] == 1);
}

static void test_recreate_waits_for_old_pods(void)
{
    struct kube_rollout d = {.replicas = 2, .recreate = true};
    struct kube_rs_state rs[2] = {
        {.created = 1, .replicas = 2, .pods = 2, .available = 2},
        {.created = 2},
    };
    int32_t want[2];
    pr_error *err = NULL;
    CHECK(kube_rollout_step(&d, rs, 2, 1, want, &err) == 0);
    CHECK(want[0] == 0 && want[1] == 0);
    rs[0].replicas = 0; /* scaled down, but its pods still terminate */
    CHECK(kube_rollout_step(&d, rs, 2, 1, want, &err) == 0);
    CHECK(want[0] == 0 && want[1] == 0);
    rs[0].pods = rs[0].available = 0;
    CHECK(kube_rollout_step(&d, rs, 2, 1, want, &err) == 0);
    CHECK(want[0] == 0 && want[1] == 2);
}

static void test_paused_and_scaled_deployments(void)
{
    struct kube_rs_state rs[1] = {{.created = 1, .replicas = 5, .pods = 5, .available = 5}};
    int32_t want[1];
    pr_error *err = NULL;
    struct kube_rollout d = {.replicas = 2, .paused = true};
    CHECK(kube_rollout_step(&d, rs, 1, 0, want, &err) == 0);
    CHECK(want[0] == 5);
    d.paused = false;
    CHECK(kube_rollout_step(&d, rs, 1, 0, want, &err) == 0);
    CHECK(want[0] == 2); /* scale down: the new ReplicaSet follows replicas */
    d.replicas = 8;
    CHECK(kube_rollout_step(&d, rs, 1, 0, want, &err) == 0);
    CHECK(want[0] == 8); /* scale up: no old pods, the surge is not what limits it */
    CHECK(kube_rollout_step(&d, rs, 1, 3, want, &err) < 0);
    CHECK(err && strstr(err->msg, "no new ReplicaSet"));
    pr_error_free(err);
}

/* ---- the objects (workload.c) ---- */

#define DEPLOY_HEAD "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
#define TEMPLATE                                                                                   \
    "  template:\n    metadata: {labels: {app: web}}\n"                                            \
    "    spec: {containers: [{name: c, image: busybox}]}\n"

/* Decodes one document; NULL with *msg set (freshly allocated) when refused. */
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

static void test_deployment_defaults(void)
{
    char *msg;
    struct kube_object *o =
        decode(DEPLOY_HEAD "  selector: {matchLabels: {app: web}}\n" TEMPLATE, &msg);
    CHECK(o != NULL);
    if (!o) {
        free(msg);
        return;
    }
    const struct kube_workload *w = &o->u.workload;
    CHECK(o->kind == KUBE_DEPLOYMENT);
    CHECK(w->replicas == 1);
    CHECK(streq(w->strategy.type, "RollingUpdate"));
    CHECK(w->strategy.rolling_update.max_surge.is_string &&
          streq(w->strategy.rolling_update.max_surge.s, "25%"));
    CHECK(streq(w->strategy.rolling_update.max_unavailable.s, "25%"));
    CHECK(w->revision_history_limit == 10);
    CHECK(w->progress_deadline_seconds == 600);
    CHECK(w->template_.spec.n_containers == 1);
    CHECK(streq(w->template_.spec.restart_policy, "Always"));
    CHECK(streq(o->meta.namespace_, "default"));
    kube_object_free(o);
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

static void test_deployment_validation(void)
{
    refused(DEPLOY_HEAD "  selector: {matchLabels: {app: other}}\n" TEMPLATE,
            "spec.template.metadata.labels: Invalid value: `selector` does not match template "
            "`labels`");
    refused(DEPLOY_HEAD "  selector: {}\n" TEMPLATE, "empty selector is invalid");
    refused(DEPLOY_HEAD TEMPLATE, "spec.selector: Required value");
    refused(DEPLOY_HEAD "  replicas: -2\n  selector: {matchLabels: {app: web}}\n" TEMPLATE,
            "spec.replicas: Invalid value: -2");
    refused(DEPLOY_HEAD "  replica: 2\n  selector: {matchLabels: {app: web}}\n" TEMPLATE,
            "spec.replica");
    refused(DEPLOY_HEAD "  selector: {matchLabels: {app: web}}\n"
                        "  strategy: {type: Recreate, rollingUpdate: {}}\n" TEMPLATE,
            "spec.strategy.rollingUpdate: Forbidden");
    refused(DEPLOY_HEAD "  selector: {matchLabels: {app: web}}\n"
                        "  strategy: {rollingUpdate: {maxSurge: 0%, maxUnavailable: 0}}\n" TEMPLATE,
            "may not be 0 when `maxSurge` is 0");
    refused(DEPLOY_HEAD
            "  selector: {matchLabels: {app: web}}\n  strategy: {type: Blue}\n" TEMPLATE,
            "spec.strategy.type: Unsupported value: \"Blue\"");
    refused(DEPLOY_HEAD "  selector: {matchLabels: {app: web}}\n  template:\n"
                        "    metadata: {labels: {app: web}}\n"
                        "    spec: {restartPolicy: Never, containers: [{name: c, image: b}]}\n",
            "spec.template.spec.restartPolicy: Unsupported value: \"Never\"");
    refused(DEPLOY_HEAD "  selector: {matchLabels: {app: web}}\n  template:\n"
                        "    metadata: {labels: {app: web}}\n"
                        "    spec: {containers: [{name: c, image: b, bogus: 1}]}\n",
            "spec.template.spec.containers[0].bogus");
    refused(DEPLOY_HEAD "  selector: {matchLabels: {app: web}}\n  minReadySeconds: 700\n" TEMPLATE,
            "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than "
            "minReadySeconds");
    refused("apiVersion: apps/v1\nkind: ReplicationController\nmetadata: {name: s}\nspec: {}\n",
            "kind \"ReplicationController\" is not supported by podrun");
    refused("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: s}\n", "spec: Required value");
}

static void test_replicaset_decodes_without_a_strategy(void)
{
    char *msg;
    struct kube_object *o =
        decode("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-1}\nspec:\n"
               "  replicas: 0\n  selector: {matchExpressions: [{key: app, operator: In, values: "
               "[web]}]}\n" TEMPLATE,
               &msg);
    CHECK(o && o->kind == KUBE_REPLICASET && o->u.workload.replicas == 0);
    kube_object_free(o);
    free(msg);
    refused("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: w}\nspec:\n"
            "  selector: {matchLabels: {app: web}}\n  strategy: {}\n" TEMPLATE,
            "spec.strategy");
}

int main(void)
{
    RUN(test_deployment_defaults);
    RUN(test_deployment_validation);
    RUN(test_replicaset_decodes_without_a_strategy);
    RUN(test_replicaset_creates_what_is_missing_not_counting_finished_or_deleted);
    RUN(test_replicaset_deletes_in_kubernetes_order);
    RUN(test_replicaset_burst_is_500);
    RUN(test_pod_available_after_min_ready_seconds);
    RUN(test_template_hash_is_stable_and_in_kubernetes_letters);
    RUN(test_rollout_limits_round_as_kubernetes);
    RUN(test_rolling_update_keeps_surge_and_availability);
    RUN(test_rolling_update_removes_unavailable_old_pods_first);
    RUN(test_recreate_waits_for_old_pods);
    RUN(test_paused_and_scaled_deployments);
    UNIT_DONE();
}
