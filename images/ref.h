/* SPDX-License-Identifier: Apache-2.0 */
/* Image references in docker's grammar: [DOMAIN/]PATH[:TAG][@DIGEST], normalized the way docker
 * and podman do (busybox -> docker.io/library/busybox:latest). */
#ifndef PODRUN_IMAGES_REF_H
#define PODRUN_IMAGES_REF_H

#include "error.h"

#include <stdbool.h>

typedef struct image_ref {
    char *domain; /* "docker.io", "127.0.0.1:5000"; NULL when the input had none */
    char *path;   /* "library/busybox" */
    char *tag;    /* NULL when only a digest was given */
    char *digest; /* NULL unless @sha256:... */
} image_ref;

/* Docker's limits: a name (domain/path, normalized) of at most 255 bytes, a tag of 128. */
#define IMAGE_REF_NAME_MAX 255
#define IMAGE_REF_TAG_MAX  128

void image_ref_clear(image_ref *r);
/* Parses s, refusing anything outside docker/distribution's reference grammar (see ref.c);
 * a reference with no domain keeps domain NULL (short name) until normalized. */
int image_ref_parse(const char *s, image_ref *out, pr_error **err);
/* Fills in docker.io, library/ and :latest. */
void image_ref_normalize(image_ref *r);
/* "domain/path:tag" or "domain/path@digest" (both when both are set). */
char *image_ref_string(const image_ref *r);
/* "domain/path" alone (the repository, as `images` lists it). */
char *image_ref_repository(const image_ref *r);
/* Parse + normalize + format in one. */
int image_ref_normalize_string(const char *s, char **out, pr_error **err);
bool image_ref_is_short(const char *s);

#endif
