/* SPDX-License-Identifier: Apache-2.0 */
/* podrun-fetch: one pull or one layer unpack of the image store, for a process that keeps
 * libcurl and libarchive out of its own address space (libimages-spawn.a, spawn.c). It lives
 * as long as its one request; the protocol is in fetch.h. */
#include "fetch.h"
#include "fs.h"
#include "images.h"
#include "json.h"
#include "log.h"
#include "store.h"
#include "unpack.h"
#include "util.h"

#include <stdio.h>

/* One JSON object on one line of standard output; a reader that went away ends the child. */
static void put_line(yajl_gen g)
{
    size_t len;
    const char *buf = jg_buf(g, &len);
    if (fwrite(buf, 1, len, stdout) != len || fputc('\n', stdout) == EOF || fflush(stdout) != 0)
        _exit(1);
}

static void progress(enum pull_progress_event ev, const struct pull_blob_progress *blobs, size_t n,
                     void *data)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_int(g, "progress", ev);
    jg_key(g, "blobs");
    jg_array_open(g);
    for (size_t i = 0; i < n; i++) {
        jg_array_open(g);
        jg_str(g, blobs[i].digest);
        yajl_gen_integer(g, blobs[i].have);
        yajl_gen_integer(g, blobs[i].total);
        yajl_gen_bool(g, blobs[i].done);
        yajl_gen_bool(g, blobs[i].failed);
        jg_array_close(g);
    }
    jg_array_close(g);
    jg_map_close(g);
    put_line(g);
}

static void result(int r, const char *id, const pr_error *e)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    if (r == 0) {
        jg_key_str(g, "id", id ? id : "");
    } else {
        jg_key_int(g, "rc", r);
        jg_key_int(g, "errno", e ? e->errnum : -r);
        jg_key_str(g, "error", e && e->msg ? e->msg : pr_strerror(-r));
    }
    jg_map_close(g);
    put_line(g);
}

/* A request's string, or NULL when absent or null. */
static const char *opt_str(yajl_val req, const char *key)
{
    yajl_val v = json_get(req, key);
    return YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
}

static int pull(image_store *s, char **id, pr_error **err)
{
    _cleanup_free_ char *text = NULL;
    _cleanup_json_ yajl_val req = NULL;
    int r = read_fd_max(STDIN_FILENO, "the pull request", FETCH_REQUEST_MAX, &text, NULL, err);
    if (r == 0)
        r = json_parse(text, "the pull request", &req, err);
    const char *ref = NULL;
    if (r == 0)
        r = json_get_str(req, "ref", "the pull request", &ref, err);
    if (r < 0)
        return r;
    yajl_val tls = json_get(req, "tls_verify"), prog = json_get(req, "progress");
    struct pull_options o = {
        .progress = YAJL_IS_TRUE(prog) ? progress : NULL,
        .tls_verify = YAJL_IS_INTEGER(tls) ? (int)YAJL_GET_INTEGER(tls) : -1,
        .registries_conf = opt_str(req, "registries_conf"),
        .auth_file = opt_str(req, "auth_file"),
        .basic_auth = opt_str(req, "basic_auth"),
        .bearer_token = opt_str(req, "bearer_token"),
    };
    return images_pull(s, ref, &o, id, err);
}

int main(int argc, char **argv)
{
    pr_log_init(NULL, false, false);
    bool is_pull = argc == 3 && streq(argv[1], "pull");
    bool is_unpack = argc == 4 && streq(argv[1], "unpack");
    if (!is_pull && !is_unpack) {
        fprintf(stderr, "usage: " FETCH_PROGRAM " pull ROOT < REQUEST\n"
                        "       " FETCH_PROGRAM " unpack ROOT DIGEST\n"
                        "(run by podrun's CRI server, not by people)\n");
        return 2;
    }
    _cleanup_error_ pr_error *e = NULL;
    _cleanup_images_ image_store *s = NULL;
    _cleanup_free_ char *id = NULL;
    int r = images_open(argv[2], false, &s, &e);
    if (r == 0)
        r = is_pull ? pull(s, &id, &e) : store_unpack_layer(s, argv[3], NULL, &e);
    result(r, id, e);
    return 0;
}
