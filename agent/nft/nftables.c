/* SPDX-License-Identifier: Apache-2.0 */
#include "nftables.h"
#include "util.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

/* One message is never larger than this: a rule of a few dozen expressions. */
#define MSG_ROOM 8192
/* A dump reply holds up to 32 KiB of messages (libmnl's MNL_SOCKET_DUMP_SIZE). */
#define DUMP_BUF 32768

int nft_addr_parse(const char *s, nft_addr *a)
{
    *a = (nft_addr){0};
    if (s && inet_pton(AF_INET, s, a->b) == 1)
        a->family = AF_INET;
    else if (s && inet_pton(AF_INET6, s, a->b) == 1)
        a->family = AF_INET6;
    else
        return -EINVAL;
    return 0;
}

static uint32_t addr_len(const nft_addr *a)
{
    return a->family == AF_INET6 ? 16 : 4;
}

/* ---- rules ---- */

struct nft_rule {
    struct nftnl_rule *r;
    int family;
};

nft_rule *nft_rule_new(int family, const char *table, const char *chain, const char *comment)
{
    nft_rule *r = xcalloc(1, sizeof(*r));
    r->family = family;
    r->r = nftnl_rule_alloc();
    if (!r->r)
        abort();
    nftnl_rule_set_str(r->r, NFTNL_RULE_TABLE, table);
    nftnl_rule_set_str(r->r, NFTNL_RULE_CHAIN, chain);
    nftnl_rule_set_u32(r->r, NFTNL_RULE_FAMILY, (uint32_t)family);
    if (comment) {
        struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
        nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, comment);
        nftnl_rule_set_data(r->r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u),
                            nftnl_udata_buf_len(u));
        nftnl_udata_buf_free(u);
    }
    return r;
}

void nft_rule_free(nft_rule *r)
{
    if (!r)
        return;
    nftnl_rule_free(r->r);
    free(r);
}

static struct nftnl_expr *expr(nft_rule *r, const char *name)
{
    struct nftnl_expr *e = nftnl_expr_alloc(name);
    if (!e)
        abort();
    nftnl_rule_add_expr(r->r, e);
    return e;
}

static void cmp(nft_rule *r, enum nft_cmp_ops op, const void *data, uint32_t len)
{
    struct nftnl_expr *e = expr(r, "cmp");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
    nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

static void meta(nft_rule *r, enum nft_meta_keys key)
{
    struct nftnl_expr *e = expr(r, "meta");
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

static void payload(nft_rule *r, enum nft_payload_bases base, uint32_t offset, uint32_t len)
{
    struct nftnl_expr *e = expr(r, "payload");
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
}

static void bitwise(nft_rule *r, const void *mask, uint32_t len)
{
    static const uint8_t zero[16];
    struct nftnl_expr *e = expr(r, "bitwise");
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
}

void nft_match_nfproto(nft_rule *r, const nft_addr *a)
{
    uint8_t p = a->family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
    meta(r, NFT_META_NFPROTO);
    cmp(r, NFT_CMP_EQ, &p, 1);
}

void nft_match_l4proto(nft_rule *r, uint8_t proto)
{
    meta(r, NFT_META_L4PROTO);
    cmp(r, NFT_CMP_EQ, &proto, 1);
}

void nft_match_dport(nft_rule *r, uint16_t port)
{
    uint16_t p = htons(port);
    /* TCP, UDP and SCTP all keep the destination port at bytes 2-3. */
    payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
    cmp(r, NFT_CMP_EQ, &p, 2);
}

void nft_match_addr(nft_rule *r, bool dst, const nft_addr *net, unsigned plen, bool equal)
{
    bool v6 = net->family == AF_INET6;
    uint32_t len = addr_len(net);
    uint32_t off = v6 ? (dst ? 24 : 8) : (dst ? 16 : 12);
    payload(r, NFT_PAYLOAD_NETWORK_HEADER, off, len);
    unsigned char want[16] = {0}, mask[16] = {0};
    for (unsigned i = 0; i < len * 8 && i < plen; i++)
        mask[i / 8] |= (unsigned char)(0x80 >> (i % 8));
    for (uint32_t i = 0; i < len; i++)
        want[i] = net->b[i] & mask[i];
    if (plen < len * 8)
        bitwise(r, mask, len);
    cmp(r, equal ? NFT_CMP_EQ : NFT_CMP_NEQ, want, len);
}

static void fib_local(nft_rule *r, uint32_t which)
{
    struct nftnl_expr *e = expr(r, "fib");
    nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, which);
    nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
    nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
    uint32_t local = RTN_LOCAL;
    cmp(r, NFT_CMP_EQ, &local, sizeof(local));
}

void nft_match_fib_saddr_local(nft_rule *r)
{
    fib_local(r, NFTA_FIB_F_SADDR);
}

void nft_match_fib_daddr_local(nft_rule *r)
{
    fib_local(r, NFTA_FIB_F_DADDR);
}

void nft_match_ct_dnat(nft_rule *r)
{
    struct nftnl_expr *e = expr(r, "ct");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATUS);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
    uint32_t mask = IPS_DST_NAT, zero = 0;
    bitwise(r, &mask, sizeof(mask));
    cmp(r, NFT_CMP_NEQ, &zero, sizeof(zero));
}

