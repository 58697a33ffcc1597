/* SPDX-License-Identifier: Apache-2.0 */
/* podrun-bridge's stdin: the network configuration through cni_conf_parse and the plugin's
 * STATUS command (bridge_cmd_status), which parses the whole bridge configuration (bridge name,
 * mtu, vlan, clusterCIDR, nodes) and then looks for the IPAM plugin in CNI_PATH: here an empty
 * directory of the scratch directory, so no plugin is ever run and no link is touched.
 * prevResult and dns go through cni_result_parse / cni_dns_parse as ADD and CHECK take them. */
#include "bridge.h"
#include "cni.h"
#include "fuzz-common.h"
#include "util.h"

#include <sys/stat.h>

static char *cni_path;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cni_path) {
        cni_path = xasprintf("%s/cni-bin", fuzz_scratch());
        if (mkdir(cni_path, 0700) < 0)
            fuzz_fail("mkdir `%s`: %m", cni_path);
    }
    _cleanup_free_ char *text = fuzz_str(data, size);
    cni_error_replace_code(0);
    cni_conf conf;
    _cleanup_error_ pr_error *err = NULL;
    /* STATUS needs cniVersion 1.1.0; older configurations still reach the parser as ADD. */
    if (cni_conf_parse(text, CNI_CMD_STATUS, &conf, &err) < 0) {
        cni_conf_free(&conf);
        if (cni_conf_parse(text, CNI_CMD_ADD, &conf, NULL) < 0) {
            cni_conf_free(&conf);
            return 0;
        }
    }
    cni_env env = {.cmd = CNI_CMD_STATUS,
                   .command = "STATUS",
                   .container_id = "fuzzctr",
                   .ifname = "eth0",
                   .path = cni_path};
    char *out = NULL;
    pr_error *serr = NULL;
    if (bridge_cmd_status(&env, &conf, text, size, &out, &serr) < 0 && !serr)
        fuzz_fail("bridge_cmd_status failed without an error");
    pr_error_free(serr);
    free(out);

    cni_result res = {0};
    if (conf.prev_result && cni_result_parse(conf.prev_result, "prevResult", &res, NULL) == 0)
        free(cni_result_json(&res, conf.version));
    cni_result_free(&res);
    cni_dns dns = {0};
    cni_dns_parse(conf.dns, "network configuration", &dns, NULL);
    cni_dns_free(&dns);
    char hname[16];
    bridge_host_veth_name(conf.name ? conf.name : "", "fuzzctr", "eth0", hname);
    cni_conf_free(&conf);
    return 0;
}
