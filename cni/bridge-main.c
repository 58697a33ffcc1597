/* SPDX-License-Identifier: Apache-2.0 */
/* podrun-bridge: a thin main over bridge.c. Without CNI_COMMAND, `podrun-bridge sync-routes`
 * reads a network configuration (or a configuration list) on stdin and installs its node
 * routes (see the manual). */
#include "bridge.h"
#include "util.h"

static const cni_plugin plugin = {
    .name = "podrun-bridge",
    .add = bridge_cmd_add,
    .del = bridge_cmd_del,
    .check = bridge_cmd_check,
    .status = bridge_cmd_status,
    .gc = bridge_cmd_gc,
};

static int sync_routes(void)
{
    _cleanup_error_ pr_error *err = NULL;
    _cleanup_free_ char *raw = NULL, *entry = NULL;
    size_t len;
    cni_conf conf = {0};
    int r = cni_read_stdin(&raw, &len, &err);
    if (r == 0 && !(entry = bridge_entry_of_list(raw, &err)))
        r = -EINVAL;
    if (r == 0)
        r = cni_conf_parse(entry, CNI_CMD_ADD, &conf, &err);
    if (r == 0)
        r = bridge_sync_node_routes(&conf, &err);
    cni_conf_free(&conf);
    if (r < 0) {
        fprintf(stderr, "podrun-bridge sync-routes: %s\n", err ? err->msg : "failed");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && streq(argv[1], "sync-routes") && !getenv("CNI_COMMAND"))
        return sync_routes();
    return cni_plugin_main(&plugin, argc, argv);
}