void nft_match_mark(nft_rule *r, uint32_t bits)
{
    uint32_t zero = 0;
    meta(r, NFT_META_MARK);
    bitwise(r, &bits, sizeof(bits));
    cmp(r, NFT_CMP_NEQ, &zero, sizeof(zero));
}

void nft_match_numgen_zero(nft_rule *r, uint32_t modulus)
{
    struct nftnl_expr *e = expr(r, "numgen");
    nftnl_expr_set_u32(e, NFTNL_EXPR_NG_DREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_NG_MODULUS, modulus);
    nftnl_expr_set_u32(e, NFTNL_EXPR_NG_TYPE, NFT_NG_RANDOM);
    uint32_t zero = 0;
    cmp(r, NFT_CMP_EQ, &zero, sizeof(zero));
}

/* ip saddr into register 1. */
static void saddr4(nft_rule *r)
{
    payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4);
}

void nft_match_saddr_in_set(nft_rule *r, const char *set)
{
    saddr4(r);
    struct nftnl_expr *e = expr(r, "lookup");
    nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
    nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
}

void nft_action_update_saddr(nft_rule *r, const char *set)
{
    saddr4(r);
    struct nftnl_expr *e = expr(r, "dynset");
    nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
    nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set);
}

void nft_action_counter(nft_rule *r)
{
    expr(r, "counter");
}

static void immediate(nft_rule *r, enum nft_registers reg, const void *data, uint32_t len)
{
    struct nftnl_expr *e = expr(r, "immediate");
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, reg);
    nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
}

void nft_action_dnat(nft_rule *r, const nft_addr *to, uint16_t port)
{
    uint16_t p = htons(port);
    immediate(r, NFT_REG_1, to->b, addr_len(to));
    if (port)
        immediate(r, NFT_REG_2, &p, 2);
    struct nftnl_expr *e = expr(r, "nat");
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY,
                       to->family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
    if (port)
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
}

void nft_action_reject(nft_rule *r)
{
    struct nftnl_expr *e = expr(r, "reject");
    /* The abstract ICMP type is for inet tables; an ip table's reject speaks ICMP itself. */
    bool inet = r->family == NFPROTO_INET;
    nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE,
                       inet ? NFT_REJECT_ICMPX_UNREACH : NFT_REJECT_ICMP_UNREACH);
    nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE,
                      inet ? NFT_REJECT_ICMPX_PORT_UNREACH : 3 /* ICMP_PORT_UNREACH */);
}

void nft_action_mark_set_bits(nft_rule *r, uint32_t bits)
{
    /* mark = (mark & ~bits) ^ bits, then written back: bits set, the others kept. */
    uint32_t keep = ~bits;
    meta(r, NFT_META_MARK);
    struct nftnl_expr *e = expr(r, "bitwise");
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof(bits));
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &keep, sizeof(keep));
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &bits, sizeof(bits));
    e = expr(r, "meta");
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_MARK);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
}

void nft_action_masquerade(nft_rule *r)
{
    expr(r, "masq");
}

