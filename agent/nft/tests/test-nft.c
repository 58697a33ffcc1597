/* SPDX-License-Identifier: Apache-2.0 */
/* agent/nft: batches, rules, listing by comment, errors, in a network namespace of the test's
 * own (so the host's ruleset is never touched). */
#include "nft/nftables.h"
#include "tests/lib/unit.h"
#include "util.h"

#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <unistd.h>
/* After netinet/in.h, which it defers to. */
#include <linux/netfilter.h>

#define T "podrun_unit"

static bool in_own_netns;

static size_t count_comment(const struct nft_rules *l, const char *c)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += l->v[i].comment && streq(l->v[i].comment, c);
    return n;
}

static nft_rule *dnat_rule(const char *tag, uint16_t port)
{
    nft_addr to, lo;
    nft_addr_parse("10.88.0.5", &to);
    nft_addr_parse("127.0.0.0", &lo);
    nft_rule *r = nft_rule_new(NFPROTO_INET, T, "ports", tag);
    nft_match_nfproto(r, &to);
    nft_match_fib_daddr_local(r);
    nft_match_addr(r, true, &lo, 8, false);
    nft_match_l4proto(r, IPPROTO_TCP);
    nft_match_dport(r, port);
    nft_action_counter(r);
    nft_action_dnat(r, &to, 8080);
    return r;
}

static void test_batch_list_delete(void)
{
    if (!in_own_netns)
        SKIP("needs root to make a network namespace");
    pr_error *err = NULL;
    struct nft_rules l;
    CHECK(nft_list_rules(NFPROTO_INET, T, &l, &err) == 0 && l.n == 0); /* no table: none */
    nft_rules_clear(&l);

    /* A rule into a table that does not exist: the transaction fails whole, with ENOENT. */
    nft_batch *b = nft_batch_new();
    nft_batch_add_rule(b, dnat_rule("a", 1));
    CHECK(nft_batch_send(b, "a rule alone", &err) == -ENOENT);
    CHECK(err && strstr(err->msg, "a rule alone"));
    pr_error_free(err);
    err = NULL;
    nft_batch_free(b);

    b = nft_batch_new();
    nft_batch_add_table(b, NFPROTO_INET, T);
    nft_batch_add_chain(b, NFPROTO_INET, T, "ports", NULL, 0, 0);
    nft_batch_add_chain(b, NFPROTO_INET, T, "pre", "nat", NF_INET_PRE_ROUTING, -100);
    nft_batch_add_chain(b, NFPROTO_INET, T, "post", "nat", NF_INET_POST_ROUTING, 100);
    nft_rule *j = nft_rule_new(NFPROTO_INET, T, "pre", "base");
    nft_action_jump(j, "ports");
    nft_batch_add_rule(b, j);
    nft_addr pod;
    nft_addr_parse("10.88.0.5", &pod);
    nft_rule *m = nft_rule_new(NFPROTO_INET, T, "post", "a");
    nft_match_nfproto(m, &pod);
    nft_match_ct_dnat(m);
    nft_match_addr(m, false, &pod, 16, true);
    nft_action_masquerade(m);
    nft_batch_add_rule(b, m);
    nft_batch_add_rule(b, dnat_rule("a", 80));
    nft_batch_add_rule(b, dnat_rule("b", 81));
    CHECK(nft_batch_count(b) == 8);
    CHECK(nft_batch_send(b, "the table", &err) == 0);
    nft_batch_free(b);

    CHECK(nft_list_rules(NFPROTO_INET, T, &l, &err) == 0);
    CHECK(l.n == 4 && count_comment(&l, "a") == 2 && count_comment(&l, "b") == 1 &&
          count_comment(&l, "base") == 1);
    /* Deleting one owner's rules leaves the others'. */
    b = nft_batch_new();
    for (size_t i = 0; i < l.n; i++)
        if (l.v[i].comment && streq(l.v[i].comment, "a"))
            nft_batch_del_rule(b, NFPROTO_INET, T, l.v[i].chain, l.v[i].handle);
    CHECK(nft_batch_send(b, "a's rules", &err) == 0);
    nft_batch_free(b);
    nft_rules_clear(&l);
    CHECK(nft_list_rules(NFPROTO_INET, T, &l, &err) == 0);
    CHECK(l.n == 2 && count_comment(&l, "a") == 0 && count_comment(&l, "b") == 1);
    nft_rules_clear(&l);

    /* A table created again is no error; deleting it takes everything. */
    b = nft_batch_new();
    nft_batch_add_table(b, NFPROTO_INET, T);
    nft_batch_del_table(b, NFPROTO_INET, T);
    CHECK(nft_batch_send(b, "the table again, then gone", &err) == 0);
    nft_batch_free(b);
    CHECK(nft_list_rules(NFPROTO_INET, T, &l, &err) == 0 && l.n == 0);
    nft_rules_clear(&l);
    b = nft_batch_new();
    CHECK(nft_batch_send(b, "nothing", &err) == 0); /* an empty batch sends nothing */
    nft_batch_free(b);
    if (err)
        fprintf(stderr, "# %s\n", err->msg);
    pr_error_free(err);
}

