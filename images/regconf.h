/* SPDX-License-Identifier: Apache-2.0 */
/* containers-registries.conf(5), version 2, the subset podrun uses: [[registry]] with prefix,
 * location, insecure, blocked and [[registry.mirror]] (location, insecure);
 * unqualified-search-registries; and [aliases] for short names. */
#ifndef PODRUN_IMAGES_REGCONF_H
#define PODRUN_IMAGES_REGCONF_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct reg_endpoint {
    char *location; /* host[:port][/path] */
    bool insecure;
} reg_endpoint;

typedef struct reg_entry {
    char *prefix;
    reg_endpoint main;
    bool blocked;
    reg_endpoint *mirrors;
    size_t nmirrors;
} reg_entry;

typedef struct reg_conf {
    char **search;
    reg_entry *regs;
    size_t nregs;
    char **alias_names, **alias_targets;
} reg_conf;

/* path NULL: $CONTAINERS_REGISTRIES_CONF, else /etc/containers/registries.conf; a missing
 * default file is an empty configuration. */
int reg_conf_load(const char *path, reg_conf *out, pr_error **err);
int reg_conf_parse(const char *text, const char *what, reg_conf *out, pr_error **err);
void reg_conf_clear(reg_conf *c);
/* The [[registry]] whose prefix matches name (domain/path) best, or NULL. */
const reg_entry *reg_conf_match(const reg_conf *c, const char *name);
const char *reg_conf_alias(const reg_conf *c, const char *short_name);
/* localhost and loopback addresses are insecure without being configured so. */
bool host_is_local(const char *location);

#endif
