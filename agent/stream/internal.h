/* SPDX-License-Identifier: Apache-2.0 */
/* The streaming server's insides: the pure parts (WebSocket frames, the request head, the token
 * cache), which the unit tests and the fuzz target call directly, and the connection's thread. */
#ifndef PODRUN_STREAM_INTERNAL_H
#define PODRUN_STREAM_INTERNAL_H

#include "stream.h"

#include <pthread.h>

/* ---- ws.c: RFC 6455 frames ---- */
enum {
    WS_CONT = 0x0,
    WS_TEXT = 0x1,
    WS_BINARY = 0x2,
    WS_CLOSE = 0x8,
    WS_PING = 0x9,
    WS_PONG = 0xa,
};
struct ws_frame {
    bool fin;
    uint8_t opcode;
    size_t len;       /* payload bytes */
    uint8_t *payload; /* inside the buffer given to ws_parse, unmasked in place */
    size_t size;      /* header and payload: what to drop from the buffer */
};
/* Parses the frame at the start of buf[0..n). Returns 1 with f filled (its payload unmasked in
 * place), 0 when more bytes are needed, -EMSGSIZE for a payload over max (known from the
 * header, before the payload arrives), -EPROTO for a frame a server must refuse (unmasked,
 * reserved bits or opcodes, a control frame fragmented or over 125 bytes). */
int ws_parse(uint8_t *buf, size_t n, size_t max, struct ws_frame *f);
/* Writes a server frame's header (FIN set, no mask) for a payload of len bytes into out and
 * returns its size (at most 10). */
size_t ws_header(uint8_t out[10], uint8_t opcode, size_t len);
/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key GUID)), 28 characters. */
void ws_accept_key(const char *key, char out[29]);

/* A message is put back together from its frames up to max bytes. */
struct ws_reader {
    uint8_t *msg;
    size_t len;
    uint8_t opcode; /* of the message being assembled; 0: none */
};
enum ws_event { WS_NONE, WS_MESSAGE, WS_CONTROL };
/* Feeds one parsed frame: WS_MESSAGE when a data message is complete (r->msg, r->len,
 * r->opcode; the caller resets r->len and r->opcode after using it), WS_CONTROL for a control
 * frame (f itself), WS_NONE for a fragment kept; -EPROTO or -EMSGSIZE as ws_parse. */
int ws_reader_feed(struct ws_reader *r, const struct ws_frame *f, size_t max);
void ws_reader_clear(struct ws_reader *r);

/* ---- http.c: a request head ---- */
#define HTTP_HEADERS_MAX 64
struct http_head {
    char *method, *target; /* target: path and query, as sent */
    size_t n;
    struct {
        char *name, *value;
    } h[HTTP_HEADERS_MAX];
};
/* Parses the NUL-terminated head in buf (up to, not including, the empty line), in place.
 * -EPROTO: not an HTTP/1.1 request head, or more than HTTP_HEADERS_MAX headers. */
int http_parse_head(char *buf, struct http_head *h);
/* The value of the header (case-insensitive name), NULL when absent. */
const char *http_header(const struct http_head *h, const char *name);
/* Whether the comma-separated list value holds token (case-insensitive). */
bool http_list_has(const char *value, const char *token);

/* ---- tokens.c: single-use, expiring, bounded ---- */
#define STREAM_TOKEN_LEN 32 /* hex characters: 128 random bits */
struct stream_token;
struct stream_tokens {
    pthread_mutex_t lock;
    struct stream_token *v;
    size_t n;
};
void stream_tokens_init(struct stream_tokens *t);
void stream_tokens_clear(struct stream_tokens *t);
/* Keeps a copy of req under a new token valid until now + STREAM_TOKEN_TTL_USEC. -EAGAIN when
 * STREAM_TOKENS_MAX unexpired ones are waiting. */
int stream_tokens_add(struct stream_tokens *t, const struct stream_request *req, uint64_t now,
                      char id[STREAM_TOKEN_LEN + 1]);
/* Takes the request of an unexpired token (it cannot be used again). -ENOENT: unknown, used or
 * expired. */
int stream_tokens_take(struct stream_tokens *t, const char *id, uint64_t now,
                       struct stream_request *out);
void stream_request_copy(struct stream_request *dst, const struct stream_request *src);

/* ---- the server ---- */
struct stream_server {
    struct stream_options o;
    int listen_fd, stop_fd;
    char address[80];
    pthread_t acceptor;
    bool acceptor_started;
    struct stream_tokens tokens;
    pthread_mutex_t lock;
    pthread_cond_t gone; /* signalled when a connection ends */
    unsigned nconns;
};

uint64_t stream_now_usec(void);
/* conn.c: serves one accepted connection on its own thread; it ends the connection. */
void *stream_conn_main(void *arg);
struct stream_conn_arg {
    stream_server *s;
    int fd;
};

#endif
