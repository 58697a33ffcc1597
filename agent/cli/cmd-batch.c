/* SPDX-License-Identifier: Apache-2.0 */
/* podrun create job|cronjob and podrun autoscale: kubectl's imperative verbs for batch/v1 and
 * autoscaling/v2 (the objects they make are kubectl's). */
#include "commands.h"
#include "json.h"
#include "kube/kube.h"
#include "pods/pods.h"
#include "util.h"

#include <getopt.h>

#define CREATE_JOB_USAGE                                                                           \
    "usage: podrun create job NAME --image=IMAGE [-n NS] [-- COMMAND [ARGS...]]"
#define CREATE_CJ_USAGE                                                                            \
    "usage: podrun create cronjob NAME --image=IMAGE --schedule='0/5 * * * ?' "                    \
    "[--restart=OnFailure|Never] [-n NS] [-- COMMAND [ARGS...]]"
#define AUTOSCALE_USAGE                                                                            \
    "usage: podrun autoscale deployment|replicaset NAME --max=MAXPODS [--min=MINPODS] "            \
    "[--cpu-percent=CPU] [--name=NAME] [-n NS]"

static void gen_pod_spec(yajl_gen g, const char *name, const char *image, char **command,
                         const char *restart)
{
    jg_key(g, "spec");
    jg_map_open(g);
    jg_key(g, "containers");
    jg_array_open(g);
    jg_map_open(g);
    if (command && *command)
        jg_key_strv(g, "command", command);
    jg_key_str(g, "image", image);
    jg_key_str(g, "name", name);
    jg_key(g, "resources");
    jg_map_open(g);
    jg_map_close(g);
    jg_map_close(g);
    jg_array_close(g);
    jg_key_str(g, "restartPolicy", restart);
    jg_map_close(g);
}

/* create job NAME and create cronjob NAME: argv[0] is the kind. */
static int create_batch(struct podrun_global *g, bool cron, int argc, char **argv, pr_error **err)
{
    static const struct option opts[] = {
        {"image", required_argument, NULL, 'i'},   {"schedule", required_argument, NULL, 's'},
        {"restart", required_argument, NULL, 'r'}, {"namespace", required_argument, NULL, 'n'},
        {"from", required_argument, NULL, 'f'},    {NULL, 0, NULL, 0},
    };
    const char *usage = cron ? CREATE_CJ_USAGE : CREATE_JOB_USAGE;
    const char *image = NULL, *schedule = NULL, *ns = "default";
    const char *restart = cron ? "OnFailure" : "Never";
    int c;
    while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
        if (c == 'i')
            image = optarg;
        else if (c == 's' && cron)
            schedule = optarg;
        else if (c == 'r' && cron)
            restart = optarg;
        else if (c == 'n')
            ns = optarg;
        else if (c == 'f')
            return pr_err_code(err, EOPNOTSUPP,
                               "--from: not supported by podrun (give --image and the command)");
        else
            return pr_err(err, 0, "%s", usage);
    }
    if (optind >= argc)
        return pr_err(err, 0, "%s", usage);
    const char *name = argv[optind++];
    if (!image)
        return pr_err(err, 0, "required flag(s) \"image\" not set");
    if (cron && !schedule)
        return pr_err(err, 0, "required flag(s) \"schedule\" not set");
    if (!streq(restart, "OnFailure") && !streq(restart, "Never"))
        return pr_err(err, 0, "invalid restart policy: %s", restart);
    char **command = argv + optind;
    if (*command && streq(*command, "--"))
        command++;
    _cleanup_gen_ yajl_gen gen = json_gen_new(false);
    jg_map_open(gen);
    jg_key_str(gen, "apiVersion", "batch/v1");
    jg_key_str(gen, "kind", cron ? "CronJob" : "Job");
    jg_key(gen, "metadata");
    jg_map_open(gen);
    jg_key_str(gen, "name", name);
    jg_key_str(gen, "namespace", ns);
    jg_map_close(gen);
    jg_key(gen, "spec");
    jg_map_open(gen);
    if (cron) {
        jg_key(gen, "jobTemplate");
        jg_map_open(gen);
        jg_key(gen, "metadata");
        jg_map_open(gen);
        jg_key_str(gen, "name", name);
        jg_map_close(gen);
        jg_key(gen, "spec");
        jg_map_open(gen);
    }
    jg_key(gen, "template");
    jg_map_open(gen);
    jg_key(gen, "metadata");
    jg_map_open(gen);
    jg_map_close(gen);
    gen_pod_spec(gen, name, image, command, restart);
    jg_map_close(gen);
    if (cron) {
        jg_map_close(gen);
        jg_map_close(gen);
        jg_key_str(gen, "schedule", schedule);
    }
    jg_map_close(gen);
    jg_map_close(gen);
    struct cli_new_object n = {
        .where = cron ? "cronjob.batch" : "job.batch",
        .resource = cron ? "cronjobs" : "jobs",
        .what = cron ? "cronjob.batch" : "job.batch",
        .ns = ns,
        .name = name,
        .verb = "created",
    };
    int r = cli_gen_tree(gen, cron ? "the cronjob" : "the job", &n.tree, err);
    if (r < 0)
        return r;
    return cli_create_object(g, &n, err);
}

