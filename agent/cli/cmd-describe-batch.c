/* SPDX-License-Identifier: Apache-2.0 */
/* podrun describe job|cronjob|hpa: kubectl's describers' fields (pkg/describe: JobDescriber,
 * CronJobDescriber, HorizontalPodAutoscalerDescriber) from the stored object and its status. */
#include "commands.h"
#include "eventview.h"
#include "json.h"
#include "podview.h"
#include "pods/pods.h"
#include "util.h"

#include <stdio.h>

static const char *str(yajl_val v, const char *key)
{
    return YAJL_GET_STRING(json_get(v, key));
}

static long long int_of(yajl_val v, const char *key, long long def)
{
    yajl_val x = json_get(v, key);
    return x && YAJL_IS_INTEGER(x) ? YAJL_GET_INTEGER(x) : def;
}

static void print_map(const char *label, int width, yajl_val m)
{
    printf("%-*s", width, label);
    if (!YAJL_IS_OBJECT(m) || !m->u.object.len) {
        printf("<none>\n");
        return;
    }
    for (size_t i = 0; i < m->u.object.len; i++) {
        yajl_val v = m->u.object.values[i];
        printf("%*s%s=%s\n", i ? width : 0, "", m->u.object.keys[i],
               YAJL_IS_STRING(v) ? v->u.string : "");
    }
}

static void print_time(const char *label, int width, const char *rfc3339)
{
    char t[64];
    if (!rfc3339)
        return;
    human_time(rfc3339, t);
    printf("%-*s%s\n", width, label, t);
}

static void print_header(const struct pods_entry *e, int width)
{
    yajl_val md = json_get(e->object, "metadata");
    printf("%-*s%s\n", width, "Name:", e->name);
    printf("%-*s%s\n", width, "Namespace:", e->ns);
    print_map("Labels:", width, json_get(md, "labels"));
    print_map("Annotations:", width, json_get(md, "annotations"));
}

/* The template's containers: image, command and args, as the describers list them. */
static void print_pod_template(yajl_val tpl)
{
    yajl_val spec = json_get(tpl, "spec"), cs = json_get(spec, "containers");
    printf("Pod Template:\n");
    print_map("  Labels:  ", 11, json_get(json_get(tpl, "metadata"), "labels"));
    printf("  Containers:\n");
    for (size_t i = 0; i < json_array_len(cs); i++) {
        yajl_val c = json_array_at(cs, i);
        printf("   %s:\n", str(c, "name") ?: "");
        printf("    %-10s%s\n", "Image:", str(c, "image") ?: "");
        const char *keys[] = {"command", "args"}, *labels[] = {"Command:", "Args:"};
        for (int k = 0; k < 2; k++) {
            yajl_val words = json_get(c, keys[k]);
            if (!json_array_len(words))
                continue;
            printf("    %s\n", labels[k]);
            for (size_t j = 0; j < json_array_len(words); j++)
                printf("      %s\n", YAJL_GET_STRING(json_array_at(words, j)) ?: "");
        }
    }
    printf("  %-14s%s\n", "Restart Policy:", str(spec, "restartPolicy") ?: "Always");
}

static void describe_job(const struct pods_entry *e, const struct pods_events *events)
{
    yajl_val spec = json_get(e->object, "spec"), st = e->status;
    print_header(e, 18);
    printf("%-18sbatch.kubernetes.io/controller-uid=%s\n", "Selector:", e->uid);
    printf("%-18s%lld\n", "Parallelism:", int_of(spec, "parallelism", 1));
    if (json_get(spec, "completions") || !json_get(spec, "parallelism"))
        printf("%-18s%lld\n", "Completions:", int_of(spec, "completions", 1));
    else
        printf("%-18s<unset>\n", "Completions:");
    printf("%-18s%s\n", "Completion Mode:", str(spec, "completionMode") ?: "NonIndexed");
    yajl_val suspend = json_get(spec, "suspend");
    printf("%-18s%s\n", "Suspend:", suspend && YAJL_IS_TRUE(suspend) ? "true" : "false");
    printf("%-18s%lld\n", "Backoff Limit:", int_of(spec, "backoffLimit", 6));
    if (json_get(spec, "activeDeadlineSeconds"))
        printf("%-18s%llds\n",
               "Active Deadline Seconds:", int_of(spec, "activeDeadlineSeconds", 0));
    print_time("Start Time:", 18, str(st, "startTime"));
    print_time("Completed At:", 18, str(st, "completionTime"));
    printf("%-18s%lld Active (%lld Ready) / %lld Succeeded / %lld Failed\n",
           "Pods Statuses:", int_of(st, "active", 0), int_of(st, "ready", 0),
           int_of(st, "succeeded", 0), int_of(st, "failed", 0));
    if (str(st, "completedIndexes"))
        printf("%-18s%s\n", "Completed Indexes:", str(st, "completedIndexes"));
    print_pod_template(json_get(spec, "template"));
    yajl_val cs = json_get(st, "conditions");
    for (size_t i = 0; i < json_array_len(cs); i++) {
        yajl_val c = json_array_at(cs, i);
        printf("%-18s%s (%s): %s\n", i ? "" : "Conditions:", str(c, "type") ?: "",
               str(c, "reason") ?: "", str(c, "message") ?: "");
    }
    eventview_describe_width(events, e->uid, 18);
}