void nft_action_jump(nft_rule *r, const char *chain)
{
    struct nftnl_expr *e = expr(r, "immediate");
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)NFT_JUMP);
    nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
}

/* ---- verdict maps ---- */

/* nftables' datatype numbers (nft's TYPE_*), for the map's key type: a concatenation is the
 * types six bits apart, as `nft list` reads them back. */
static uint32_t field_type(enum nft_field f)
{
    switch (f) {
    case NFT_FIELD_DADDR4:
        return 7; /* ipv4_addr */
    case NFT_FIELD_DADDR6:
        return 8; /* ipv6_addr */
    case NFT_FIELD_L4PROTO:
        return 12; /* inet_proto */
    default:
        return 13; /* inet_service */
    }
}

static uint32_t field_len(enum nft_field f)
{
    return f == NFT_FIELD_DADDR6 ? 16 : f == NFT_FIELD_DADDR4 ? 4 : f == NFT_FIELD_L4PROTO ? 1 : 2;
}

static uint32_t slot(uint32_t len)
{
    return (len + 3) & ~3u;
}

void nft_key_init(nft_key *k)
{
    memset(k, 0, sizeof(*k));
}

static void key_put(nft_key *k, const void *data, uint32_t len)
{
    if (k->len + slot(len) > sizeof(k->b))
        abort(); /* more fields than NFT_KEY_FIELDS_MAX: a programming error */
    memcpy(k->b + k->len, data, len);
    k->len += slot(len);
}

void nft_key_addr(nft_key *k, const nft_addr *a)
{
    key_put(k, a->b, addr_len(a));
}

void nft_key_l4proto(nft_key *k, uint8_t proto)
{
    key_put(k, &proto, 1);
}

void nft_key_port(nft_key *k, uint16_t port)
{
    uint16_t p = htons(port);
    key_put(k, &p, 2);
}

void nft_action_vmap(nft_rule *r, const char *map, const enum nft_field *fields, size_t n)
{
    uint32_t reg = NFT_REG32_00;
    for (size_t i = 0; i < n && i < NFT_KEY_FIELDS_MAX; i++) {
        struct nftnl_expr *e;
        switch (fields[i]) {
        case NFT_FIELD_DADDR4:
        case NFT_FIELD_DADDR6:
            e = expr(r, "payload");
            nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
            nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET,
                               fields[i] == NFT_FIELD_DADDR6 ? 24 : 16);
            nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, field_len(fields[i]));
            nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, reg);
            break;
        case NFT_FIELD_L4PROTO:
            e = expr(r, "meta");
            nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
            nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, reg);
            break;
        default:
            e = expr(r, "payload");
            nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
            nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 2);
            nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 2);
            nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, reg);
            break;
        }
        reg += slot(field_len(fields[i])) / 4;
    }
    struct nftnl_expr *e = expr(r, "lookup");
    nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG32_00);
    nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, map);
}

/* ---- batches ---- */

/* The messages in one growing buffer, between a BEGIN and an END the send adds. */
struct nft_batch {
    char *buf;
    size_t len, cap;
    uint32_t seq;
    size_t msgs;
};

static struct nlmsghdr *room(nft_batch *b)
{
    if (b->len + MSG_ROOM > b->cap) {
        b->cap = (b->cap ? b->cap * 2 : 65536) + MSG_ROOM;
        b->buf = xrealloc(b->buf, b->cap);
    }
    memset(b->buf + b->len, 0, MSG_ROOM);
    return (struct nlmsghdr *)(b->buf + b->len);
}

static void done(nft_batch *b, struct nlmsghdr *nlh)
{
    b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

nft_batch *nft_batch_new(void)
{
    nft_batch *b = xcalloc(1, sizeof(*b));
    b->seq = (uint32_t)time(NULL);
    nftnl_batch_begin((char *)room(b), b->seq++);
    done(b, (struct nlmsghdr *)b->buf);
    return b;
}

void nft_batch_free(nft_batch *b)
{
    free(b->buf);
    free(b);
}

size_t nft_batch_count(const nft_batch *b)
{
    return b->msgs;
}

static struct nlmsghdr *msg(nft_batch *b, uint16_t type, int family, uint16_t flags)
{
    b->msgs++;
    return nftnl_nlmsg_build_hdr((char *)room(b), type, (uint16_t)family, flags | NLM_F_ACK,
                                 b->seq++);
}

static void table_msg(nft_batch *b, int family, const char *table, uint16_t type, uint16_t flags)
{
    struct nftnl_table *t = nftnl_table_alloc();
    nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
    nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, (uint32_t)family);
    struct nlmsghdr *nlh = msg(b, type, family, flags);
    nftnl_table_nlmsg_build_payload(nlh, t);
    nftnl_table_free(t);
    done(b, nlh);
}

