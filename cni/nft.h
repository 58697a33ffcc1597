/* SPDX-License-Identifier: Apache-2.0 */
/* ipMasq through nftables (libnftnl): one masquerade rule per pod address in table
 * `ip podrun_cni` / `ip6 podrun_cni`, chain `postrouting` (nat, srcnat priority), each rule
 * tagged with a comment "podrun:NETWORK:CONTAINERID:IFNAME" so DEL and GC find their own. The
 * table goes away with its last rule. */
#ifndef PODRUN_CNI_NFT_H
#define PODRUN_CNI_NFT_H

#include "error.h"
#include "ipaddr.h"

#include <stdbool.h>

#define NFT_TABLE "podrun_cni"
#define NFT_CHAIN "postrouting"

/* Masquerade traffic from src to anything outside `exclude` (the pod or cluster range). */
int nft_masq_add(const char *tag, const cni_ip *src, const cni_prefix *exclude, pr_error **err);
/* Deletes every rule whose tag is `tag`, or, with keep != NULL, every rule of network `net`
 * whose tag keep() rejects (GC). */
int nft_masq_del(const char *tag, pr_error **err);
int nft_masq_gc(const char *net, bool (*keep)(const char *tag, void *data), void *data,
                pr_error **err);
char *nft_masq_tag(const char *net, const char *id, const char *ifname);

#endif
