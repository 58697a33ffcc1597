/* SPDX-License-Identifier: Apache-2.0 */
/* The server's insides, shared by its files: the listening socket (listen.c), connections
 * speaking HTTP/2 (http2.c), the calls that run on worker threads (calls.c) and the loop
 * (server.c). Everything here but a call's handler runs on the event loop's thread. */
#ifndef PODRUN_CRI_SERVER_H
#define PODRUN_CRI_SERVER_H

#include "cri.h"
#include "methods.h"

#include <pthread.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

/* A connection's streams open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
#define CRI_MAX_STREAMS 128
/* Connections at once; one more is closed as soon as it is accepted. */
#define CRI_MAX_CONNS 256
/* Request bytes one connection, and all of them, may hold (buffered or in calls). */
#define CRI_CONN_BUFFER_MAX   (64u << 20)
#define CRI_SERVER_BUFFER_MAX (256u << 20)
/* Bytes of messages a streaming call (GetContainerEvents) may hold unsent for a peer that does
 * not read; past it the stream is reset. */
#define CRI_STREAM_QUEUE_MAX (1u << 20)
/* And all streaming calls together (up to 128 streams on each of 256 connections). */
#define CRI_SERVER_QUEUE_MAX (16u << 20)
/* Worker threads for calls that may wait (a pull, a lock). */
#define CRI_WORKERS 8

struct cri_conn;
struct cri_stream;

/* A call handed to a worker. The worker reads m, req and o and fills reply; everything else is
 * the loop's. st is NULL once the stream is gone (reset, timed out, connection closed): the
 * reply is then dropped. */
struct cri_call {
    const struct cri_method *m;
    uint8_t *req;
    size_t req_len;
    struct cri_reply reply;
    struct cri_stream *st;
    struct cri_call *next;
    int cancel_fd; /* an eventfd, for a cancellable method (0: none); the loop writes it */
};

struct cri_server {
    struct cri_options o;
    char *path; /* the socket we made, or NULL */
    dev_t dev;
    ino_t ino;
    int listen_fd;
    sd_event *ev;
    sd_event_source *accept_src, *done_src, *sig_term, *sig_int, *flush_timer;
    struct cri_conn *conns;
    unsigned nconns;
    size_t buffered;      /* request bytes held by every stream */
    size_t queued;        /* bytes of streaming calls' messages not yet handed to nghttp2 */
    unsigned subscribers; /* streaming calls open */
    bool draining, forced;

    /* Calls: queued for the workers, and done (for the loop, woken by done_fd). */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct cri_call *queue, *queue_tail, *done;
    pthread_t workers[CRI_WORKERS];
    unsigned nworkers, idle;
    bool stopping;
    int done_fd;
    unsigned inflight; /* calls queued or running */

    struct cri_events *events; /* events.c's */
};

/* listen.c */
int cri_listen(cri_server *s, pr_error **err);
void cri_unlisten(cri_server *s);

/* http2.c */
int cri_conn_new(cri_server *s, int fd);
void cri_conn_free(struct cri_conn *c);
/* Sends GOAWAY: the connection takes no new streams and closes when its streams are done. */
void cri_conn_drain(struct cri_conn *c);
/* A call came back for its stream. */
void cri_stream_done(struct cri_stream *st, struct cri_reply *reply);
/* Whether a connection still has something to send or a stream waiting for a call. */
bool cri_conn_busy(const struct cri_conn *c);
struct cri_conn *cri_conn_next(const struct cri_conn *c);
/* Queues a framed message on each of the connection's open streaming calls. */
void cri_conn_push(struct cri_conn *c, const uint8_t *framed, size_t len);

/* events.c: GetContainerEvents. The events of a call that changed a container, after it
 * succeeded (on the loop); and the watch on the shims' status for containers that exit. */
void cri_events_after_call(cri_server *s, const struct cri_call *c);
/* The internal call that adds an event's statuses on a worker (eventstatus.c's handler). */
extern const struct cri_method cri_event_method;
int cri_events_init(cri_server *s, pr_error **err);
void cri_events_free(cri_server *s);

/* calls.c */
int cri_calls_init(cri_server *s, pr_error **err);
void cri_calls_submit(cri_server *s, struct cri_call *call);
void cri_calls_stop(cri_server *s);

/* server.c: the loop ends when it is draining and nothing is left. */
void cri_server_check_drained(cri_server *s);
/* Adds the accept and signal sources; cri_server_run then runs the loop (the fuzz target runs
 * it a step at a time). */
int cri_server_start(cri_server *s, pr_error **err);

#endif
