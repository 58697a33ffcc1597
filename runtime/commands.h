/* SPDX-License-Identifier: Apache-2.0 */
/* The command-line layer: one function per runc command, and the option parser they share. */
#ifndef RT_COMMANDS_H
#define RT_COMMANDS_H

#include "container.h"
#include "error.h"

#include <stdbool.h>
#include <yajl/yajl_gen.h>

enum { OPT_NONE = 0, OPT_ARG = 1 };

struct opt_def {
    const char *name; /* long name, used as --name, -name, --name=VALUE */
    char short_name;  /* 0 if none */
    int has_arg;
    int key;
};

/* Calls on_opt for each option until the first non-option argument (or "--"); *first_arg
 * receives its index. Options may be spelled -x, --long, -long, --long=value. */
int parse_opts(int argc, char **argv, const struct opt_def *defs,
               int (*on_opt)(int key, const char *value, void *data), void *data, int *first_arg,
               pr_error **err);
int parse_int_arg(const char *flag, const char *s, long long min, long long max, long long *out,
                  pr_error **err);

/* Each returns the process exit status (>= 0) or a negative errno with err set. */
int cmd_create(struct rt_global *g, int argc, char **argv, pr_error **err);
int cmd_run(struct rt_global *g, int argc, char **argv, pr_error **err);
int cmd_start(struct rt_global *g, int argc, char **argv, pr_error **err);
int cmd_delete(struct rt_global *g, int argc, char **argv, pr_error **err);
int cmd_kill(struct rt_global *g, int argc, char **argv, pr_error **err);
int cmd_pause(struct rt_global *g, int argc, char **argv, pr_error **err);
int cmd_resume(struct rt_global *g, int argc, char **argv, pr_error **err);
int cmd_state(struct rt_global *g, int argc, char **argv, pr_error **err);
int cmd_list(struct rt_global *g, int argc, char **argv, pr_error **err);
int cmd_ps(struct rt_global *g, int argc, char **argv, pr_error **err);
int cmd_events(struct rt_global *g, int argc, char **argv, pr_error **err);
int cmd_features(struct rt_global *g, int argc, char **argv, pr_error **err);
int cmd_spec(struct rt_global *g, int argc, char **argv, pr_error **err);
int cmd_exec(struct rt_global *g, int argc, char **argv, pr_error **err);
int cmd_update(struct rt_global *g, int argc, char **argv, pr_error **err);

/* In the library: the default config.json of `spec`, and the `features` document. */
void rt_spec_generate(yajl_gen g, bool rootless);
void rt_features_generate(yajl_gen g);

#endif
