/* SPDX-License-Identifier: Apache-2.0 */
/* podrun-ipam: a thin main over ipam.c. */
#include "cni.h"
#include "ipam.h"
#include "util.h"

static int emit(const cni_conf *conf, cni_result *res, char **out)
{
    *out = cni_result_json(res, conf->version);
    cni_result_free(res);
    return 0;
}

static int cmd_add(const cni_env *env, const cni_conf *conf, const char *raw, size_t len,
                   char **out, pr_error **err)
{
    (void)raw, (void)len;
    ipam_conf c;
    cni_result res = {0};
    int r = ipam_conf_parse(conf, env->args, &c, err);
    if (r == 0)
        r = ipam_add(&c, env->container_id, env->ifname, env->netns, &res, err);
    ipam_conf_free(&c);
    if (r < 0) {
        cni_result_free(&res);
        return r;
    }
    return emit(conf, &res, out);
}

static int cmd_del(const cni_env *env, const cni_conf *conf, const char *raw, size_t len,
                   char **out, pr_error **err)
{
    (void)raw, (void)len, (void)out;
    ipam_conf c;
    int r = ipam_conf_parse(conf, env->args, &c, err);
    if (r == 0)
        r = ipam_del(&c, env->container_id, env->ifname, err);
    ipam_conf_free(&c);
    return r;
}

static int cmd_check(const cni_env *env, const cni_conf *conf, const char *raw, size_t len,
                     char **out, pr_error **err)
{
    (void)raw, (void)len, (void)out;
    ipam_conf c;
    int r = ipam_conf_parse(conf, env->args, &c, err);
    if (r == 0)
        r = ipam_check(&c, env->container_id, env->ifname, err);
    ipam_conf_free(&c);
    return r;
}

static int cmd_status(const cni_env *env, const cni_conf *conf, const char *raw, size_t len,
                      char **out, pr_error **err)
{
    (void)raw, (void)len, (void)out;
    ipam_conf c;
    int r = ipam_conf_parse(conf, env->args, &c, err);
    if (r == 0)
        r = ipam_status(&c, err);
    ipam_conf_free(&c);
    return r;
}

static int cmd_gc(const cni_env *env, const cni_conf *conf, const char *raw, size_t len, char **out,
                  pr_error **err)
{
    (void)raw, (void)len, (void)out;
    ipam_conf c;
    _cleanup_strv_ char **ids = NULL, **ifnames = NULL;
    int r = cni_valid_attachments(conf, &ids, &ifnames, err);
    if (r < 0)
        return r;
    r = ipam_conf_parse(conf, env->args, &c, err);
    if (r == 0)
        r = ipam_gc(&c, ids, ifnames, err);
    ipam_conf_free(&c);
    return r;
}

static const cni_plugin plugin = {
    .name = "podrun-ipam",
    .add = cmd_add,
    .del = cmd_del,
    .check = cmd_check,
    .status = cmd_status,
    .gc = cmd_gc,
};

int main(int argc, char **argv)
{
    return cni_plugin_main(&plugin, argc, argv);
}
