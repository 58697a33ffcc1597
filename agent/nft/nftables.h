/* SPDX-License-Identifier: Apache-2.0 */
/* nftables for podrun's own tables, through libnftnl and libmnl (DESIGN.md, "Node data path"):
 * the pod manager's hostPort table now, the services' proxy later. A change is a batch of
 * messages (tables, chains, rules, deletions) sent as one transaction, so the kernel applies
 * all of it or none. Rules are built from small matches and actions, each rule tagged with a
 * comment that says whose it is, and listed back by table so an owner deletes exactly its own.
 * Nothing here touches a table it is not named. Quiet: errors come back as pr_error. */
#ifndef PODRUN_AGENT_NFT_H
#define PODRUN_AGENT_NFT_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A comment is at most this long (the kernel's NFT_USERDATA_MAXLEN is 256, with its header). */
#define NFT_COMMENT_MAX 128

/* An IPv4 or IPv6 address (family AF_INET or AF_INET6), in network byte order. */
typedef struct nft_addr {
    int family;
    unsigned char b[16];
} nft_addr;
/* 0, or -EINVAL when s is not an address. */
int nft_addr_parse(const char *s, nft_addr *a);

/* ---- rules ---- */
typedef struct nft_rule nft_rule;
/* family: NFPROTO_INET, NFPROTO_IPV4 ...; comment: the owner's tag (NULL for none). */
nft_rule *nft_rule_new(int family, const char *table, const char *chain, const char *comment);
void nft_rule_free(nft_rule *r);

/* Matches, in the order added. */
void nft_match_nfproto(nft_rule *r, const nft_addr *a); /* meta nfproto ipv4|ipv6, as a's */
void nft_match_l4proto(nft_rule *r, uint8_t proto);     /* meta l4proto tcp */
void nft_match_dport(nft_rule *r, uint16_t port);       /* th dport 80 */
/* ip[6] saddr|daddr ==|!= net/plen (plen 32 or 128: one address); after nft_match_nfproto. */
void nft_match_addr(nft_rule *r, bool dst, const nft_addr *net, unsigned plen, bool equal);
void nft_match_fib_daddr_local(nft_rule *r); /* fib daddr type local */
void nft_match_fib_saddr_local(nft_rule *r); /* fib saddr type local: the node made it */
void nft_match_ct_dnat(nft_rule *r);         /* ct status dnat */
/* meta mark & bits != 0 */
void nft_match_mark(nft_rule *r, uint32_t bits);
/* numgen random mod modulus == 0: true once in modulus, drawn afresh by each rule (so rule i
 * of n with modulus n - i spreads connections evenly, as kube-proxy's iptables mode does). */
void nft_match_numgen_zero(nft_rule *r, uint32_t modulus);

/* Actions. */
void nft_action_counter(nft_rule *r);
void nft_action_dnat(nft_rule *r, const nft_addr *to, uint16_t port); /* port 0: keep it */
void nft_action_masquerade(nft_rule *r);
/* meta mark set mark | bits */
void nft_action_mark_set_bits(nft_rule *r, uint32_t bits);
/* reject: ICMP port unreachable (a TCP connect fails at once with ECONNREFUSED); IPv4 in an
 * ip table, either family in an inet one. */
void nft_action_reject(nft_rule *r);
void nft_action_jump(nft_rule *r, const char *chain);

/* Client affinity (sessionAffinity ClientIP): an IPv4 address set whose elements expire
 * (nft_batch_add_addr_set), matched on the source (`ip saddr @set`) and refreshed by a rule
 * (`update @set { ip saddr }`, the element's timeout starting again). */
void nft_match_saddr_in_set(nft_rule *r, const char *set);
void nft_action_update_saddr(nft_rule *r, const char *set);

/* ---- verdict maps: many rules' matches in one lookup (`KEY vmap @map`), so that a change adds
 * or removes elements, not rules (what the services' proxy needs at scale) ---- */
enum nft_field {
    NFT_FIELD_DADDR4,  /* ip daddr */
    NFT_FIELD_DADDR6,  /* ip6 daddr */
    NFT_FIELD_L4PROTO, /* meta l4proto */
    NFT_FIELD_DPORT,   /* th dport */
};
#define NFT_KEY_FIELDS_MAX 4
/* A key: the fields' values in order, each in a 32-bit aligned slot as the registers hold
 * them. */
