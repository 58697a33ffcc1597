/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for cni/: address arithmetic, versions, CNI_ARGS, results in every version, and
 * the IPAM configuration's host-local defaults. */
#include "bridge.h"
#include "cni.h"
#include "ipaddr.h"
#include "ipam.h"
#include "tests/lib/unit.h"
#include "util.h"

static void test_ip_parse_fmt(void)
{
    cni_prefix p;
    char buf[CNI_PREFIX_STRLEN];
    CHECK(cni_prefix_parse("10.1.2.3/24", false, &p));
    CHECK_STR(cni_prefix_fmt(&p, buf), "10.1.2.3/24");
    CHECK(!cni_prefix_parse("10.1.2.3", false, &p));
    CHECK(cni_prefix_parse("10.1.2.3", true, &p) && p.plen == 32);
    CHECK(cni_prefix_parse("fd00::1/64", false, &p) && p.ip.family == AF_INET6);
    CHECK(!cni_prefix_parse("10.1.2.3/33", false, &p));
    CHECK(!cni_prefix_parse("10.1.2.3/", false, &p));
    CHECK(!cni_prefix_parse("nope/8", false, &p));
}

static void test_ip_arith(void)
{
    cni_ip ip;
    char buf[CNI_IP_STRLEN];
    CHECK(cni_ip_parse("10.0.0.255", &ip));
    CHECK(cni_ip_add(&ip, 1));
    CHECK_STR(cni_ip_fmt(&ip, buf), "10.0.1.0");
    CHECK(cni_ip_add(&ip, -2));
    CHECK_STR(cni_ip_fmt(&ip, buf), "10.0.0.254");
    CHECK(cni_ip_parse("255.255.255.255", &ip));
    CHECK(!cni_ip_add(&ip, 1));
    CHECK(cni_ip_parse("fd00::ffff", &ip));
    CHECK(cni_ip_add(&ip, 1));
    CHECK_STR(cni_ip_fmt(&ip, buf), "fd00::1:0");

    cni_prefix p;
    CHECK(cni_prefix_parse("10.9.8.7/21", false, &p));
    cni_ip first = cni_prefix_first(&p), last = cni_prefix_last(&p);
    CHECK_STR(cni_ip_fmt(&first, buf), "10.9.8.0");
    CHECK_STR(cni_ip_fmt(&last, buf), "10.9.15.255");
    CHECK(cni_ip_parse("10.9.15.1", &ip) && cni_prefix_contains(&p, &ip));
    CHECK(cni_ip_parse("10.9.16.1", &ip) && !cni_prefix_contains(&p, &ip));
    cni_prefix q;
    CHECK(cni_prefix_parse("10.9.0.0/16", false, &q) && cni_prefix_overlaps(&p, &q));
    CHECK(cni_prefix_parse("10.10.0.0/16", false, &q) && !cni_prefix_overlaps(&p, &q));
}

static void test_versions(void)
{
    CHECK(cni_version_cmp("0.3.1", "0.4.0") < 0);
    CHECK(cni_version_cmp("1.1.0", "1.0.0") > 0);
    CHECK(cni_version_cmp("1.0.0", "1.0.0") == 0);
    CHECK(cni_version_cmp("0.10.0", "0.9.0") > 0);
    CHECK(cni_version_supported("1.1.0"));
    CHECK(!cni_version_supported("0.2.0"));
    CHECK(!cni_version_supported("1.1"));
}

static void test_args(void)
{
    _cleanup_free_ char *ip =
        cni_args_get("IgnoreUnknown=1;IP=10.0.0.5,fd00::5;K8S_POD_NAME=x", "IP");
    CHECK_STR(ip, "10.0.0.5,fd00::5");
    _cleanup_free_ char *none = cni_args_get("IPX=1;XIP=2", "IP");
    CHECK(none == NULL);
    CHECK(cni_valid_container_id("abc-1.2_3"));
    CHECK(!cni_valid_container_id("a/b"));
    CHECK(!cni_valid_container_id("-a"));
    CHECK(cni_valid_ifname("eth0"));
    CHECK(!cni_valid_ifname("0123456789abcdef"));
    CHECK(!cni_valid_ifname("a b"));
    char id[CNI_CONTAINER_ID_MAX + 2];
    memset(id, 'a', sizeof(id) - 1), id[sizeof(id) - 1] = '\0';
    CHECK(!cni_valid_container_id(id));
    id[CNI_CONTAINER_ID_MAX] = '\0';
    CHECK(cni_valid_container_id(id));
    static const char *bad_ifnames[] = {"x%y",
                                        "eth%d",
                                        "a/b",
                                        "a:b",
                                        "a\tb",
                                        "a\nb",
                                        ".",
                                        "..",
                                        "a\x01"
                                        "b",
                                        "a\xc2\xa0"
                                        "b",
                                        ""};
    for (size_t i = 0; i < ARRAY_SIZE(bad_ifnames); i++)
        CHECK(!cni_valid_ifname(bad_ifnames[i]));
    CHECK(cni_valid_ifname("0123456789abcde") && cni_valid_ifname("e.t-h_1"));
}

