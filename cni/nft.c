/* SPDX-License-Identifier: Apache-2.0 */
#include "nft.h"
#include "cni.h"
#include "util.h"

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#define NFT_LOCK_NAME       "podrun-cni-nft"
#define NFT_SRCNAT_PRIORITY 100

char *nft_masq_tag(const char *net, const char *id, const char *ifname)
{
    return xasprintf("podrun:%s:%s:%s", net, id, ifname);
}

/* Serialises rule changes between plugin runs so that deleting an emptied table never races
 * with another ADD putting a rule into it. The lock is a bound abstract unix socket: those
 * belong to the network namespace, exactly the scope of the ruleset, leave no file behind,
 * and go away with a process that dies holding one. */
static int nft_lock(pr_error **err)
{
    return cni_abstract_lock(NFT_LOCK_NAME, "the nftables lock", err);
}

typedef struct batch {
    char buf[65536];
    struct mnl_nlmsg_batch *b;
    uint32_t seq;
    unsigned acks;
} batch;

static void batch_start(batch *bt)
{
    bt->b = mnl_nlmsg_batch_start(bt->buf, sizeof(bt->buf));
    bt->seq = (uint32_t)time(NULL);
    bt->acks = 0;
    nftnl_batch_begin(mnl_nlmsg_batch_current(bt->b), bt->seq++);
    mnl_nlmsg_batch_next(bt->b);
}

static struct nlmsghdr *batch_msg(batch *bt, uint16_t type, int family, uint16_t flags)
{
    bt->acks++;
    return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt->b), type, (uint16_t)family,
                                 flags | NLM_F_ACK, bt->seq++);
}

/* Sends the batch and waits for one reply per message: the first error is the result. */
static int batch_send(batch *bt, const char *what, pr_error **err)
{
    nftnl_batch_end(mnl_nlmsg_batch_current(bt->b), bt->seq++);
    mnl_nlmsg_batch_next(bt->b);
    struct mnl_socket *s = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    if (!s)
        return pr_err(err, errno, "opening nfnetlink socket");
    int r = 0;
    if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0 ||
        mnl_socket_sendto(s, mnl_nlmsg_batch_head(bt->b), mnl_nlmsg_batch_size(bt->b)) < 0) {
        r = pr_err(err, errno, "nftables: %s", what);
        goto out;
    }
    char buf[32768];
    int first_error = 0;
    for (unsigned got = 0; got < bt->acks;) {
        ssize_t n = mnl_socket_recvfrom(s, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = pr_err(err, errno, "nftables: %s: reading replies", what);
            goto out;
        }
        int len = (int)n;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, len);
             h = mnl_nlmsg_next(h, &len)) {
            if (h->nlmsg_type != NLMSG_ERROR)
                continue;
            const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
            if (e->error && !first_error)
                first_error = e->error;
            got++;
        }
    }
    if (first_error)
        r = pr_err(err, -first_error, "nftables: %s", what);
out:
    mnl_socket_close(s);
    return r;
}

static void put_table(batch *bt, int family, uint16_t type, uint16_t flags)
{
    struct nftnl_table *t = nftnl_table_alloc();
    nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE);
    nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, (uint32_t)family);
    struct nlmsghdr *nlh = batch_msg(bt, type, family, flags);
    nftnl_table_nlmsg_build_payload(nlh, t);
    nftnl_table_free(t);
    mnl_nlmsg_batch_next(bt->b);
}

static void put_chain(batch *bt, int family)
{
    struct nftnl_chain *c = nftnl_chain_alloc();
    nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NFT_TABLE);
    nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, NFT_CHAIN);
    nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "nat");
    nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_POST_ROUTING);
    nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, NFT_SRCNAT_PRIORITY);
    nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
    struct nlmsghdr *nlh = batch_msg(bt, NFT_MSG_NEWCHAIN, family, NLM_F_CREATE);
    nftnl_chain_nlmsg_build_payload(nlh, c);
    nftnl_chain_free(c);
    mnl_nlmsg_batch_next(bt->b);
}

static void add_payload(struct nftnl_rule *r, uint32_t offset, uint32_t len)
{
    struct nftnl_expr *e = nftnl_expr_alloc("payload");
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
    nftnl_rule_add_expr(r, e);
}