typedef struct nft_key {
    unsigned char b[NFT_KEY_FIELDS_MAX * 16];
    uint32_t len;
} nft_key;
void nft_key_init(nft_key *k);
void nft_key_addr(nft_key *k, const nft_addr *a);
void nft_key_l4proto(nft_key *k, uint8_t proto);
void nft_key_port(nft_key *k, uint16_t port);
/* In a rule: loads fields (at most NFT_KEY_FIELDS_MAX) and jumps to the chain map gives for
 * them; no element, no verdict (the rule goes on). */
void nft_action_vmap(nft_rule *r, const char *map, const enum nft_field *fields, size_t n);

/* ---- batches ---- */
typedef struct nft_batch nft_batch;
nft_batch *nft_batch_new(void);
void nft_batch_free(nft_batch *b);
static inline void nft_batch_freep(nft_batch **b)
{
    if (*b)
        nft_batch_free(*b);
}
#define _cleanup_nft_batch_ __attribute__((cleanup(nft_batch_freep)))
size_t nft_batch_count(const nft_batch *b); /* messages so far */

/* Creates the table unless it exists (never an error when it does). */
void nft_batch_add_table(nft_batch *b, int family, const char *table);
/* Deletes the table with everything in it. */
void nft_batch_del_table(nft_batch *b, int family, const char *table);
/* A chain, created unless it exists: a base chain with type ("nat", "filter") on hook
 * (NF_INET_PRE_ROUTING ...) at priority, or a regular chain with type NULL. */
void nft_batch_add_chain(nft_batch *b, int family, const char *table, const char *chain,
                         const char *type, unsigned hook, int priority);
/* Removes every rule of a chain (the chain stays), and deletes an empty, unreferenced chain. */
void nft_batch_flush_chain(nft_batch *b, int family, const char *table, const char *chain);
void nft_batch_del_chain(nft_batch *b, int family, const char *table, const char *chain);
/* Appends r to its chain; the batch takes r. */
void nft_batch_add_rule(nft_batch *b, nft_rule *r);
void nft_batch_del_rule(nft_batch *b, int family, const char *table, const char *chain,
                        uint64_t handle);
/* A verdict map keyed by fields, created unless it exists. */
void nft_batch_add_vmap(nft_batch *b, int family, const char *table, const char *map,
                        const enum nft_field *fields, size_t n);
void nft_batch_del_vmap(nft_batch *b, int family, const char *table, const char *map);
/* A set of IPv4 addresses that rules add to, each element expiring after timeout_ms; deleted
 * with nft_batch_del_vmap (any set by name). */
void nft_batch_add_addr_set(nft_batch *b, int family, const char *table, const char *set,
                            uint64_t timeout_ms);
/* map[key] = jump chain; and its removal. */
void nft_batch_add_vmap_elem(nft_batch *b, int family, const char *table, const char *map,
                             const nft_key *key, const char *chain);
void nft_batch_del_vmap_elem(nft_batch *b, int family, const char *table, const char *map,
                             const nft_key *key);
/* Sends the batch as one transaction and waits for every reply: the first error is the result,
 * with errno's code (-ENOENT for a missing table or chain, -EEXIST ...); what names the change
 * in the message. */
int nft_batch_send(nft_batch *b, const char *what, pr_error **err);

/* ---- reading back ---- */
struct nft_rule_info {
    char *chain;
    uint64_t handle;
    char *comment; /* NULL: none */
};
struct nft_rules {
    struct nft_rule_info *v;
    size_t n;
};
/* Every rule of table, in every chain; a table that does not exist has none. */
int nft_list_rules(int family, const char *table, struct nft_rules *out, pr_error **err);
void nft_rules_clear(struct nft_rules *l);

/* Serialises changes to one table between processes: a bound abstract unix socket, which
 * belongs to the network namespace (the ruleset's scope), leaves no file, and goes with a
 * process that dies holding it. Returns the fd to close, or a negative errno. */
int nft_lock(const char *name, pr_error **err);

#endif