/* `nft list ...` of the test's namespace, for what nftables itself reads back; NULL without
 * nft. */
static char *nft_cli(const char *args)
{
    if (access("/usr/sbin/nft", X_OK) < 0)
        return NULL;
    _cleanup_free_ char *cmd = xasprintf("/usr/sbin/nft %s 2>&1", args);
    FILE *f = popen(cmd, "r");
    if (!f)
        return NULL;
    char *out = xcalloc(1, 65536);
    size_t n = fread(out, 1, 65535, f);
    out[n] = '\0';
    pclose(f);
    return out;
}

static void test_verdict_maps(void)
{
    if (!in_own_netns)
        SKIP("needs root to make a network namespace");
    static const enum nft_field key[] = {NFT_FIELD_DADDR4, NFT_FIELD_L4PROTO, NFT_FIELD_DPORT};
    pr_error *err = NULL;
    nft_addr a, b2;
    nft_addr_parse("10.96.0.10", &a);
    nft_addr_parse("10.96.0.11", &b2);
    nft_key k1, k2;
    nft_key_init(&k1);
    nft_key_addr(&k1, &a);
    nft_key_l4proto(&k1, IPPROTO_TCP);
    nft_key_port(&k1, 80);
    nft_key_init(&k2);
    nft_key_addr(&k2, &b2);
    nft_key_l4proto(&k2, IPPROTO_UDP);
    nft_key_port(&k2, 53);
    CHECK(k1.len == 12);

    /* The map, its chains, the rule that looks it up and two elements: one transaction. */
    nft_batch *b = nft_batch_new();
    nft_batch_add_table(b, NFPROTO_INET, T);
    nft_batch_add_chain(b, NFPROTO_INET, T, "svc-a", NULL, 0, 0);
    nft_batch_add_chain(b, NFPROTO_INET, T, "svc-b", NULL, 0, 0);
    nft_batch_add_chain(b, NFPROTO_INET, T, "pre", "nat", NF_INET_PRE_ROUTING, -100);
    nft_batch_add_vmap(b, NFPROTO_INET, T, "services", key, 3);
    nft_rule *r = nft_rule_new(NFPROTO_INET, T, "pre", "services");
    nft_match_nfproto(r, &a);
    nft_action_vmap(r, "services", key, 3);
    nft_batch_add_rule(b, r);
    nft_batch_add_vmap_elem(b, NFPROTO_INET, T, "services", &k1, "svc-a");
    nft_batch_add_vmap_elem(b, NFPROTO_INET, T, "services", &k2, "svc-b");
    CHECK(nft_batch_send(b, "a verdict map", &err) == 0);
    nft_batch_free(b);
    _cleanup_free_ char *rules = nft_cli("list chain inet " T " pre");
    _cleanup_free_ char *map = nft_cli("list map inet " T " services");
    CHECK(access("/usr/sbin/nft", X_OK) < 0 || (rules && map));
    if (rules && map) {
        CHECK(strstr(rules, "ip daddr . meta l4proto . th dport vmap @services"));
        CHECK(strstr(map, "type ipv4_addr . inet_proto . inet_service : verdict"));
        CHECK(strstr(map, "10.96.0.10 . tcp . 80 : jump svc-a"));
        CHECK(strstr(map, "10.96.0.11 . udp . 53 : jump svc-b"));
    }

    /* A change touches only the element. */
    b = nft_batch_new();
    nft_batch_del_vmap_elem(b, NFPROTO_INET, T, "services", &k1);
    CHECK(nft_batch_count(b) == 1);
    CHECK(nft_batch_send(b, "one element", &err) == 0);
    nft_batch_free(b);
    _cleanup_free_ char *after = nft_cli("list map inet " T " services");
    if (after) {
        CHECK(!strstr(after, "10.96.0.10"));
        CHECK(strstr(after, "10.96.0.11 . udp . 53 : jump svc-b"));
    }
    /* Deleting an element that is not there fails the transaction. */
    b = nft_batch_new();
    nft_batch_del_vmap_elem(b, NFPROTO_INET, T, "services", &k1);
    CHECK(nft_batch_send(b, "a missing element", &err) == -ENOENT);
    nft_batch_free(b);
    pr_error_free(err);
    err = NULL;
    b = nft_batch_new();
    nft_batch_del_table(b, NFPROTO_INET, T);
    CHECK(nft_batch_send(b, "the table", &err) == 0);
    nft_batch_free(b);
    if (err)
        fprintf(stderr, "# %s\n", err->msg);
    pr_error_free(err);
}

