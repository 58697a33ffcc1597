/* SPDX-License-Identifier: Apache-2.0 */
/* podrun completion bash: a script that asks podrun itself what to offer (the hidden verb
 * __complete, as cobra's scripts do): verbs, resource kinds, each verb's flags (from its --help
 * Options), flag values, and names from the state (pods, configmaps, namespaces ...). */
#include "commands.h"
#include "json.h"
#include "pods/pods.h"
#include "util.h"

static const char bash_script[] =
    "# SPDX-License-Identifier: Apache-2.0\n"
    "# bash completion for podrun: source <(podrun completion bash)\n"
    "_podrun() {\n"
    "    local cur=${COMP_WORDS[COMP_CWORD]}\n"
    "    local IFS=$'\\n'\n"
    "    local words\n"
    "    words=$(\"${COMP_WORDS[0]}\" __complete \"${COMP_WORDS[@]:1:COMP_CWORD-1}\" 2>/dev/null)\n"
    "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
    "}\n"
    "complete -o default -F _podrun podrun\n";

int cmd_completion(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    (void)g;
    if (argc != 2)
        return pr_err(err, 0, "Shell not specified.\nUsage: podrun completion SHELL (bash)");
    if (!streq(argv[1], "bash"))
        return pr_err(err, 0, "Unsupported shell type \"%s\".", argv[1]);
    fputs(bash_script, stdout);
    return 0;
}

/* ---- __complete WORDS... (the words before the one being completed) ---- */

/* podrun's own options before the verb, those that take a value. */
static const char *const global_with_value[] = {"--images-root",
                                                "--root",
                                                "--run-root",
                                                "--lib-root",
                                                "--log-root",
                                                "--cni-conf-dir",
                                                "--cni-bin-dir",
                                                "--ipam-data-dir",
                                                "--runtime",
                                                "--shim",
                                                "--cluster-dns",
                                                "--cluster-domain",
                                                "--resolv-conf",
                                                "--node-config",
                                                "--node-name",
                                                "--cgroup-root",
                                                "--service-cluster-ip-range",
                                                "--service-node-port-range",
                                                NULL};

static const char *const global_flags[] = {"--images-root",
                                           "--run-root",
                                           "--lib-root",
                                           "--log-root",
                                           "--cni-conf-dir",
                                           "--cni-bin-dir",
                                           "--ipam-data-dir",
                                           "--runtime",
                                           "--shim",
                                           "--cluster-dns",
                                           "--cluster-domain",
                                           "--resolv-conf",
                                           "--node-config",
                                           "--node-name",
                                           "--cgroup-root",
                                           "--service-cluster-ip-range",
                                           "--service-node-port-range",
                                           "--debug",
                                           "--help",
                                           "--version",
                                           NULL};

static bool in(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (streq(*list, s))
            return true;
    return false;
}

/* Sets g's root for a global option that names one (so names come from the same state). */
static void set_global(struct podrun_global *g, const char *opt, const char *v)
{
    const char *const names[] = {"--images-root",
                                 "--root",
                                 "--run-root",
                                 "--lib-root",
                                 "--log-root",
                                 "--cni-conf-dir",
                                 "--cni-bin-dir",
                                 "--ipam-data-dir",
                                 "--runtime",
                                 "--shim",
                                 "--cluster-dns",
                                 "--cluster-domain",
                                 "--resolv-conf",
                                 "--node-config",
                                 "--node-name",
                                 "--cgroup-root",
                                 "--service-cluster-ip-range",
                                 "--service-node-port-range"};
    const char **fields[] = {
        &g->images_root,  &g->images_root,    &g->run_root,       &g->lib_root,    &g->log_root,
        &g->cni_conf_dir, &g->cni_bin_dir,    &g->ipam_data_dir,  &g->runtime,     &g->shim,
        &g->cluster_dns,  &g->cluster_domain, &g->resolv_conf,    &g->node_config, &g->node_name,
        &g->cgroup_root,  &g->service_cidr,   &g->node_port_range};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if (streq(names[i], opt))
            *fields[i] = v;
}

