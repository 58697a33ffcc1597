/* Pulling images from registries: the OCI distribution API v2 over libcurl, with the
 * containers-registries.conf(5) configuration podman and CRI-O read. */
#ifndef PODRUN_IMAGES_PULL_H
#define PODRUN_IMAGES_PULL_H

#include "error.h"
#include "store.h"

#include <stdbool.h>

struct pull_options {
    bool progress; /* a progress bar per layer (on a terminal) */
    bool quiet;
    int tls_verify; /* -1: from registries.conf; 0: plain HTTP / unverified TLS allowed */
    const char *registries_conf; /* NULL: $CONTAINERS_REGISTRIES_CONF or /etc/containers/... */
    const char *auth_file;       /* NULL: $REGISTRY_AUTH_FILE, XDG auth.json, docker config */
};

/* Pulls ref (a short name goes through aliases and unqualified-search-registries) and
 * records it under its fully qualified name. */
int images_pull(image_store *s, const char *ref, const struct pull_options *o, image_rec *out,
                pr_error **err);

#endif