/* The services' per-service chain: numgen spreads jumps; a chain is flushed and rewritten, an
 * unreferenced one deleted, all in one transaction. */
static void test_numgen_flush_and_delete_chain(void)
{
    if (!in_own_netns)
        SKIP("needs root to make a network namespace");
    pr_error *err = NULL;
    nft_batch *b = nft_batch_new();
    nft_batch_add_table(b, NFPROTO_IPV4, T);
    nft_batch_add_chain(b, NFPROTO_IPV4, T, "svc", NULL, 0, 0);
    nft_batch_add_chain(b, NFPROTO_IPV4, T, "ep-1", NULL, 0, 0);
    nft_batch_add_chain(b, NFPROTO_IPV4, T, "ep-2", NULL, 0, 0);
    nft_rule *r = nft_rule_new(NFPROTO_IPV4, T, "svc", "s");
    nft_match_numgen_zero(r, 2);
    nft_action_jump(r, "ep-1");
    nft_batch_add_rule(b, r);
    r = nft_rule_new(NFPROTO_IPV4, T, "svc", "s");
    nft_action_jump(r, "ep-2");
    nft_batch_add_rule(b, r);
    CHECK(nft_batch_send(b, "a service chain", &err) == 0);
    nft_batch_free(b);
    _cleanup_free_ char *before = nft_cli("list chain ip " T " svc");
    if (before) {
        CHECK(strstr(before, "numgen random mod 2 0 jump ep-1"));
        CHECK(strstr(before, "jump ep-2"));
    }
    /* Client affinity: a set of sources with a timeout, looked up and updated by rules. */
    b = nft_batch_new();
    nft_batch_add_addr_set(b, NFPROTO_IPV4, T, "aff", 10800ull * 1000);
    r = nft_rule_new(NFPROTO_IPV4, T, "ep-1", "e");
    nft_action_update_saddr(r, "aff");
    nft_batch_add_rule(b, r);
    r = nft_rule_new(NFPROTO_IPV4, T, "ep-2", "e");
    nft_match_saddr_in_set(r, "aff");
    nft_action_counter(r);
    nft_batch_add_rule(b, r);
    CHECK(nft_batch_send(b, "an affinity set", &err) == 0);
    nft_batch_free(b);
    _cleanup_free_ char *aff = nft_cli("list table ip " T);
    if (aff) {
        CHECK(strstr(aff, "set aff {"));
        CHECK(strstr(aff, "timeout 3h"));
        CHECK(strstr(aff, "update @aff { ip saddr }"));
        CHECK(strstr(aff, "ip saddr @aff counter"));
    }
    b = nft_batch_new();
    nft_batch_flush_chain(b, NFPROTO_IPV4, T, "ep-1");
    nft_batch_flush_chain(b, NFPROTO_IPV4, T, "ep-2");
    nft_batch_del_vmap(b, NFPROTO_IPV4, T, "aff");
    CHECK(nft_batch_send(b, "no affinity", &err) == 0);
    nft_batch_free(b);
    /* ep-2 leaves: flush svc, rewrite it, delete ep-2. */
    b = nft_batch_new();
    nft_batch_flush_chain(b, NFPROTO_IPV4, T, "svc");
    nft_batch_del_chain(b, NFPROTO_IPV4, T, "ep-2");
    r = nft_rule_new(NFPROTO_IPV4, T, "svc", "s");
    nft_action_jump(r, "ep-1");
    nft_batch_add_rule(b, r);
    CHECK(nft_batch_send(b, "one endpoint less", &err) == 0);
    nft_batch_free(b);
    struct nft_rules l = {0};
    CHECK(nft_list_rules(NFPROTO_IPV4, T, &l, &err) == 0);
    CHECK(l.n == 1 && count_comment(&l, "s") == 1);
    if (l.n != 1)
        for (size_t i = 0; i < l.n; i++)
            fprintf(stderr, "# %s %s\n", l.v[i].chain, l.v[i].comment ? l.v[i].comment : "");
    nft_rules_clear(&l);
    _cleanup_free_ char *table = nft_cli("list table ip " T);
    if (table) {
        CHECK(!strstr(table, "ep-2"));
        CHECK(!strstr(table, "numgen"));
    }
    /* A chain still jumped to cannot go: the transaction fails and changes nothing. */
    b = nft_batch_new();
    nft_batch_del_chain(b, NFPROTO_IPV4, T, "ep-1");
    CHECK(nft_batch_send(b, "a referenced chain", &err) < 0);
    nft_batch_free(b);
    pr_error_free(err);
    err = NULL;
    b = nft_batch_new();
    nft_batch_del_table(b, NFPROTO_IPV4, T);
    CHECK(nft_batch_send(b, "the table", &err) == 0);
    nft_batch_free(b);
    pr_error_free(err);
}