static void print_names(struct podrun_global *g, const char *resource, const char *ns)
{
    struct pods_manager *m = NULL;
    _cleanup_error_ pr_error *e = NULL;
    if (open_manager(g, false, &m, &e) < 0)
        return;
    struct pods_list l = {0};
    if (pods_list(m, resource, ns, NULL, &l, &e) == 0)
        for (size_t i = 0; i < l.n; i++)
            printf("%s\n", l.v[i].name);
    pods_list_clear(&l);
    pods_manager_close(m);
}

/* Whether flag (as typed: "-n", "--namespace", "--namespace=x") takes a value, by the verb's
 * help. */
static bool takes_value(char *const *flags, const char *flag)
{
    if (strchr(flag, '='))
        return false;
    for (size_t i = 0; flags && flags[i]; i++) {
        size_t n = strlen(flags[i]);
        bool value = n && flags[i][n - 1] == '=';
        if (strncmp(flags[i], flag, n - value) == 0 && strlen(flag) == n - value)
            return value;
    }
    return false;
}

static void print_flags(char *const *flags)
{
    for (size_t i = 0; flags && flags[i]; i++) {
        size_t n = strlen(flags[i]);
        if (flags[i][0] == '-' && flags[i][1] == '-')
            printf("%.*s\n", (int)(n - (flags[i][n - 1] == '=')), flags[i]);
    }
}

/* The containers of pod (for -c), when the line names it before the flag. */
static void print_containers(struct podrun_global *g, const char *ns, const char *pod)
{
    struct pods_manager *m = NULL;
    _cleanup_error_ pr_error *e = NULL;
    if (!pod || open_manager(g, false, &m, &e) < 0)
        return;
    struct pods_list l = {0};
    if (pods_list(m, "pods", ns, pod, &l, &e) == 0 && l.n) {
        yajl_val spec = json_get(l.v[0].object, "spec");
        const char *lists[] = {"initContainers", "containers"};
        for (size_t k = 0; k < ARRAY_SIZE(lists); k++) {
            yajl_val cs = json_get(spec, lists[k]);
            for (size_t i = 0; i < json_array_len(cs); i++) {
                const char *n = YAJL_GET_STRING(json_get(json_array_at(cs, i), "name"));
                if (n)
                    printf("%s\n", n);
            }
        }
    }
    pods_list_clear(&l);
    pods_manager_close(m);
}

static void complete_value(struct podrun_global *g, const char *flag, const char *ns,
                           const char *pod)
{
    if (streq(flag, "-n") || streq(flag, "--namespace"))
        print_names(g, "namespaces", NULL);
    else if (streq(flag, "-o") || streq(flag, "--output"))
        printf("json\nyaml\nname\nwide\n");
    else if (streq(flag, "--restart"))
        printf("Always\nOnFailure\nNever\n");
    else if (streq(flag, "--dry-run"))
        printf("none\nclient\n");
    else if (streq(flag, "-c") || streq(flag, "--container"))
        print_containers(g, ns, pod);
}

/* The pod the words so far name, for the verbs that take one (cp: the POD of POD:PATH). */
static const char *pod_named(const char *verb, char **pos)
{
    static char buf[256];
    for (size_t i = 0; pos && pos[i]; i++) {
        if (streq(verb, "logs") || streq(verb, "exec") || streq(verb, "attach"))
            return i == 0 ? pos[0] : NULL;
        if (!streq(verb, "cp"))
            continue;
        /* bash splits words at ':' (COMP_WORDBREAKS): "box", ":", "/path". */
        if (pos[i + 1] && streq(pos[i + 1], ":")) {
            const char *slash = strrchr(pos[i], '/');
            return slash ? slash + 1 : pos[i];
        }
        const char *colon = strchr(pos[i], ':');
        if (colon && (size_t)(colon - pos[i]) < sizeof(buf)) {
            const char *slash = memchr(pos[i], '/', (size_t)(colon - pos[i]));
            const char *start = slash ? slash + 1 : pos[i];
            snprintf(buf, sizeof(buf), "%.*s", (int)(colon - start), start);
            return buf;
        }
    }
    return NULL;
}

static const char *const kinds[] = {"pods",
                                    "deployments",
                                    "replicasets",
                                    "statefulsets",
                                    "daemonsets",
                                    "services",
                                    "endpoints",
                                    "endpointslices",
                                    "ingresses",
                                    "ingressclasses",
                                    "configmaps",
                                    "secrets",
                                    "persistentvolumeclaims",
                                    "persistentvolumes",
                                    "namespaces",
                                    "nodes",
                                    "events",
                                    "jobs",
                                    "cronjobs",
                                    "horizontalpodautoscalers",
                                    NULL};