void nft_batch_add_table(nft_batch *b, int family, const char *table)
{
    table_msg(b, family, table, NFT_MSG_NEWTABLE, NLM_F_CREATE);
}

void nft_batch_del_table(nft_batch *b, int family, const char *table)
{
    table_msg(b, family, table, NFT_MSG_DELTABLE, 0);
}

void nft_batch_add_chain(nft_batch *b, int family, const char *table, const char *chain,
                         const char *type, unsigned hook, int priority)
{
    struct nftnl_chain *c = nftnl_chain_alloc();
    nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
    nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
    if (type) {
        nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
        nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
        nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, priority);
        nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
    }
    struct nlmsghdr *nlh = msg(b, NFT_MSG_NEWCHAIN, family, NLM_F_CREATE);
    nftnl_chain_nlmsg_build_payload(nlh, c);
    nftnl_chain_free(c);
    done(b, nlh);
}

void nft_batch_add_rule(nft_batch *b, nft_rule *r)
{
    struct nlmsghdr *nlh = msg(b, NFT_MSG_NEWRULE, r->family, NLM_F_CREATE | NLM_F_APPEND);
    nftnl_rule_nlmsg_build_payload(nlh, r->r);
    done(b, nlh);
    nft_rule_free(r);
}

void nft_batch_del_rule(nft_batch *b, int family, const char *table, const char *chain,
                        uint64_t handle)
{
    struct nftnl_rule *r = nftnl_rule_alloc();
    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
    nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, (uint32_t)family);
    nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, handle);
    struct nlmsghdr *nlh = msg(b, NFT_MSG_DELRULE, family, 0);
    nftnl_rule_nlmsg_build_payload(nlh, r);
    nftnl_rule_free(r);
    done(b, nlh);
}

static void chain_msg(nft_batch *b, int family, const char *table, const char *chain, uint16_t type)
{
    struct nlmsghdr *nlh = msg(b, type, family, 0);
    if (type == NFT_MSG_DELRULE) {
        /* A rule message with a chain and no handle: every rule of the chain. */
        struct nftnl_rule *r = nftnl_rule_alloc();
        nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
        nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
        nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, (uint32_t)family);
        nftnl_rule_nlmsg_build_payload(nlh, r);
        nftnl_rule_free(r);
    } else {
        struct nftnl_chain *c = nftnl_chain_alloc();
        nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
        nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
        nftnl_chain_nlmsg_build_payload(nlh, c);
        nftnl_chain_free(c);
    }
    done(b, nlh);
}

void nft_batch_flush_chain(nft_batch *b, int family, const char *table, const char *chain)
{
    chain_msg(b, family, table, chain, NFT_MSG_DELRULE);
}

void nft_batch_del_chain(nft_batch *b, int family, const char *table, const char *chain)
{
    chain_msg(b, family, table, chain, NFT_MSG_DELCHAIN);
}

static struct nftnl_set *set_of(int family, const char *table, const char *map)
{
    struct nftnl_set *set = nftnl_set_alloc();
    if (!set)
        abort();
    nftnl_set_set_str(set, NFTNL_SET_TABLE, table);
    nftnl_set_set_str(set, NFTNL_SET_NAME, map);
    nftnl_set_set_u32(set, NFTNL_SET_FAMILY, (uint32_t)family);
    return set;
}

