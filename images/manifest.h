/* SPDX-License-Identifier: Apache-2.0 */
/* OCI and Docker schema 2 manifests and indexes (manifest lists): parsing, and picking the
 * host's platform out of an index. */
#ifndef PODRUN_IMAGES_MANIFEST_H
#define PODRUN_IMAGES_MANIFEST_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MT_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG      "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER       "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZ    "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZST   "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_V1       "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_V1S      "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define MANIFEST_ACCEPT                                                                            \
    MT_OCI_MANIFEST ", " MT_OCI_INDEX ", " MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST

/* Limits (DESIGN.md, "Limits"). 4 MiB is what the distribution spec asks registries to accept
 * for a manifest, and it also holds an OCI layout's index.json and an archive's manifest.json.
 * Docker refuses to build past 125 layers, and an overlay mount of more lower layers than
 * this does not fit its options in a page. */
#define MANIFEST_MAX_SIZE   (4u << 20)
#define MANIFEST_MAX_LAYERS 128
#define CONFIG_MAX_SIZE     (16u << 20)

typedef struct descriptor {
    char *media_type;
    char *digest;
    int64_t size;
    char *os, *arch, *variant; /* platform, in index entries */
    char *ref_name;            /* org.opencontainers.image.ref.name */
    char *image_name;          /* io.containerd.image.name */
} descriptor;

typedef struct manifest {
    bool is_index;
    char *media_type;
    descriptor config;
    descriptor *layers;
    size_t nlayers;
    descriptor *manifests; /* in an index */
    size_t nmanifests;
} manifest;

void descriptor_clear(descriptor *d);
void manifest_clear(manifest *m);
/* what names the source in errors ("manifest sha256:...", "index.json"). */
int manifest_parse(const char *text, const char *what, manifest *out, pr_error **err);
bool media_type_is_index(const char *mt);
/* The host's platform (linux/amd64 on x86-64). */
const char *host_arch(void);
bool descriptor_is_host(const descriptor *d);
/* The entry of an index for the host platform; an error listing those present if none. */
int index_pick_host(const manifest *idx, const char *what, pr_error **err);

#endif
