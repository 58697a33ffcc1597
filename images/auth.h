/* SPDX-License-Identifier: Apache-2.0 */
/* Registry credentials from the files podman and docker write: "auths" maps a registry host
 * to base64 "user:password". */
#ifndef PODRUN_IMAGES_AUTH_H
#define PODRUN_IMAGES_AUTH_H

#include "error.h"

/* The base64 "user:password" for host, or NULL. path NULL: $REGISTRY_AUTH_FILE, then
 * $XDG_RUNTIME_DIR/containers/auth.json, ~/.config/containers/auth.json, ~/.docker/config.json
 * (the first that has an entry for host). */
char *auth_lookup(const char *path, const char *host);

#endif
