/* SPDX-License-Identifier: Apache-2.0 */
/* podrun run: kubectl run's Pod (label run=NAME, restartPolicy from --restart, the words after
 * -- as args, or as command with --command), then the same path as apply: decoded, checked and
 * run by the pod manager. --dry-run=client prints the object instead, as kubectl does. */
#include "commands.h"
#include "json.h"
#include "kube/kube.h"
#include "pods/pods.h"
#include "util.h"

#include <getopt.h>
#include <stdlib.h>

#define USAGE "usage: podrun run NAME --image=IMAGE [flags] [-- COMMAND [ARG...]]"

struct run_opts {
    const char *name, *image, *ns, *restart, *pull_policy, *output, *labels, *port;
    char **env;   /* "K=V" */
    char **words; /* after -- (or after NAME) */
    bool command, in, tty, rm, dry_run, quiet;
};

/* "k=v,k2=v2", validated as kubectl does. */
static int gen_labels(yajl_gen g, const struct run_opts *o, pr_error **err)
{
    jg_key(g, "labels");
    jg_map_open(g);
    if (!o->labels) {
        jg_key_str(g, "run", o->name);
        jg_map_close(g);
        return 0;
    }
    _cleanup_free_ char *copy = xstrdup(o->labels);
    char *save = NULL;
    for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq || eq == kv)
            return pr_err(err, 0, "invalid label spec: %s", kv);
        *eq = '\0';
        jg_key_str(g, kv, eq + 1);
    }
    jg_map_close(g);
    return 0;
}

static int gen_container(yajl_gen g, const struct run_opts *o, pr_error **err)
{
    jg_map_open(g);
    if (o->words && !o->command)
        jg_key_strv(g, "args", o->words);
    if (o->words && o->command)
        jg_key_strv(g, "command", o->words);
    if (o->env) {
        jg_key(g, "env");
        jg_array_open(g);
        for (char **e = o->env; *e; e++) {
            const char *eq = strchr(*e, '=');
            if (!eq || eq == *e)
                return pr_err(err, 0, "invalid env: %s", *e);
            _cleanup_free_ char *k = xstrndup(*e, (size_t)(eq - *e));
            jg_map_open(g);
            jg_key_str(g, "name", k);
            jg_key_str(g, "value", eq + 1);
            jg_map_close(g);
        }
        jg_array_close(g);
    }
    jg_key_str(g, "image", o->image);
    jg_key_str(g, "imagePullPolicy", o->pull_policy);
    jg_key_str(g, "name", o->name);
    if (o->port) {
        char *end = NULL;
        errno = 0;
        long p = strtol(o->port, &end, 10);
        if (errno || end == o->port || *end || p < 1 || p > 65535)
            return pr_err(err, 0, "--port=%s: not a port number (1-65535)", o->port);
        jg_key(g, "ports");
        jg_array_open(g);
        jg_map_open(g);
        jg_key_int(g, "containerPort", p);
        jg_map_close(g);
        jg_array_close(g);
    }
    jg_key(g, "resources");
    jg_map_open(g);
    jg_map_close(g);
    if (o->in) {
        jg_key_bool(g, "stdin", true);
        /* kubectl run -i attaches once: the container's stdin closes when the session does. */
        jg_key_bool(g, "stdinOnce", true);
    }
    if (o->tty)
        jg_key_bool(g, "tty", true);
    jg_map_close(g);
    return 0;
}

/* The Pod as kubectl run makes it, keys in the order kubectl prints them (sorted). */
static int pod_json(const struct run_opts *o, bool pretty, char **out, pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(pretty);
    jg_map_open(g);
    jg_key_str(g, "apiVersion", "v1");
    jg_key_str(g, "kind", "Pod");
    jg_key(g, "metadata");
    jg_map_open(g);
    jg_key(g, "creationTimestamp");
    yajl_gen_null(g);
    int r = gen_labels(g, o, err);
    if (r < 0)
        return r;
    jg_key_str(g, "name", o->name);
    jg_key_str(g, "namespace", o->ns);
    jg_map_close(g);
    jg_key(g, "spec");
    jg_map_open(g);
    jg_key(g, "containers");
    jg_array_open(g);
    if ((r = gen_container(g, o, err)) < 0)
        return r;
    jg_array_close(g);
    jg_key_str(g, "dnsPolicy", "ClusterFirst");
    jg_key_str(g, "restartPolicy", o->restart);
    jg_map_close(g);
    jg_key(g, "status");
    jg_map_open(g);
    jg_map_close(g);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    *out = xasprintf("%.*s%s", (int)len, buf, pretty ? "\n" : "");
    return 0;
}

