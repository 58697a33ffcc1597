/* SPDX-License-Identifier: Apache-2.0 */
/* The podrun CLI's commands: each parses its own arguments and returns 0 or a negative errno
 * with *err filled; main() prints errors. One file per family (cmd-images.c, ...). */
#ifndef PODRUN_AGENT_COMMANDS_H
#define PODRUN_AGENT_COMMANDS_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct podrun_global {
    const char *images_root; /* --images-root / $PODRUN_IMAGES_ROOT; NULL: the default */
    /* The pod manager's roots and helpers: --run-root ($PODRUN_RUN_ROOT), --lib-root,
     * --log-root, --cni-conf-dir, --cni-bin-dir, --ipam-data-dir, --runtime, --shim; NULL: the
     * environment, then the defaults. */
    const char *run_root, *lib_root, *log_root, *cni_conf_dir, *cni_bin_dir, *ipam_data_dir;
    const char *cluster_dns, *cluster_domain, *resolv_conf; /* the kubelet's DNS settings */
    const char *runtime, *shim;
    /* The node: --node-config ($PODRUN_NODE_CONFIG), --node-name, --cgroup-root. */
    const char *node_config, *node_name, *cgroup_root;
    /* Services: --service-cluster-ip-range ($PODRUN_SERVICE_CIDR), --service-node-port-range
     * ($PODRUN_SERVICE_NODE_PORT_RANGE). */
    const char *service_cidr, *node_port_range;
    bool debug;
};

typedef int (*podrun_cmd_fn)(struct podrun_global *g, int argc, char **argv, pr_error **err);

/* main.c: the verbs (summary NULL: hidden from `podrun --help`). */
struct podrun_verb {
    const char *name;
    podrun_cmd_fn fn;
    const char *summary; /* the line in `podrun --help` */
    const char *help;    /* `podrun VERB --help` (help.c) */
};
const struct podrun_verb *podrun_verbs(size_t *n);

/* globals.c: podrun's global options, parsed up to the command (0; 'h' --help, 'v' --version,
 * '?' a bad one) and written back as arguments for a program podrun execs with them. */
int cli_globals_parse(int argc, char **argv, struct podrun_global *g);
void cli_globals_argv(const struct podrun_global *g, char ***argv);
/* The directory of the running binary, and NAME in it when it is there (an executable). */
char *cli_exe_dir(void);
char *cli_sibling(const char *name);

/* args.c: getopt_long with kubectl's flag errors: '?' for a bad flag, whose text
 * cli_bad_flag() then returns ("unknown flag: --x"); main prints it as kubectl does. */
struct option;
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);
const char *cli_bad_flag(void);
/* "KIND [NAME...]" or "KIND/NAME..." (argv after the flags): the resource ("pods", ...) and the
 * names (NULL: none), with kubectl's errors; verb names the command in them. */
int cli_resource_args(int argc, char **argv, const char *verb, const char **resource, char ***names,
                      pr_error **err);

/* Moves from's entries to the end of to (from is left empty). */
struct pods_list;
void cli_list_move(struct pods_list *to, struct pods_list *from);

/* help.c: each verb's --help text, and the flags its Options list (a flag that takes a value
 * ends with '='), for completion. */
extern const char help_apply[], help_delete[], help_get[], help_describe[], help_logs[],
    help_exec[], help_run[], help_cp[], help_completion[], help_images[], help_image[], help_load[],
    help_pull[], help_rmi[], help_save[], help_tag[], help_top[], help_serve[], help_expose[],
    help_create[], help_scale[], help_rollout[], help_attach[];
extern const char help_set[];
char **cli_help_flags(const char *help);

/* cmd-images.c */
int cmd_images(struct podrun_global *g, int argc, char **argv, pr_error **err);
int cmd_image(struct podrun_global *g, int argc, char **argv, pr_error **err);
int cmd_load(struct podrun_global *g, int argc, char **argv, pr_error **err);
int cmd_pull(struct podrun_global *g, int argc, char **argv, pr_error **err);
int cmd_rmi(struct podrun_global *g, int argc, char **argv, pr_error **err);
int cmd_save(struct podrun_global *g, int argc, char **argv, pr_error **err);
int cmd_tag(struct podrun_global *g, int argc, char **argv, pr_error **err);

