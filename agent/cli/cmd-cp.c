/* SPDX-License-Identifier: Apache-2.0 */
#include "commands.h"
#include <errno.h>
int cmd_cp(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    (void)g; (void)argc; (void)argv;
    return pr_err(err, ENOTSUP, "cp");
}