/* Verbs whose first words are a subverb and a kind, then a name of that kind: rollout status
 * deployment NAME, set image deployment NAME, scale deployment NAME, create deployment ... */
static void complete_subverb(struct podrun_global *g, const char *verb, char **pos, size_t npos,
                             const char *ns)
{
    static const struct {
        const char *verb, *subverbs, *kinds;
    } table[] = {
        {"rollout", "status history undo restart pause resume", "deployment"},
        {"set", "image", "deployment"},
        {"create", NULL, "deployment job cronjob"},
        {"scale", NULL, "deployment statefulset replicaset"},
        {"autoscale", NULL, "deployment replicaset"},
        {"expose", NULL, "deployment pod"},
    };
    for (size_t t = 0; t < ARRAY_SIZE(table); t++) {
        if (!streq(table[t].verb, verb))
            continue;
        size_t kind_at = table[t].subverbs ? 1 : 0;
        const char *words = npos < kind_at    ? table[t].subverbs
                            : npos == kind_at ? table[t].kinds
                                              : NULL;
        if (words) {
            for (const char *c = words; *c; c++)
                putchar(*c == ' ' ? '\n' : *c);
            putchar('\n');
            return;
        }
        /* create makes a new name: nothing to offer. */
        const char *resource = pods_resource_name(pos[kind_at]);
        if (npos == kind_at + 1 && resource && !streq(verb, "create"))
            print_names(g, resource, ns);
        return;
    }
}

int cmd_complete(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    (void)err;
    int i = 1;
    /* podrun's options, then the verb. */
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (in(global_with_value, argv[i]) && i + 1 < argc) {
            set_global(g, argv[i], argv[i + 1]);
            i++;
        }
    }
    if (i >= argc) {
        size_t n;
        const struct podrun_verb *v = podrun_verbs(&n);
        for (size_t k = 0; k < n; k++)
            if (v[k].summary)
                printf("%s\n", v[k].name);
        for (const char *const *f = global_flags; *f; f++)
            printf("%s\n", *f);
        return 0;
    }
    const char *verb = argv[i++];
    size_t n;
    const struct podrun_verb *verbs = podrun_verbs(&n), *v = NULL;
    for (size_t k = 0; k < n; k++)
        if (streq(verbs[k].name, verb))
            v = &verbs[k];
    if (!v || !v->help)
        return 0;
    _cleanup_strv_ char **flags = cli_help_flags(v->help);
    const char *ns = "default";
    _cleanup_strv_ char **pos = NULL;
    for (; i < argc; i++) {
        if (streq(argv[i], "--"))
            return 0; /* a command's own words: the shell's files */
        if (argv[i][0] == '-' && argv[i][1]) {
            if (!takes_value(flags, argv[i]))
                continue;
            if (i + 1 == argc) {
                complete_value(g, argv[i], ns, pod_named(verb, pos));
                return 0;
            }
            if (streq(argv[i], "-n") || streq(argv[i], "--namespace"))
                ns = argv[i + 1];
            i++;
            continue;
        }
        strv_extend(&pos, argv[i]);
    }
    print_flags(flags);
    size_t npos = pos ? strv_length(pos) : 0;
    if (streq(verb, "get") || streq(verb, "describe") || streq(verb, "delete")) {
        if (npos == 0) {
            for (const char *const *k = kinds; *k; k++)
                printf("%s\n", *k);
            return 0;
        }
        const char *resource = pods_resource_name(pos[0]);
        if (resource)
            print_names(g, resource, ns);
    } else if (streq(verb, "logs") || streq(verb, "exec") || streq(verb, "attach")) {
        if (npos == 0)
            print_names(g, "pods", ns);
    } else if (streq(verb, "cp")) {
        if (npos < 2)
            print_names(g, "pods", ns);
    } else if (streq(verb, "completion")) {
        if (npos == 0)
            printf("bash\n");
    } else {
        complete_subverb(g, verb, pos, npos, ns);
    }
    return 0;
}