void nft_batch_add_vmap(nft_batch *b, int family, const char *table, const char *map,
                        const enum nft_field *fields, size_t n)
{
    struct nftnl_set *set = set_of(family, table, map);
    uint32_t type = 0, len = 0;
    for (size_t i = 0; i < n && i < NFT_KEY_FIELDS_MAX; i++) {
        type = type << 6 | field_type(fields[i]);
        len += slot(field_len(fields[i]));
    }
    nftnl_set_set_u32(set, NFTNL_SET_FLAGS, NFT_SET_MAP);
    nftnl_set_set_u32(set, NFTNL_SET_KEY_TYPE, type);
    nftnl_set_set_u32(set, NFTNL_SET_KEY_LEN, len);
    nftnl_set_set_u32(set, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
    nftnl_set_set_u32(set, NFTNL_SET_ID, b->seq);
    struct nlmsghdr *nlh = msg(b, NFT_MSG_NEWSET, family, NLM_F_CREATE);
    nftnl_set_nlmsg_build_payload(nlh, set);
    nftnl_set_free(set);
    done(b, nlh);
}

void nft_batch_add_addr_set(nft_batch *b, int family, const char *table, const char *set_name,
                            uint64_t timeout_ms)
{
    struct nftnl_set *set = set_of(family, table, set_name);
    nftnl_set_set_u32(set, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT | NFT_SET_EVAL);
    nftnl_set_set_u32(set, NFTNL_SET_KEY_TYPE, field_type(NFT_FIELD_DADDR4));
    nftnl_set_set_u32(set, NFTNL_SET_KEY_LEN, 4);
    nftnl_set_set_u64(set, NFTNL_SET_TIMEOUT, timeout_ms);
    nftnl_set_set_u32(set, NFTNL_SET_ID, b->seq);
    struct nlmsghdr *nlh = msg(b, NFT_MSG_NEWSET, family, NLM_F_CREATE);
    nftnl_set_nlmsg_build_payload(nlh, set);
    nftnl_set_free(set);
    done(b, nlh);
}

void nft_batch_del_vmap(nft_batch *b, int family, const char *table, const char *map)
{
    struct nftnl_set *set = set_of(family, table, map);
    struct nlmsghdr *nlh = msg(b, NFT_MSG_DELSET, family, 0);
    nftnl_set_nlmsg_build_payload(nlh, set);
    nftnl_set_free(set);
    done(b, nlh);
}

static void elem_msg(nft_batch *b, int family, const char *table, const char *map,
                     const nft_key *key, const char *chain)
{
    struct nftnl_set *set = set_of(family, table, map);
    struct nftnl_set_elem *e = nftnl_set_elem_alloc();
    if (!e)
        abort();
    nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key->b, key->len);
    if (chain) {
        nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, (uint32_t)NFT_JUMP);
        nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain);
    }
    nftnl_set_elem_add(set, e);
    struct nlmsghdr *nlh =
        msg(b, chain ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, family, chain ? NLM_F_CREATE : 0);
    nftnl_set_elems_nlmsg_build_payload(nlh, set);
    nftnl_set_free(set);
    done(b, nlh);
}

void nft_batch_add_vmap_elem(nft_batch *b, int family, const char *table, const char *map,
                             const nft_key *key, const char *chain)
{
    elem_msg(b, family, table, map, key, chain);
}

void nft_batch_del_vmap_elem(nft_batch *b, int family, const char *table, const char *map,
                             const nft_key *key)
{
    elem_msg(b, family, table, map, key, NULL);
}

static struct mnl_socket *nl_open(size_t rcvbuf, pr_error **err)
{
    struct mnl_socket *s = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    if (!s) {
        pr_err(err, errno, "nftables: opening a netlink socket");
        return NULL;
    }
    if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
        pr_err(err, errno, "nftables: binding a netlink socket");
        mnl_socket_close(s);
        return NULL;
    }
    /* Every message of a batch is acknowledged: room for all the replies. */
    int size = rcvbuf > (1u << 30) ? 1 << 30 : (int)rcvbuf;
    if (size > 212992)
        setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
    return s;
}