static void describe_cronjob(const struct pods_entry *e, const struct pods_events *events)
{
    yajl_val spec = json_get(e->object, "spec"), st = e->status;
    yajl_val jspec = json_get(json_get(spec, "jobTemplate"), "spec");
    const int w = 31;
    print_header(e, w);
    printf("%-*s%s\n", w, "Schedule:", str(spec, "schedule") ?: "");
    printf("%-*s%s\n", w, "Concurrency Policy:", str(spec, "concurrencyPolicy") ?: "Allow");
    yajl_val suspend = json_get(spec, "suspend");
    printf("%-*s%s\n", w, "Suspend:", suspend && YAJL_IS_TRUE(suspend) ? "True" : "False");
    printf("%-*s%lld\n", w,
           "Successful Job History Limit:", int_of(spec, "successfulJobsHistoryLimit", 3));
    printf("%-*s%lld\n", w, "Failed Job History Limit:", int_of(spec, "failedJobsHistoryLimit", 1));
    if (json_get(spec, "startingDeadlineSeconds"))
        printf("%-*s%llds\n", w,
               "Starting Deadline Seconds:", int_of(spec, "startingDeadlineSeconds", 0));
    else
        printf("%-*s<unset>\n", w, "Starting Deadline Seconds:");
    printf("%-*s<unset>\n", w, "Selector:");
    if (json_get(jspec, "parallelism"))
        printf("%-*s%lld\n", w, "Parallelism:", int_of(jspec, "parallelism", 1));
    else
        printf("%-*s<unset>\n", w, "Parallelism:");
    if (json_get(jspec, "completions"))
        printf("%-*s%lld\n", w, "Completions:", int_of(jspec, "completions", 1));
    else
        printf("%-*s<unset>\n", w, "Completions:");
    print_pod_template(json_get(jspec, "template"));
    print_time("Last Schedule Time:", 21, str(st, "lastScheduleTime"));
    yajl_val active = json_get(st, "active");
    printf("%-21s", "Active Jobs:");
    for (size_t i = 0; i < json_array_len(active); i++)
        printf("%s%s", i ? ", " : "", str(json_array_at(active, i), "name") ?: "");
    printf("%s\n", json_array_len(active) ? "" : "<none>");
    eventview_describe_width(events, e->uid, 21);
}

