/* SPDX-License-Identifier: Apache-2.0 */
/* IPv4/IPv6 addresses and prefixes as plain values, with the arithmetic an allocator needs. */
#ifndef PODRUN_CNI_IPADDR_H
#define PODRUN_CNI_IPADDR_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct cni_ip {
    int family;    /* AF_INET or AF_INET6; 0 when unset */
    uint8_t b[16]; /* network order; IPv4 uses the first 4 bytes */
} cni_ip;

typedef struct cni_prefix {
    cni_ip ip;
    int plen;
} cni_prefix;

#define CNI_IP_STRLEN     INET6_ADDRSTRLEN
#define CNI_PREFIX_STRLEN (INET6_ADDRSTRLEN + 4)

static inline int cni_ip_len(const cni_ip *ip)
{
    return ip->family == AF_INET6 ? 16 : 4;
}

bool cni_ip_parse(const char *s, cni_ip *out);
/* "addr/len"; with allow_bare, a plain address is a host prefix (/32 or /128). */
bool cni_prefix_parse(const char *s, bool allow_bare, cni_prefix *out);
const char *cni_ip_fmt(const cni_ip *ip, char buf[CNI_IP_STRLEN]);
const char *cni_prefix_fmt(const cni_prefix *p, char buf[CNI_PREFIX_STRLEN]);

int cni_ip_cmp(const cni_ip *a, const cni_ip *b);
static inline bool cni_ip_eq(const cni_ip *a, const cni_ip *b)
{
    return cni_ip_cmp(a, b) == 0;
}
/* Adds delta (may be negative) in place; false on wrap-around. */
bool cni_ip_add(cni_ip *ip, int delta);
/* The network address (host bits cleared) and the last address of p. */
cni_ip cni_prefix_first(const cni_prefix *p);
cni_ip cni_prefix_last(const cni_prefix *p);
bool cni_prefix_contains(const cni_prefix *p, const cni_ip *ip);
bool cni_prefix_overlaps(const cni_prefix *a, const cni_prefix *b);
/* p with the host bits cleared. */
cni_prefix cni_prefix_masked(const cni_prefix *p);

#endif
