/* SPDX-License-Identifier: Apache-2.0 */
#include "ipaddr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool cni_ip_parse(const char *s, cni_ip *out)
{
    cni_ip ip = {0};
    if (!s)
        return false;
    if (inet_pton(AF_INET, s, ip.b) == 1)
        ip.family = AF_INET;
    else if (inet_pton(AF_INET6, s, ip.b) == 1)
        ip.family = AF_INET6;
    else
        return false;
    *out = ip;
    return true;
}

bool cni_prefix_parse(const char *s, bool allow_bare, cni_prefix *out)
{
    char buf[CNI_PREFIX_STRLEN];
    if (!s || strlen(s) >= sizeof(buf))
        return false;
    strcpy(buf, s);
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    else if (!allow_bare)
        return false;
    cni_prefix p = {0};
    if (!cni_ip_parse(buf, &p.ip))
        return false;
    int max = cni_ip_len(&p.ip) * 8;
    if (slash) {
        char *end;
        long v = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || v < 0 || v > max)
            return false;
        p.plen = (int)v;
    } else {
        p.plen = max;
    }
    *out = p;
    return true;
}

const char *cni_ip_fmt(const cni_ip *ip, char buf[CNI_IP_STRLEN])
{
    if (!ip->family || !inet_ntop(ip->family, ip->b, buf, CNI_IP_STRLEN))
        strcpy(buf, "<none>");
    return buf;
}

const char *cni_prefix_fmt(const cni_prefix *p, char buf[CNI_PREFIX_STRLEN])
{
    char a[CNI_IP_STRLEN];
    snprintf(buf, CNI_PREFIX_STRLEN, "%s/%d", cni_ip_fmt(&p->ip, a), p->plen);
    return buf;
}

int cni_ip_cmp(const cni_ip *a, const cni_ip *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->b, b->b, cni_ip_len(a));
}

bool cni_ip_add(cni_ip *ip, int delta)
{
    int n = cni_ip_len(ip);
    while (delta > 0) {
        int i;
        for (i = n - 1; i >= 0 && ++ip->b[i] == 0; i--)
            ;
        if (i < 0)
            return false;
        delta--;
    }
    while (delta < 0) {
        int i;
        for (i = n - 1; i >= 0 && ip->b[i]-- == 0; i--)
            ;
        if (i < 0)
            return false;
        delta++;
    }
    return true;
}

static cni_ip with_host_bits(const cni_prefix *p, bool ones)
{
    cni_ip r = p->ip;
    int n = cni_ip_len(&r);
    for (int i = 0; i < n; i++) {
        int bits = p->plen - i * 8; /* network bits in this byte */
        uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
        r.b[i] = ones ? (r.b[i] | (uint8_t)~mask) : (r.b[i] & mask);
    }
    return r;
}

cni_ip cni_prefix_first(const cni_prefix *p)
{
    return with_host_bits(p, false);
}

cni_ip cni_prefix_last(const cni_prefix *p)
{
    return with_host_bits(p, true);
}

cni_prefix cni_prefix_masked(const cni_prefix *p)
{
    cni_prefix r = {.ip = cni_prefix_first(p), .plen = p->plen};
    return r;
}

bool cni_prefix_contains(const cni_prefix *p, const cni_ip *ip)
{
    if (p->ip.family != ip->family)
        return false;
    cni_prefix q = {.ip = *ip, .plen = p->plen};
    cni_ip a = cni_prefix_first(p), b = cni_prefix_first(&q);
    return cni_ip_eq(&a, &b);
}

bool cni_prefix_overlaps(const cni_prefix *a, const cni_prefix *b)
{
    return cni_prefix_contains(a, &b->ip) || cni_prefix_contains(b, &a->ip);
}
