/* SPDX-License-Identifier: Apache-2.0 */
/* podrun-fetch, the store's fetches in a child process (DESIGN.md §4, "the CRI server"): what
 * libimages-spawn.a (spawn.c) runs and the program (fetch.c) agree on.
 *
 *   podrun-fetch pull ROOT             the request, one JSON object, on standard input
 *   podrun-fetch unpack ROOT DIGEST    (a layer blob of the store at ROOT)
 *
 * The request of a pull is {"ref", "tls_verify", "registries_conf", "auth_file", "basic_auth",
 * "bearer_token", "progress"} (struct pull_options; credentials never go on a command line,
 * which /proc shows to every user). Standard output is one JSON object a line: progress
 * reports {"progress": EVENT, "blobs": [[DIGEST, HAVE, TOTAL, DONE, FAILED], ...]} while it
 * pulls (when asked), then the result, {"id": ID} or {"rc": -ERRNO, "errno": N, "error": MSG}
 * (the library's pr_error, kept as it was). A child that ends without a result failed. */
#ifndef PODRUN_IMAGES_FETCH_H
#define PODRUN_IMAGES_FETCH_H

#define FETCH_PROGRAM "podrun-fetch"
/* A pull's request (credentials are a few KiB) and a line of the child's output (an error
 * names every registry tried; a progress report every blob of a batch). */
#define FETCH_REQUEST_MAX ((size_t)1 << 20)
#define FETCH_LINE_MAX    ((size_t)1 << 20)

#endif