/* cmd-pods.c */
int cmd_apply(struct podrun_global *g, int argc, char **argv, pr_error **err);
int cmd_delete(struct podrun_global *g, int argc, char **argv, pr_error **err);
/* manager.c: the pod manager opened on g's roots (defaults filled in: helpers next to this binary);
 * exclusive for commands that change pods, shared for those that read. */
struct pods_manager;
int open_manager(struct podrun_global *g, bool exclusive, struct pods_manager **m, pr_error **err);
/* The same without the lock (pods_manager_open_unlocked): get -w's listings after the first. */
int open_manager_unlocked(struct podrun_global *g, struct pods_manager **m, pr_error **err);

/* cmd-get.c */
int cmd_get(struct podrun_global *g, int argc, char **argv, pr_error **err);

/* cmd-logs.c */
int cmd_logs(struct podrun_global *g, int argc, char **argv, pr_error **err);

/* cmd-describe.c */
int cmd_describe(struct podrun_global *g, int argc, char **argv, pr_error **err);
/* describe-ingress.c: describe ingress (closes m) */
int describe_ingresses(struct pods_manager *m, const char *ns, const char *name, pr_error **err);

/* cmd-node.c: get nodes, describe node */
int get_nodes(struct podrun_global *g, const char *name, const char *selector, const char *out,
              pr_error **err);
int describe_node(struct podrun_global *g, const char *name, pr_error **err);

/* cmd-expose.c: expose pod NAME as a Service. */
int cmd_expose(struct podrun_global *g, int argc, char **argv, pr_error **err);

/* cmd-top.c */
int cmd_top(struct podrun_global *g, int argc, char **argv, pr_error **err);

/* cmd-exec.c: replaces podrun with the runtime's exec (exits with the command's status). */
int cmd_exec(struct podrun_global *g, int argc, char **argv, pr_error **err);

/* serve-args.c: podrun serve's options, read by podrun (the controller loop, or exec of
 * podrun-cri) and by podrun-cri (the CRI server). */
struct serve_args {
    const char *listen, *stream_address;
    uint64_t stream_idle_usec; /* 0: the streaming server's default */
    bool controllers_only, controllers_pass, help;
    int systemd_cgroup; /* --cgroup-driver: 1 systemd, 0 cgroupfs, -1 not given */
};
int serve_args_parse(int argc, char **argv, struct serve_args *a, pr_error **err);
void serve_usage(FILE *f);

/* controllers.c: the controller loop (serve --controllers-only) until no workload is left or
 * SIGTERM; and its start, detached, when none runs on the node. */
int controllers_run(struct podrun_global *g, pr_error **err);
/* One pass of the loop, for podrun-loop: prints "WORKLOADS WAKE_AT" (1|0, epoch seconds|0). */
int controllers_pass(struct podrun_global *g, pr_error **err);
int controllers_ensure(struct podrun_global *g, pr_error **err);
/* After a change to workloads: one reconcile with m, which it closes, then the loop ensured. */
int controllers_kick(struct podrun_global *g, struct pods_manager *m, pr_error **err);

/* cmd-batch.c: create job|cronjob (argv[0] the kind), autoscale */
extern const char help_autoscale[];
int cmd_create_batch(struct podrun_global *g, int argc, char **argv, pr_error **err);
int cmd_autoscale(struct podrun_global *g, int argc, char **argv, pr_error **err);
/* cmd-describe-batch.c: describe jobs, cronjobs, horizontalpodautoscalers */
int describe_batch(struct podrun_global *g, const char *resource, const char *ns, char **names,
                   pr_error **err);