static int print_dry_run(const struct run_opts *o, pr_error **err)
{
    bool yaml = o->output && streq(o->output, "yaml");
    _cleanup_free_ char *text = NULL;
    int r = pod_json(o, !yaml, &text, err);
    if (r < 0)
        return r;
    if (!o->output || streq(o->output, "name")) {
        printf(o->output ? "pod/%s\n" : "pod/%s created (dry run)\n", o->name);
        return 0;
    }
    if (!yaml) {
        fputs(text, stdout);
        return 0;
    }
    _cleanup_json_ yajl_val tree = NULL;
    _cleanup_free_ char *out = NULL;
    size_t len;
    if ((r = json_parse(text, "the pod", &tree, err)) < 0 ||
        (r = kube_yaml_emit(tree, &out, &len, err)) < 0)
        return r;
    fwrite(out, 1, len, stdout);
    return 0;
}

static int parse(int argc, char **argv, struct run_opts *o, pr_error **err)
{
    enum { IMAGE = 256, ENV, PORT, RESTART, COMMAND, RM, DRY, PULL };
    static const struct option opts[] = {
        {"image", required_argument, NULL, IMAGE},
        {"env", required_argument, NULL, ENV},
        {"port", required_argument, NULL, PORT},
        {"labels", required_argument, NULL, 'l'},
        {"restart", required_argument, NULL, RESTART},
        {"command", no_argument, NULL, COMMAND},
        {"rm", no_argument, NULL, RM},
        {"stdin", no_argument, NULL, 'i'},
        {"tty", no_argument, NULL, 't'},
        {"quiet", no_argument, NULL, 'q'},
        {"namespace", required_argument, NULL, 'n'},
        {"output", required_argument, NULL, 'o'},
        {"dry-run", optional_argument, NULL, DRY},
        {"image-pull-policy", required_argument, NULL, PULL},
        {NULL, 0, NULL, 0},
    };
    /* The command is what follows "--", never parsed as podrun's options. */
    int dash = 1;
    while (dash < argc && !streq(argv[dash], "--"))
        dash++;
    int c;
    while ((c = cli_getopt(dash, argv, "l:itqn:o:", opts)) != -1) {
        switch (c) {
        case IMAGE:
            o->image = optarg;
            break;
        case ENV:
            strv_extend(&o->env, optarg);
            break;
        case PORT:
            o->port = optarg;
            break;
        case 'l':
            o->labels = optarg;
            break;
        case RESTART:
            o->restart = optarg;
            break;
        case COMMAND:
            o->command = true;
            break;
        case RM:
            o->rm = true;
            break;
        case 'i':
            o->in = true;
            break;
        case 't':
            o->tty = true;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'n':
            o->ns = optarg;
            break;
        case 'o':
            o->output = optarg;
            break;
        case DRY:
            if (optarg && !streq(optarg, "client") && !streq(optarg, "none") &&
                !streq(optarg, "server"))
                return pr_err(err, 0,
                              "Invalid dry-run value (%s). Must be \"none\", \"server\", or "
                              "\"client\".",
                              optarg);
            if (optarg && streq(optarg, "server"))
                return pr_err(err, 0, "--dry-run=server: podrun has no server; use client");
            o->dry_run = !optarg || streq(optarg, "client");
            break;
        case PULL:
            o->pull_policy = optarg;
            break;
        default:
            return pr_err(err, 0, USAGE);
        }
    }
    if (optind >= dash)
        return pr_err(err, 0, "NAME is required for run");
    o->name = argv[optind];
    for (int i = optind + 1; i < dash; i++)
        strv_extend(&o->words, argv[i]);
    for (int i = dash + 1; i < argc; i++)
        strv_extend(&o->words, argv[i]);
    if (!o->image)
        return pr_err(err, 0, "required flag(s) \"image\" not set");
    if (!o->restart)
        o->restart = "Always";
    if (!streq(o->restart, "Always") && !streq(o->restart, "OnFailure") &&
        !streq(o->restart, "Never"))
        return pr_err(err, 0, "invalid restart policy: %s", o->restart);
    if (o->output && !streq(o->output, "json") && !streq(o->output, "yaml") &&
        !streq(o->output, "name"))
        return pr_err(err, 0,
                      "unable to match a printer suitable for the output format \"%s\", "
                      "allowed formats are: json,name,yaml",
                      o->output);
    if (o->rm && !o->in && !o->tty)
        return pr_err(err, 0, "--rm should only be used for attached containers");
    if (o->tty && !o->in)
        return pr_err(err, 0, "-i/--stdin is required for containers with -t/--tty=true");
    if (o->command && !o->words)
        return pr_err(err, 0, "--command requires a command after the pod name or --");
    return 0;
}

static bool pod_succeeded(const struct cli_pod_state *st)
{
    return streq(st->phase, "Succeeded");
}

/* What the container wrote, when it ended before the attach (kubectl prints its logs). */
static void print_logs(struct podrun_global *g, const struct run_opts *o)
{
    char *args[] = {(char *)"logs", (char *)"-n", (char *)o->ns, (char *)o->name, NULL};
    _cleanup_error_ pr_error *e = NULL;
    optind = 0;
    fflush(stdout);
    if (cmd_logs(g, 4, args, &e) < 0)
        fprintf(stderr, "error: %s\n", e->msg);
    fflush(stdout);
}