static void describe_hpa(const struct pods_entry *e, const struct pods_events *events)
{
    yajl_val spec = json_get(e->object, "spec"), st = e->status;
    yajl_val ref = json_get(spec, "scaleTargetRef");
    const int w = 55;
    char ts[32], t[64];
    print_header(e, w);
    podview_rfc3339(e->created, ts);
    human_time(ts, t);
    printf("%-*s%s\n", w, "CreationTimestamp:", t);
    printf("%-*s%s/%s\n", w, "Reference:", str(ref, "kind") ?: "", str(ref, "name") ?: "");
    printf("%-*s( current / target )\n", w, "Metrics:");
    yajl_val ms = json_get(spec, "metrics"), cur = json_get(st, "currentMetrics");
    size_t n = json_array_len(ms);
    for (size_t i = 0; i < (n ? n : 1); i++) {
        yajl_val m = n ? json_array_at(ms, i) : NULL, res = n ? json_get(m, "resource") : NULL;
        const char *box = NULL; /* a ContainerResource metric's container */
        if (n && !res && (res = json_get(m, "containerResource")))
            box = str(res, "container");
        const char *rn = n ? str(res, "name") : "cpu";
        long long want = n ? int_of(json_get(res, "target"), "averageUtilization", 0)
                           : int_of(spec, "targetCPUUtilizationPercentage", 80);
        char now[64] = "<unknown>";
        for (size_t j = 0; rn && j < json_array_len(cur); j++) {
            yajl_val c = json_get(json_array_at(cur, j), box ? "containerResource" : "resource");
            if (box && (!str(c, "container") || !streq(str(c, "container"), box)))
                continue;
            if (str(c, "name") && streq(str(c, "name"), rn))
                snprintf(now, sizeof(now), "%lld%% (%s)",
                         int_of(json_get(c, "current"), "averageUtilization", 0),
                         str(json_get(c, "current"), "averageValue") ?: "0");
        }
        _cleanup_free_ char *label =
            box ? xasprintf("  resource %s of container \"%s\" on pods  (as a percentage of "
                            "request):",
                            rn ? rn : "?", box)
                : xasprintf("  resource %s on pods  (as a percentage of request):", rn ? rn : "?");
        printf("%-*s%s / %lld%%\n", w, label, now, want);
    }
    printf("%-*s%lld\n", w, "Min replicas:", int_of(spec, "minReplicas", 1));
    printf("%-*s%lld\n", w, "Max replicas:", int_of(spec, "maxReplicas", 0));
    _cleanup_free_ char *pods = xasprintf("%s pods:", str(ref, "kind") ?: "");
    printf("%-*s%lld current / %lld desired\n", w, pods, int_of(st, "currentReplicas", 0),
           int_of(st, "desiredReplicas", 0));
    yajl_val cs = json_get(st, "conditions");
    if (json_array_len(cs)) {
        printf("Conditions:\n  %-16s%-8s%-28s%s\n  %-16s%-8s%-28s%s\n", "Type", "Status", "Reason",
               "Message", "----", "------", "------", "-------");
        for (size_t i = 0; i < json_array_len(cs); i++) {
            yajl_val c = json_array_at(cs, i);
            printf("  %-16s%-8s%-28s%s\n", str(c, "type") ?: "", str(c, "status") ?: "",
                   str(c, "reason") ?: "", str(c, "message") ?: "");
        }
    }
    eventview_describe_width(events, e->uid, 18);
}

int describe_batch(struct podrun_global *g, const char *resource, const char *ns, char **names,
                   pr_error **err)
{
    struct pods_manager *m = NULL;
    int r = open_manager(g, false, &m, err);
    if (r < 0)
        return r;
    struct pods_list l = {0};
    size_t n = names ? strv_length(names) : 1;
    for (size_t i = 0; r == 0 && i < n; i++) {
        struct pods_list one = {0};
        r = pods_list(m, resource, ns, names ? names[i] : NULL, &one, err);
        cli_list_move(&l, &one);
    }
    for (size_t i = 0; r == 0 && i < l.n; i++)
        r = streq(resource, "jobs")       ? pods_job_status(m, &l.v[i], &l.v[i].status, err)
            : streq(resource, "cronjobs") ? pods_cronjob_status(m, &l.v[i], &l.v[i].status, err)
                                          : pods_hpa_status(m, &l.v[i], &l.v[i].status, err);
    struct pods_events events = {0};
    if (r == 0)
        r = pods_workload_events_list(m, ns, resource, &events, err);
    pods_manager_close(m);
    if (r == 0 && !l.n)
        fprintf(stderr, "No resources found in %s namespace.\n", ns);
    for (size_t i = 0; r == 0 && i < l.n; i++) {
        if (i)
            printf("\n\n");
        if (streq(resource, "jobs"))
            describe_job(&l.v[i], &events);
        else if (streq(resource, "cronjobs"))
            describe_cronjob(&l.v[i], &events);
        else
            describe_hpa(&l.v[i], &events);
    }
    pods_events_clear(&events);
    pods_list_clear(&l);
    return r;
}
