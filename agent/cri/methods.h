/* SPDX-License-Identifier: Apache-2.0 */
/* The CRI's methods: which are served, how a request is decoded, run and answered. A handler
 * gets the decoded request and fills a reply; it may run on a worker thread, so it touches only
 * its arguments and what it opens itself. */
#ifndef PODRUN_CRI_METHODS_H
#define PODRUN_CRI_METHODS_H

#include "agent/cri/api.pb-c.h"
#include "cri.h"
#include "error.h"
#include "grpc.h"

#include <protobuf-c/protobuf-c.h>

struct cri_reply {
    int code;      /* enum grpc_code */
    char *message; /* why, when code is not OK */
    uint8_t *body; /* the packed response message, when OK */
    size_t len;
};

typedef void (*cri_handler_fn)(const struct cri_options *o, const ProtobufCMessage *req,
                               struct cri_reply *out);

struct cri_method {
    const char *path; /* "/runtime.v1.RuntimeService/Version" */
    const ProtobufCMessageDescriptor *request;
    cri_handler_fn fn; /* NULL: a CRI method podrun does not implement yet (UNIMPLEMENTED) */
    bool on_loop;      /* quick and never waits (no lock, no I/O): runs on the event loop */
};

/* The method for an HTTP/2 :path, or NULL for one the CRI does not have. */
const struct cri_method *cri_method_find(const char *path);

/* Decodes the request message, runs the handler and packs its response; a response over
 * max_send bytes becomes RESOURCE_EXHAUSTED. */
void cri_method_call(const struct cri_method *m, const struct cri_options *o, const uint8_t *req,
                     size_t len, size_t max_send, struct cri_reply *out);

void cri_reply_ok(struct cri_reply *r, const ProtobufCMessage *resp);
void cri_reply_error(struct cri_reply *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* From a library's failure: the code its errno maps to, and its message. */
void cri_reply_failed(struct cri_reply *r, int rc, const pr_error *e, const char *what);
void cri_reply_clear(struct cri_reply *r);

/* runtime.c */
void cri_version(const struct cri_options *o, const ProtobufCMessage *req, struct cri_reply *out);
void cri_status(const struct cri_options *o, const ProtobufCMessage *req, struct cri_reply *out);
void cri_runtime_config(const struct cri_options *o, const ProtobufCMessage *req,
                        struct cri_reply *out);

/* image.c */
void cri_list_images(const struct cri_options *o, const ProtobufCMessage *req,
                     struct cri_reply *out);
void cri_image_status(const struct cri_options *o, const ProtobufCMessage *req,
                      struct cri_reply *out);
void cri_pull_image(const struct cri_options *o, const ProtobufCMessage *req,
                    struct cri_reply *out);
void cri_remove_image(const struct cri_options *o, const ProtobufCMessage *req,
                      struct cri_reply *out);
void cri_image_fs_info(const struct cri_options *o, const ProtobufCMessage *req,
                       struct cri_reply *out);

/* streaming.c: the calls answer a URL on the streaming server (agent/stream), and the backend
 * that server runs them with. */
struct stream_backend;
void cri_exec(const struct cri_options *o, const ProtobufCMessage *req, struct cri_reply *out);
void cri_attach(const struct cri_options *o, const ProtobufCMessage *req, struct cri_reply *out);
void cri_port_forward(const struct cri_options *o, const ProtobufCMessage *req,
                      struct cri_reply *out);
void cri_stream_backend(const struct cri_options *o, struct stream_backend *b);
/* attach.c: the backend's attach (data: the cri_options), and its relay over a connected
 * attach socket (taken, closed on failure), which unit tests drive with a socketpair. */
struct stream_request;
struct stream_proc;
int cri_backend_attach(void *data, const struct stream_request *req, struct stream_proc *out,
                       pr_error **err);
int cri_attach_relay(int sock, const char *name, const struct stream_request *req,
                     struct stream_proc *out, pr_error **err);

#endif