/* Closed, the lock is free again at once (it is a socket, not a file left behind). */
static void test_lock_is_exclusive(void)
{
    if (!in_own_netns)
        SKIP("needs root to make a network namespace");
    pr_error *err = NULL;
    int a = nft_lock("podrun-unit-lock", &err);
    CHECK(a >= 0);
    close(a);
    int b = nft_lock("podrun-unit-lock", &err); /* free again once closed */
    CHECK(b >= 0);
    close(b);
    pr_error_free(err);
}

static void test_addr_parse(void)
{
    nft_addr a;
    CHECK(nft_addr_parse("10.1.2.3", &a) == 0 && a.family == AF_INET && a.b[3] == 3);
    CHECK(nft_addr_parse("2001:db8::1", &a) == 0 && a.family == AF_INET6 && a.b[15] == 1);
    CHECK(nft_addr_parse("10.1.2", &a) == -EINVAL);
    CHECK(nft_addr_parse(NULL, &a) == -EINVAL);
}

int main(void)
{
    in_own_netns = geteuid() == 0 && unshare(CLONE_NEWNET) == 0;
    RUN(test_addr_parse);
    RUN(test_batch_list_delete);
    RUN(test_verdict_maps);
    RUN(test_numgen_flush_and_delete_chain);
    RUN(test_lock_is_exclusive);
    UNIT_DONE();
}
