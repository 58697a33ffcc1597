/* SPDX-License-Identifier: Apache-2.0 */
/* `features`: what this runtime implements, per the runtime-spec's features document. */
#include "caps.h"
#include "commands.h"
#include "config.h"
#include "json.h"
#include "mempolicy.h"
#include "mounts.h"
#include "seccomp.h"
#include "util.h"

void rt_features_generate(yajl_gen g)
{
    static const char *hooks[] = {"prestart",       "createRuntime", "createContainer",
                                  "startContainer", "poststart",     "poststop"};
    jg_map_open(g);
    jg_key_str(g, "ociVersionMin", "1.0.0");
    jg_key_str(g, "ociVersionMax", "1.1.0");
    jg_key(g, "hooks");
    jg_array_open(g);
    for (size_t i = 0; i < ARRAY_SIZE(hooks); i++)
        jg_str(g, hooks[i]);
    jg_array_close(g);
    jg_key(g, "mountOptions");
    rt_mounts_features(g);
    jg_key(g, "linux");
    jg_map_open(g);
    jg_key(g, "namespaces");
    jg_array_open(g);
    for (int k = 0; k < NS_COUNT; k++)
        jg_str(g, rt_namespaces[k].oci_name);
    jg_array_close(g);
    jg_key(g, "capabilities");
    rt_caps_features(g);
    jg_key(g, "cgroup");
    jg_map_open(g);
    jg_key_bool(g, "v1", true);
    jg_key_bool(g, "v2", true);
    jg_key_bool(g, "systemd", true);
    jg_key_bool(g, "systemdUser", false);
    jg_key_bool(g, "rdma", true);
    jg_map_close(g);
    jg_key(g, "seccomp");
    rt_seccomp_features(g);
    jg_key(g, "apparmor");
    jg_map_open(g);
    jg_key_bool(g, "enabled", false);
    jg_map_close(g);
    jg_key(g, "selinux");
    jg_map_open(g);
    jg_key_bool(g, "enabled", false);
    jg_map_close(g);
    jg_key(g, "intelRdt");
    jg_map_open(g);
    jg_key_bool(g, "enabled", false);
    jg_map_close(g);
    jg_key(g, "memoryPolicy");
    rt_mempolicy_features(g);
    jg_key(g, "netDevices");
    jg_map_open(g);
    jg_key_bool(g, "enabled", true);
    jg_map_close(g);
    jg_map_close(g);
    jg_key(g, "annotations");
    jg_map_open(g);
    jg_key_str(g, "org.opencontainers.runtime-spec.features.implementation", "podrun-runtime");
    jg_map_close(g);
    jg_map_close(g);
}
