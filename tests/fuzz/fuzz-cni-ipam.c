/* SPDX-License-Identifier: Apache-2.0 */
/* podrun-ipam's stdin: the network configuration through cni_conf_parse and ipam_conf_parse
 * (ranges, routes, requested IPs, CNI_ARGS), prevResult through cni_result_parse and back out
 * through cni_result_json in every version, and ADD/CHECK/STATUS/GC/DEL against an allocation
 * store in the scratch directory (the configuration's dataDir is replaced by it: an input may
 * name any directory, and the harness must not write outside its own).
 * CNI_ARGS is not on stdin: the harness takes it from a "fuzzCniArgs" string member of the
 * configuration when there is one (the plugin ignores members it does not know). */
#include "cni.h"
#include "fs.h"
#include "fuzz-common.h"
#include "ipam.h"
#include "util.h"

static void exercise_result(const cni_conf *conf)
{
    cni_result res = {0};
    _cleanup_error_ pr_error *err = NULL;
    if (conf->prev_result && cni_result_parse(conf->prev_result, "prevResult", &res, &err) == 0)
        for (size_t i = 0; cni_supported_versions[i]; i++)
            free(cni_result_json(&res, cni_supported_versions[i]));
    cni_result_free(&res);
}

static void exercise_store(ipam_conf *c, const cni_conf *conf)
{
    const char *id = "fuzzctr", *ifname = "eth0";
    _cleanup_free_ char *store = xasprintf("%s/ipam", fuzz_scratch());
    free(c->dir);
    c->dir = xasprintf("%s/%s", store, conf->name);
    cni_result res = {0};
    pr_error *err = NULL;
    if (ipam_add(c, id, ifname, NULL, &res, &err) == 0) {
        free(cni_result_json(&res, conf->version));
        ipam_check(c, id, ifname, NULL);
        ipam_status(c, NULL);
        char *ids[] = {(char *)"other", NULL}, *ifnames[] = {(char *)"eth1", NULL};
        ipam_gc(c, ids, ifnames, NULL);
        ipam_del(c, id, ifname, NULL);
    }
    pr_error_free(err);
    cni_result_free(&res);
    if (rm_rf(store) < 0)
        fuzz_fail("cannot remove `%s`", store);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_free_ char *text = fuzz_str(data, size);
    cni_error_replace_code(0);
    cni_conf conf;
    _cleanup_error_ pr_error *err = NULL;
    if (cni_conf_parse(text, CNI_CMD_ADD, &conf, &err) < 0) {
        if (!err)
            fuzz_fail("cni_conf_parse failed without an error");
        cni_conf_free(&conf);
        return 0;
    }
    exercise_result(&conf);
    _cleanup_strv_ char **ids = NULL, **ifnames = NULL;
    cni_valid_attachments(&conf, &ids, &ifnames, NULL);
    const char *args = NULL;
    json_get_str(conf.root, "fuzzCniArgs", NULL, &args, NULL);
    ipam_conf c;
    if (ipam_conf_parse(&conf, args, &c, &err) == 0)
        exercise_store(&c, &conf);
    ipam_conf_free(&c);
    cni_conf_free(&conf);
    return 0;
}