int nft_batch_send(nft_batch *b, const char *what, pr_error **err)
{
    if (b->msgs == 0)
        return 0;
    struct nlmsghdr *end = room(b);
    nftnl_batch_end((char *)end, b->seq++);
    done(b, end);
    /* Each acknowledgement is a buffer of its own in the socket's queue (its truesize, a few
     * hundred bytes, not the 36 of the message): thousands of them need room for that. */
    struct mnl_socket *s = nl_open(b->msgs * 2048, err);
    if (!s)
        return -EIO;
    int size = b->len > (1u << 30) ? 1 << 30 : (int)b->len;
    if (size > 212992)
        setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
    int r = 0, first_error = 0;
    if (mnl_socket_sendto(s, b->buf, b->len) < 0) {
        r = pr_err(err, errno, "nftables: %s", what);
        goto out;
    }
    char buf[65536];
    for (size_t got = 0; got < b->msgs;) {
        ssize_t n = mnl_socket_recvfrom(s, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r = pr_err(err, n < 0 ? errno : EIO, "nftables: %s: reading the replies", what);
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
            /* A failed transaction is aborted: later messages get no reply. */
            if (e->error)
                got = b->msgs;
        }
    }
    if (first_error)
        r = pr_err(err, -first_error, "nftables: %s", what);
out:
    mnl_socket_close(s);
    /* The batch can be sent once: drop the END again so that the error leaves it reusable. */
    b->len -= NLMSG_ALIGN(end->nlmsg_len);
    return r;
}

/* ---- listing ---- */

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
    if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && !*(char **)data)
        *(char **)data = xstrndup(nftnl_udata_get(attr), nftnl_udata_len(attr));
    return 0;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
    struct nft_rules *l = data;
    struct nftnl_rule *r = nftnl_rule_alloc();
    if (nftnl_rule_nlmsg_parse(nlh, r) == 0) {
        struct nft_rule_info ri = {
            .handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE),
            .chain = xstrdup(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN)),
        };
        uint32_t len = 0;
        const void *ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
        if (ud)
            nftnl_udata_parse(ud, len, comment_cb, &ri.comment);
        l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
        l->v[l->n++] = ri;
    }
    nftnl_rule_free(r);
    return MNL_CB_OK;
}

void nft_rules_clear(struct nft_rules *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].chain);
        free(l->v[i].comment);
    }
    free(l->v);
    *l = (struct nft_rules){0};
}

int nft_list_rules(int family, const char *table, struct nft_rules *out, pr_error **err)
{
    *out = (struct nft_rules){0};
    struct mnl_socket *s = nl_open(0, err);
    if (!s)
        return -EIO;
    char *buf = xmalloc(DUMP_BUF);
    uint32_t seq = (uint32_t)time(NULL);
    struct nlmsghdr *nlh =
        nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, (uint16_t)family, NLM_F_DUMP, seq);
    struct nftnl_rule *r = nftnl_rule_alloc();
    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
    nftnl_rule_nlmsg_build_payload(nlh, r);
    nftnl_rule_free(r);
    int ret = 0;
    if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0) {
        ret = pr_err(err, errno, "nftables: listing the rules of table %s", table);
        goto out;
    }
    unsigned portid = mnl_socket_get_portid(s);
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(s, buf, DUMP_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ret = pr_err(err, errno, "nftables: listing the rules of table %s", table);
            break;
        }
        int cb = mnl_cb_run(buf, (size_t)n, seq, portid, rule_cb, out);
        if (cb == MNL_CB_ERROR) {
            if (errno != ENOENT)
                ret = pr_err(err, errno, "nftables: listing the rules of table %s", table);
            break;
        }
        if (cb == MNL_CB_STOP)
            break;
    }
out:
    free(buf);
    mnl_socket_close(s);
    if (ret < 0)
        nft_rules_clear(out);
    return ret;
}

int nft_lock(const char *name, pr_error **err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(name);
    if (n + 1 > sizeof(sa.sun_path))
        return pr_err(err, ENAMETOOLONG, "nftables: lock name `%s`", name);
    memcpy(sa.sun_path + 1, name, n);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return pr_err(err, errno, "nftables: a socket for the lock `%s`", name);
    /* Holders keep it for one batch, milliseconds: wait up to a minute. */
    for (int tries = 0; bind(fd, (struct sockaddr *)&sa, len) < 0; tries++) {
        if (errno != EADDRINUSE || tries > 120000) {
            int e = errno;
            close(fd);
            return pr_err(err, e, "nftables: taking the lock `%s`", name);
        }
        usleep(500);
    }
    return fd;
}
