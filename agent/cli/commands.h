/* SPDX-License-Identifier: Apache-2.0 */
/* The podrun CLI's commands: each parses its own arguments and returns 0 or a negative errno
 * with *err filled; main() prints errors. One file per family (cmd-images.c, ...). */
#ifndef PODRUN_AGENT_COMMANDS_H
#define PODRUN_AGENT_COMMANDS_H

#include "error.h"

#include <stdbool.h>

struct podrun_global {
    const char *images_root; /* --images-root / $PODRUN_IMAGES_ROOT; NULL: the default */
    bool debug;
};

typedef int (*podrun_cmd_fn)(struct podrun_global *g, int argc, char **argv, pr_error **err);

/* cmd-images.c */
int cmd_images(struct podrun_global *g, int argc, char **argv, pr_error **err);
int cmd_image(struct podrun_global *g, int argc, char **argv, pr_error **err);
int cmd_load(struct podrun_global *g, int argc, char **argv, pr_error **err);
int cmd_pull(struct podrun_global *g, int argc, char **argv, pr_error **err);
int cmd_rmi(struct podrun_global *g, int argc, char **argv, pr_error **err);
int cmd_save(struct podrun_global *g, int argc, char **argv, pr_error **err);
int cmd_tag(struct podrun_global *g, int argc, char **argv, pr_error **err);

#endif