static void add_cmp(struct nftnl_rule *r, enum nft_cmp_ops op, const void *data, uint32_t len)
{
    struct nftnl_expr *e = nftnl_expr_alloc("cmp");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
    nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
    nftnl_rule_add_expr(r, e);
}

static void add_mask(struct nftnl_rule *r, const void *mask, uint32_t len)
{
    static const uint8_t zero[16];
    struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
    nftnl_rule_add_expr(r, e);
}

static void set_comment(struct nftnl_rule *r, const char *tag)
{
    struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
    nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, tag);
    nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u), nftnl_udata_buf_len(u));
    nftnl_udata_buf_free(u);
}

int nft_masq_add(const char *tag, const cni_ip *src, const cni_prefix *exclude, pr_error **err)
{
    int family = src->family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
    uint32_t len = (uint32_t)cni_ip_len(src);
    uint32_t saddr = family == NFPROTO_IPV6 ? 8 : 12, daddr = family == NFPROTO_IPV6 ? 24 : 16;
    _cleanup_close_ int lock = nft_lock(err);
    if (lock < 0)
        return lock;

    /* ip saddr SRC ip daddr != EXCLUDE masquerade comment TAG */
    struct nftnl_rule *r = nftnl_rule_alloc();
    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE);
    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, NFT_CHAIN);
    nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, (uint32_t)family);
    add_payload(r, saddr, len);
    add_cmp(r, NFT_CMP_EQ, src->b, len);
    add_payload(r, daddr, len);
    cni_prefix mask_p = {.ip = {.family = src->family}, .plen = exclude->plen};
    memset(mask_p.ip.b, 0xff, sizeof(mask_p.ip.b));
    cni_ip mask = cni_prefix_first(&mask_p);
    cni_ip net = cni_prefix_first(exclude);
    add_mask(r, mask.b, len);
    add_cmp(r, NFT_CMP_NEQ, net.b, len);
    nftnl_rule_add_expr(r, nftnl_expr_alloc("masq"));
    set_comment(r, tag);

    /* Table and chain are usually there: re-declaring an existing base chain makes the commit
     * wait for an RCU grace period, so add just the rule first and create them on ENOENT. */
    int ret = -ENOENT;
    for (int full = 0; full < 2 && ret == -ENOENT; full++) {
        _cleanup_error_ pr_error *first = NULL;
        batch *bt = xmalloc(sizeof(*bt));
        batch_start(bt);
        if (full) {
            put_table(bt, family, NFT_MSG_NEWTABLE, NLM_F_CREATE);
            put_chain(bt, family);
        }
        struct nlmsghdr *nlh = batch_msg(bt, NFT_MSG_NEWRULE, family, NLM_F_CREATE | NLM_F_APPEND);
        nftnl_rule_nlmsg_build_payload(nlh, r);
        mnl_nlmsg_batch_next(bt->b);
        ret = batch_send(bt, "adding masquerade rule", full ? err : &first);
        mnl_nlmsg_batch_stop(bt->b);
        free(bt);
        if (ret < 0 && ret != -ENOENT && !full) {
            ret = pr_err(err, -ret, "%s", first->msg);
        }
    }
    nftnl_rule_free(r);
    return ret;
}

typedef struct rule_info {
    uint64_t handle;
    char *tag;
} rule_info;

typedef struct rule_list {
    rule_info *v;
    size_t n;
} rule_list;

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
    if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT) {
        const char *s = nftnl_udata_get(attr);
        uint8_t len = nftnl_udata_len(attr);
        *(char **)data = strndup(s, len);
    }
    return 0;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
    rule_list *l = data;
    struct nftnl_rule *r = nftnl_rule_alloc();
    if (nftnl_rule_nlmsg_parse(nlh, r) == 0) {
        rule_info ri = {.handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE)};
        uint32_t len = 0;
        const void *ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
        if (ud)
            nftnl_udata_parse(ud, len, comment_cb, &ri.tag);
        l->v = xrealloc(l->v, (l->n + 1) * sizeof(rule_info));
        l->v[l->n++] = ri;
    }
    nftnl_rule_free(r);
    return MNL_CB_OK;
}

static void rule_list_free(rule_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].tag);
    free(l->v);
}