/* run -i: attach to the pod's container once it runs; with --restart=Never or OnFailure wait
 * for the pod to end and exit with its container's code; with --rm delete the pod last, as
 * kubectl's deferred removal does (pod "NAME" deleted). */
static int run_attached(struct podrun_global *g, const struct run_opts *given, pr_error **err)
{
    struct run_opts opts = *given;
    const struct run_opts *o = &opts;
    if (!opts.ns)
        opts.ns = "default";
    struct cli_pod_state st = {0};
    int code = 0;
    int r = cli_wait_pod(g, o->ns, o->name, NULL, cli_pod_attachable, &st, err);
    if (r == 0 && cli_pod_completed(&st)) {
        print_logs(g, o);
    } else if (r == 0) {
        r = cli_attach(g, o->ns, o->name, NULL, o->in, o->tty, o->quiet, &code, err);
        if (r == -ESRCH) { /* it ended between our look and the attach */
            pr_error_freep(err);
            r = 0;
            print_logs(g, o);
        }
    }
    bool never = streq(o->restart, "Never"), on_failure = streq(o->restart, "OnFailure");
    bool wait_code = r == 0 && (never || on_failure);
    if (wait_code)
        r = cli_wait_pod(g, o->ns, o->name, NULL, never ? cli_pod_completed : pod_succeeded, &st,
                         err);
    if (o->rm) {
        struct pods_manager *m = NULL;
        _cleanup_error_ pr_error *e = NULL;
        int d = open_manager(g, true, &m, &e);
        if (d == 0) {
            d = pods_delete(m, "pods", o->ns, o->name, &e);
            pods_manager_close(m);
        }
        if (d == 0)
            fprintf(stderr, "pod \"%s\" deleted\n", o->name);
        else if (r == 0)
            r = pr_err(err, 0, "%s", e->msg);
    }
    if (r < 0 || !wait_code || !streq(st.phase, "Failed")) {
        cli_pod_state_clear(&st);
        return r;
    }
    if (!st.has_exit_code || st.exit_code == 0) {
        r = pr_err(err, 0, "pod %s/%s failed with unknown exit code", o->ns, o->name);
        cli_pod_state_clear(&st);
        return r;
    }
    /* kubectl's CodeExitError: its message, and the container's code as ours. */
    fprintf(stderr, "error: pod %s/%s terminated (%s)\n%s\n", o->ns, o->name,
            st.reason ? st.reason : "Error", st.message ? st.message : "");
    fflush(NULL);
    int rc = st.exit_code;
    cli_pod_state_clear(&st);
    exit(rc & 0xff ? rc & 0xff : 1);
}

int cmd_run(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    struct run_opts o = {0};
    _cleanup_strv_ char **env = NULL, **words = NULL;
    int r = parse(argc, argv, &o, err);
    env = o.env;
    words = o.words;
    if (r < 0)
        return r;
    if (!kube_valid_subdomain(o.name))
        return pr_err(err, 0,
                      "Pod \"%s\" is invalid: metadata.name: Invalid value: \"%s\": a lowercase "
                      "RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                      "'-' or '.', and must start and end with an alphanumeric character",
                      o.name, o.name);
    if (o.dry_run)
        return print_dry_run(&o, err);
    /* The same path as apply: text, decoded and checked as a manifest is. */
    _cleanup_free_ char *text = NULL;
    if ((r = pod_json(&o, false, &text, err)) < 0)
        return r;
    struct kube_docs d = {0};
    struct kube_object *obj = NULL;
    r = kube_parse_manifest(text, strlen(text), "the pod", &d, err);
    if (r == 0 && d.n == 1 &&
        (r = kube_object_decode(steal_pointer(&d.v[0]), "the pod", &obj, err)) == 0)
        r = pods_check_object(obj, err);
    kube_docs_clear(&d);
    struct pods_manager *m = NULL;
    if (r == 0 && (r = open_manager(g, true, &m, err)) == 0) {
        enum pods_apply_result res;
        /* kubectl run makes a pod or fails: an existing one is not "unchanged". */
        struct pods_list l = {0};
        _cleanup_error_ pr_error *e = NULL;
        if (pods_list(m, "pods", obj->meta.namespace_, o.name, &l, &e) == 0)
            r = pr_err_code(err, EEXIST, "pods \"%s\" already exists", o.name);
        pods_list_clear(&l);
        /* Attached, kubectl says nothing of the pod it made. */
        if (r == 0 && (r = pods_apply(m, obj, &res, err)) == 0 && !o.in)
            printf("pod/%s created\n", o.name);
        pods_manager_close(m);
    }
    kube_object_free(obj);
    if (r < 0 || !o.in)
        return r;
    return run_attached(g, &o, err);
}