static void test_result_versions(void)
{
    cni_result r = {0};
    cni_result_add_iface(&r, "eth0", "aa:bb:cc:dd:ee:ff", "/run/netns/x");
    cni_ipconf ip = {.iface = 0};
    cni_prefix_parse("10.0.0.2/24", false, &ip.addr);
    cni_ip_parse("10.0.0.1", &ip.gw);
    cni_result_add_ip(&r, &ip);
    _cleanup_free_ char *v1 = cni_result_json(&r, "1.0.0");
    _cleanup_free_ char *v03 = cni_result_json(&r, "0.3.1");
    CHECK(strstr(v1, "\"version\"") == NULL);
    CHECK(strstr(v03, "\"version\":\"4\"") != NULL);
    CHECK(strstr(v1, "\"cniVersion\":\"1.0.0\"") != NULL);

    /* Round trip through the parser, including a 0.3.1 result. */
    _cleanup_json_ yajl_val v = NULL;
    _cleanup_error_ pr_error *err = NULL;
    CHECK(json_parse(v03, "r", &v, &err) == 0);
    cni_result back = {0};
    CHECK(cni_result_parse(v, "r", &back, &err) == 0);
    CHECK(back.n_ips == 1 && back.ips[0].iface == 0 && back.ips[0].addr.plen == 24);
    CHECK(back.n_ifaces == 1);
    CHECK_STR(back.ifaces[0].sandbox, "/run/netns/x");
    cni_result_free(&back);
    cni_result_free(&r);
}

static void test_bad_interface_index(void)
{
    _cleanup_json_ yajl_val v = NULL;
    _cleanup_error_ pr_error *err = NULL;
    CHECK(json_parse("{\"ips\":[{\"address\":\"10.0.0.2/24\",\"interface\":3}]}", "r", &v, &err) ==
          0);
    cni_result r = {0};
    CHECK(cni_result_parse(v, "r", &r, &err) < 0);
    cni_result_free(&r);
}

static void test_conf_errors(void)
{
    cni_conf c;
    _cleanup_error_ pr_error *e1 = NULL;
    CHECK(cni_conf_parse("{\"cniVersion\":\"1.0.0\",\"name\":\"bad name\"}", CNI_CMD_ADD, &c, &e1) <
          0);
    cni_conf_free(&c);
    _cleanup_error_ pr_error *e2 = NULL;
    CHECK(cni_conf_parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\"}", CNI_CMD_GC, &c, &e2) < 0);
    CHECK(e2 && strstr(e2->msg, "GC"));
    cni_conf_free(&c);
    _cleanup_error_ pr_error *e3 = NULL;
    CHECK(cni_conf_parse("{\"cniVersion\":\"1.1.0\",\"name\":\"n\"}", CNI_CMD_GC, &c, &e3) == 0);
    cni_conf_free(&c);
}

static void test_ipam_defaults(void)
{
    cni_conf c;
    _cleanup_error_ pr_error *err = NULL;
    CHECK(cni_conf_parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"ipam\":{\"subnet\":"
                         "\"10.3.0.0/16\"},\"runtimeConfig\":{\"ips\":[\"10.3.0.9/16\"]}}",
                         CNI_CMD_ADD, &c, &err) == 0);
    ipam_conf ic;
    CHECK(ipam_conf_parse(&c, "IP=10.3.0.10", &ic, &err) == 0);
    char buf[CNI_IP_STRLEN];
    CHECK(ic.n_sets == 1 && ic.sets[0].n == 1);
    CHECK_STR(cni_ip_fmt(&ic.sets[0].ranges[0].start, buf), "10.3.0.1");
    CHECK_STR(cni_ip_fmt(&ic.sets[0].ranges[0].end, buf), "10.3.255.254");
    CHECK_STR(cni_ip_fmt(&ic.sets[0].ranges[0].gw, buf), "10.3.0.1");
    CHECK(ic.n_requested == 2);
    CHECK_STR(ic.dir, "/var/lib/cni/podrun/n");
    ipam_conf_free(&ic);
    cni_conf_free(&c);
}

static void test_veth_names(void)
{
    char a[16], b[16], c[16];
    bridge_host_veth_name("net", "ab", "c", a);
    bridge_host_veth_name("net", "a", "bc", b);
    bridge_host_veth_name("net", "ab", "c", c);
    CHECK(strlen(a) == 15 && has_prefix(a, "prv"));
    CHECK(strcmp(a, b) != 0);
    CHECK_STR(a, c);
}

int main(void)
{
    RUN(test_ip_parse_fmt);
    RUN(test_ip_arith);
    RUN(test_versions);
    RUN(test_args);
    RUN(test_result_versions);
    RUN(test_bad_interface_index);
    RUN(test_conf_errors);
    RUN(test_ipam_defaults);
    RUN(test_veth_names);
    UNIT_DONE();
}
