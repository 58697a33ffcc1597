/* SPDX-License-Identifier: Apache-2.0 */
/* Pulling images from registries: the OCI distribution API v2 over libcurl, with the
 * containers-registries.conf(5) configuration podman and CRI-O read. */
#ifndef PODRUN_IMAGES_PULL_H
#define PODRUN_IMAGES_PULL_H

#include "error.h"
#include "store.h"

#include <stdbool.h>
#include <stdint.h>

/* One blob being copied, as the progress callback sees it. */
struct pull_blob_progress {
    const char *digest;
    int64_t have, total; /* bytes stored so far, and the descriptor's size */
    bool done, failed;
};
enum pull_progress_event {
    PULL_PROGRESS_START,  /* a batch of blobs starts (the config, then the missing layers) */
    PULL_PROGRESS_UPDATE, /* some bytes moved or a blob finished; at most every 100 ms */
    PULL_PROGRESS_END,    /* the batch is over: every blob is done or failed */
};
/* The library draws nothing (DESIGN.md, "Libraries are quiet"): a caller that wants progress
 * gets every blob of the batch on each event, and shows it as it likes. */
typedef void (*pull_progress_fn)(enum pull_progress_event ev,
                                 const struct pull_blob_progress *blobs, size_t n, void *userdata);

struct pull_options {
    pull_progress_fn progress; /* NULL: no progress reports */
    void *progress_data;
    bool quiet;
    int tls_verify; /* -1: from registries.conf; 0: plain HTTP / unverified TLS allowed */
    const char *registries_conf; /* NULL: $CONTAINERS_REGISTRIES_CONF or /etc/containers/... */
    const char *auth_file;       /* NULL: $REGISTRY_AUTH_FILE, XDG auth.json, docker config */
    /* Credentials a caller was given for this pull (a CRI AuthConfig), used instead of the auth
     * file's: base64 "user:password" for basic auth and a token server, and a registry token
     * sent as a bearer token from the first request. NULL: none. */
    const char *basic_auth;
    const char *bearer_token;
};

/* Pulls ref (a short name goes through aliases and unqualified-search-registries) and
 * records it under its fully qualified name. */
int images_pull(image_store *s, const char *ref, const struct pull_options *o, image_rec *out,
                pr_error **err);

#endif