/* cmd-workloads.c: create deployment, scale */
int cmd_create(struct podrun_global *g, int argc, char **argv, pr_error **err);
int cmd_scale(struct podrun_global *g, int argc, char **argv, pr_error **err);
int cmd_rollout(struct podrun_global *g, int argc, char **argv, pr_error **err);
/* rollout history|undo|restart|pause|resume (cmd-rollout.c); argv[0] is the verb. */
int rollout_edit(struct podrun_global *g, int argc, char **argv, pr_error **err);
int cmd_set(struct podrun_global *g, int argc, char **argv, pr_error **err);
/* describe's "Pod Template:" section (cmd-describe.c). */
struct yajl_val_s;
void print_template(struct yajl_val_s *tpl);
/* describe's "key=value" lines of a map after a label of width (cmd-describe.c). */
void describe_map(const char *label, int width, struct yajl_val_s *m);
/* describe replicaset (describe-rs.c): one, or all of ns (name NULL). */
int describe_replicasets(struct podrun_global *g, const char *ns, const char *name, pr_error **err);

/* cmd-serve.c: the CRI server until SIGTERM. */
int cmd_serve(struct podrun_global *g, int argc, char **argv, pr_error **err);

/* cmd-run.c */
int cmd_run(struct podrun_global *g, int argc, char **argv, pr_error **err);

/* cmd-cp.c */
int cmd_cp(struct podrun_global *g, int argc, char **argv, pr_error **err);

/* cmd-attach.c: a container's own stdio through its shim (common/attach.h). */
int cmd_attach(struct podrun_global *g, int argc, char **argv, pr_error **err);
struct cli_pod_state {
    char *phase;                             /* the pod's: Pending, Running, Succeeded, Failed */
    bool running, terminated, has_exit_code; /* the container's */
    int exit_code;
    char *reason, *message;
    char *restart_policy; /* the pod's */
};
/* The pod's phase and its container ctr's state (NULL: the first container). */
int cli_pod_state(struct podrun_global *g, const char *ns, const char *pod, const char *ctr,
                  struct cli_pod_state *st, pr_error **err);
void cli_pod_state_clear(struct cli_pod_state *st);
bool cli_pod_completed(const struct cli_pod_state *st);
/* The container runs, or the pod has ended (nothing more to wait for). */
bool cli_pod_attachable(const struct cli_pod_state *st);
/* Polls the state until done says so (kubectl's --pod-running-timeout, 1 minute). */
int cli_wait_pod(struct podrun_global *g, const char *ns, const char *pod, const char *ctr,
                 bool (*done)(const struct cli_pod_state *), struct cli_pod_state *st,
                 pr_error **err);
/* One attach session until the container exits (*code: its exit code); -ESRCH when it is not
 * running. in: our stdin goes to it; tty: a raw terminal when stdin is one. */
int cli_attach(struct podrun_global *g, const char *ns, const char *pod, const char *container,
               bool in, bool tty, bool quiet, int *code, pr_error **err);

/* create.c: what the imperative create verbs share. The generated JSON of g as a tree (what
 * names it in a parse error). */
struct yajl_gen_t;
int cli_gen_tree(struct yajl_gen_t *g, const char *what, struct yajl_val_s **out, pr_error **err);
/* An object a verb made, to create as kubectl does. */
struct cli_new_object {
    struct yajl_val_s *tree; /* taken */
    const char *where;       /* names it in a decoding error: "create deployment" */
    const char *resource;    /* "deployments" */
    const char *what;        /* "deployment.apps", as printed: "deployment.apps/NAME created" */
    const char *ns, *name;
    const char *verb; /* "created" */
};
/* Decodes and checks it, refuses one of the name that exists ("deployments.apps \"x\" already
 * exists"), applies it, prints what it did, and starts the controller loop. */
int cli_create_object(struct podrun_global *g, const struct cli_new_object *n, pr_error **err);
/* KIND NAME or KIND/NAME (argv after the flags): -EINVAL when it is neither; kind is allocated,
 * name points into argv. */
int cli_kind_name(int argc, char **argv, char **kind, const char **name);

/* cmd-completion.c */
int cmd_completion(struct podrun_global *g, int argc, char **argv, pr_error **err);
int cmd_complete(struct podrun_global *g, int argc, char **argv, pr_error **err);

#endif
