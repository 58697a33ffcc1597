/* SPDX-License-Identifier: Apache-2.0 */
/* describe replicaset: kubectl's layout (replicas current / desired, the pods' phases, the pod
 * template, the replicaset-controller's events). */
#include "commands.h"
#include "eventview.h"
#include "json.h"
#include "pods/pods.h"
#include "podview.h"
#include "util.h"

static const char *owner_of(yajl_val obj, const char **kind)
{
    yajl_val refs = json_get(json_get(obj, "metadata"), "ownerReferences");
    for (size_t i = 0; i < json_array_len(refs); i++) {
        yajl_val ref = json_array_at(refs, i), c = json_get(ref, "controller");
        if (c && YAJL_IS_TRUE(c)) {
            *kind = YAJL_GET_STRING(json_get(ref, "kind"));
            return YAJL_GET_STRING(json_get(ref, "name"));
        }
    }
    return NULL;
}

static bool owned_by(const struct pods_entry *pod, const struct pods_entry *rs)
{
    yajl_val refs = json_get(json_get(pod->object, "metadata"), "ownerReferences");
    for (size_t i = 0; i < json_array_len(refs); i++) {
        const char *uid = YAJL_GET_STRING(json_get(json_array_at(refs, i), "uid"));
        if (uid && streq(uid, rs->uid))
            return true;
    }
    return false;
}

static void describe_one(const struct pods_entry *rs, const struct pods_list *pods,
                         const struct pods_events *events)
{
    yajl_val o = rs->object, md = json_get(o, "metadata"), spec = json_get(o, "spec");
    _cleanup_free_ char *sel = podview_selector_text(json_get(spec, "selector"));
    printf("%-16s%s\n", "Name:", rs->name);
    printf("%-16s%s\n", "Namespace:", rs->ns);
    printf("%-16s%s\n", "Selector:", sel);
    describe_map("Labels:", 16, json_get(md, "labels"));
    describe_map("Annotations:", 16, json_get(md, "annotations"));
    const char *kind = NULL, *owner = owner_of(o, &kind);
    if (owner)
        printf("%-16s%s/%s\n", "Controlled By:", kind ? kind : "", owner);
    yajl_val want = json_get(spec, "replicas");
    size_t running = 0, waiting = 0, succeeded = 0, failed = 0, current = 0;
    for (size_t i = 0; i < pods->n; i++) {
        if (!owned_by(&pods->v[i], rs))
            continue;
        const char *ph = pods->v[i].phase ? pods->v[i].phase : "Pending";
        current++;
        running += streq(ph, "Running");
        succeeded += streq(ph, "Succeeded");
        failed += streq(ph, "Failed");
        waiting += !streq(ph, "Running") && !streq(ph, "Succeeded") && !streq(ph, "Failed");
    }
    printf("%-16s%zu current / %lld desired\n", "Replicas:", current,
           (long long)(want && YAJL_IS_INTEGER(want) ? YAJL_GET_INTEGER(want) : 1));
    printf("%-16s%zu Running / %zu Waiting / %zu Succeeded / %zu Failed\n", "Pods Status:", running,
           waiting, succeeded, failed);
    print_template(json_get(spec, "template"));
    bool any = false;
    for (size_t i = 0; i < events->n; i++)
        any |= streq(events->v[i].uid, rs->uid);
    if (any)
        eventview_describe(events, rs->uid);
    else
        printf("%-16s%s\n", "Events:", "<none>");
}

int describe_replicasets(struct podrun_global *g, const char *ns, const char *name, pr_error **err)
{
    struct pods_manager *m = NULL;
    int r = open_manager(g, false, &m, err);
    if (r < 0)
        return r;
    struct pods_list l = {0}, pods = {0};
    struct pods_events events = {0};
    r = pods_list(m, "replicasets", ns, name, &l, err);
    if (r == 0)
        r = pods_list(m, "pods", ns, NULL, &pods, err);
    if (r == 0)
        r = pods_workload_events_list(m, ns, "replicasets", &events, err);
    pods_manager_close(m);
    if (r == 0 && !l.n)
        fprintf(stderr, "No resources found in %s namespace.\n", ns);
    for (size_t i = 0; r == 0 && i < l.n; i++) {
        if (i)
            printf("\n\n");
        describe_one(&l.v[i], &pods, &events);
    }
    pods_events_clear(&events);
    pods_list_clear(&pods);
    pods_list_clear(&l);
    return r;
}