/* Our chain's rules; a missing table is an empty list. */
static int list_rules(int family, rule_list *l, pr_error **err)
{
    char buf[32768];
    struct mnl_socket *s = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    if (!s)
        return pr_err(err, errno, "opening nfnetlink socket");
    uint32_t seq = (uint32_t)time(NULL);
    struct nlmsghdr *nlh =
        nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, (uint16_t)family, NLM_F_DUMP, seq);
    struct nftnl_rule *r = nftnl_rule_alloc();
    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE);
    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, NFT_CHAIN);
    nftnl_rule_nlmsg_build_payload(nlh, r);
    nftnl_rule_free(r);
    int ret = 0;
    if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0 ||
        mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0) {
        ret = pr_err(err, errno, "nftables: listing rules");
        goto out;
    }
    unsigned portid = mnl_socket_get_portid(s);
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(s, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ret = pr_err(err, errno, "nftables: listing rules");
            break;
        }
        int cb = mnl_cb_run(buf, (size_t)n, seq, portid, rule_cb, l);
        if (cb == MNL_CB_ERROR) {
            if (errno != ENOENT)
                ret = pr_err(err, errno, "nftables: listing rules");
            break;
        }
        if (cb == MNL_CB_STOP)
            break;
    }
out:
    mnl_socket_close(s);
    return ret;
}

static int delete_matching(int family, bool (*doomed)(const char *tag, void *data), void *data,
                           pr_error **err)
{
    rule_list l = {0};
    int r = list_rules(family, &l, err);
    if (r < 0 || l.n == 0) {
        rule_list_free(&l);
        return r;
    }
    batch *bt = xmalloc(sizeof(*bt));
    batch_start(bt);
    size_t deleted = 0;
    for (size_t i = 0; i < l.n; i++) {
        if (!l.v[i].tag || !doomed(l.v[i].tag, data))
            continue;
        struct nftnl_rule *rule = nftnl_rule_alloc();
        nftnl_rule_set_str(rule, NFTNL_RULE_TABLE, NFT_TABLE);
        nftnl_rule_set_str(rule, NFTNL_RULE_CHAIN, NFT_CHAIN);
        nftnl_rule_set_u64(rule, NFTNL_RULE_HANDLE, l.v[i].handle);
        struct nlmsghdr *nlh = batch_msg(bt, NFT_MSG_DELRULE, family, 0);
        nftnl_rule_nlmsg_build_payload(nlh, rule);
        nftnl_rule_free(rule);
        mnl_nlmsg_batch_next(bt->b);
        deleted++;
    }
    if (deleted == l.n)
        put_table(bt, family, NFT_MSG_DELTABLE, 0); /* the last rule went: so does the table */
    if (deleted)
        r = batch_send(bt, "deleting masquerade rules", err);
    mnl_nlmsg_batch_stop(bt->b);
    free(bt);
    rule_list_free(&l);
    return r;
}

static bool tag_equals(const char *tag, void *data)
{
    return streq(tag, (const char *)data);
}

int nft_masq_del(const char *tag, pr_error **err)
{
    _cleanup_close_ int lock = nft_lock(err);
    if (lock < 0)
        return lock;
    int r = delete_matching(NFPROTO_IPV4, tag_equals, (void *)tag, err);
    if (r == 0)
        r = delete_matching(NFPROTO_IPV6, tag_equals, (void *)tag, err);
    return r;
}

typedef struct gc_filter {
    char *prefix;
    bool (*keep)(const char *tag, void *data);
    void *data;
} gc_filter;

static bool gc_doomed(const char *tag, void *data)
{
    gc_filter *f = data;
    return has_prefix(tag, f->prefix) && !f->keep(tag, f->data);
}

int nft_masq_gc(const char *net, bool (*keep)(const char *tag, void *data), void *data,
                pr_error **err)
{
    _cleanup_close_ int lock = nft_lock(err);
    if (lock < 0)
        return lock;
    _cleanup_free_ char *prefix = xasprintf("podrun:%s:", net);
    gc_filter f = {.prefix = prefix, .keep = keep, .data = data};
    int r = delete_matching(NFPROTO_IPV4, gc_doomed, &f, err);
    if (r == 0)
        r = delete_matching(NFPROTO_IPV6, gc_doomed, &f, err);
    return r;
}