int cmd_create_batch(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    bool cron = streq(argv[0], "cronjob") || streq(argv[0], "cj");
    optind = 0;
    return create_batch(g, cron, argc, argv, err);
}

static int parse_int(const char *flag, const char *s, int32_t *out, pr_error **err)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !*s || *end || v < -1 || v > INT32_MAX)
        return pr_err(err, 0, "%s: \"%s\" is not a number", flag, s);
    *out = (int32_t)v;
    return 0;
}

int cmd_autoscale(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    static const struct option opts[] = {
        {"max", required_argument, NULL, 'M'},         {"min", required_argument, NULL, 'm'},
        {"cpu-percent", required_argument, NULL, 'c'}, {"name", required_argument, NULL, 'N'},
        {"namespace", required_argument, NULL, 'n'},   {NULL, 0, NULL, 0},
    };
    const char *ns = "default", *hpa_name = NULL;
    int32_t max = -1, min = -1, cpu = -1;
    int c, r;
    while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
        if (c == 'M' && (r = parse_int("--max", optarg, &max, err)) < 0)
            return r;
        else if (c == 'm' && (r = parse_int("--min", optarg, &min, err)) < 0)
            return r;
        else if (c == 'c' && (r = parse_int("--cpu-percent", optarg, &cpu, err)) < 0)
            return r;
        else if (c == 'N')
            hpa_name = optarg;
        else if (c == 'n')
            ns = optarg;
        else if (c != 'M' && c != 'm' && c != 'c')
            return pr_err(err, 0, AUTOSCALE_USAGE);
    }
    _cleanup_free_ char *kind = NULL;
    const char *name;
    if (cli_kind_name(argc - optind, argv + optind, &kind, &name) < 0)
        return pr_err(err, 0, AUTOSCALE_USAGE);
    const char *resource = pods_resource_name(kind);
    if (!resource || (!streq(resource, "deployments") && !streq(resource, "replicasets") &&
                      !streq(resource, "statefulsets")))
        return pr_err(err, 0,
                      "cannot autoscale a %s: podrun autoscales deployments, replicasets and "
                      "statefulsets",
                      kind);
    if (max < 1)
        return pr_err(err, 0, "--max=MAXPODS is required and must be at least 1, max: %d", max);
    if (min > max)
        return pr_err(err, 0,
                      "--max=MAXPODS must be larger or equal to --min=MINPODS, max: %d, "
                      "min: %d",
                      max, min);
    /* The target must exist, as kubectl's resource builder finds it first. */
    struct pods_manager *m = NULL;
    if ((r = open_manager(g, false, &m, err)) < 0)
        return r;
    struct pods_list l = {0};
    r = pods_list(m, resource, ns, name, &l, err);
    pods_list_clear(&l);
    pods_manager_close(m);
    if (r < 0)
        return r;
    const char *target_kind = streq(resource, "deployments")   ? "Deployment"
                              : streq(resource, "replicasets") ? "ReplicaSet"
                                                               : "StatefulSet";
    _cleanup_gen_ yajl_gen gen = json_gen_new(false);
    jg_map_open(gen);
    jg_key_str(gen, "apiVersion", "autoscaling/v2");
    jg_key_str(gen, "kind", "HorizontalPodAutoscaler");
    jg_key(gen, "metadata");
    jg_map_open(gen);
    jg_key_str(gen, "name", hpa_name ? hpa_name : name);
    jg_key_str(gen, "namespace", ns);
    jg_map_close(gen);
    jg_key(gen, "spec");
    jg_map_open(gen);
    jg_key_int(gen, "maxReplicas", max);
    if (cpu >= 0) {
        jg_key(gen, "metrics");
        jg_array_open(gen);
        jg_map_open(gen);
        jg_key(gen, "resource");
        jg_map_open(gen);
        jg_key_str(gen, "name", "cpu");
        jg_key(gen, "target");
        jg_map_open(gen);
        jg_key_int(gen, "averageUtilization", cpu);
        jg_key_str(gen, "type", "Utilization");
        jg_map_close(gen);
        jg_map_close(gen);
        jg_key_str(gen, "type", "Resource");
        jg_map_close(gen);
        jg_array_close(gen);
    }
    if (min >= 0)
        jg_key_int(gen, "minReplicas", min);
    jg_key(gen, "scaleTargetRef");
    jg_map_open(gen);
    jg_key_str(gen, "apiVersion", "apps/v1");
    jg_key_str(gen, "kind", target_kind);
    jg_key_str(gen, "name", name);
    jg_map_close(gen);
    jg_map_close(gen);
    jg_map_close(gen);
    struct cli_new_object n = {
        .where = "horizontalpodautoscaler.autoscaling",
        .resource = "horizontalpodautoscalers",
        .what = "horizontalpodautoscaler.autoscaling",
        .ns = ns,
        .name = hpa_name ? hpa_name : name,
        .verb = "autoscaled",
    };
    if ((r = cli_gen_tree(gen, "the autoscaler", &n.tree, err)) < 0)
        return r;
    return cli_create_object(g, &n, err);
}
