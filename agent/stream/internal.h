/* SPDX-License-Identifier: Apache-2.0 */
/* The streaming server's insides: the pure parts (WebSocket frames, the request head, the token
 * cache), which the unit tests and the fuzz target call directly, and the connection's thread. */
#ifndef PODRUN_STREAM_INTERNAL_H
#define PODRUN_STREAM_INTERNAL_H

#include "stream.h"

#include <pthread.h>
#include <zlib.h>

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

/* ---- spdy.c: SPDY/3.1 frames and header blocks ---- */
enum {
    SPDY_SYN_STREAM = 1,
    SPDY_SYN_REPLY = 2,
    SPDY_RST_STREAM = 3,
    SPDY_SETTINGS = 4,
    SPDY_PING = 6,
    SPDY_GOAWAY = 7,
    SPDY_HEADERS = 8,
    SPDY_WINDOW_UPDATE = 9,
};
#define SPDY_FLAG_FIN       0x01
#define SPDY_DICTIONARY_LEN 1423
extern const unsigned char spdy_dictionary[SPDY_DICTIONARY_LEN];
struct spdy_frame {
    bool control;
    uint16_t type; /* control frames */
    uint8_t flags;
    uint32_t stream; /* data frames, and the control frames that name one (0: none) */
    uint32_t len;
    const uint8_t *data; /* len bytes after the 8-byte header */
    size_t size;         /* header and data */
};
/* Parses the frame at the start of buf[0..n): 1, 0 when more bytes are needed, -EMSGSIZE for a
 * length over max (known from the header), -EPROTO for a version other than 3, a data frame on
 * stream 0, or a control frame shorter than its fixed part. Unknown control types parse (a
 * peer's are ignored). */
int spdy_parse(const uint8_t *buf, size_t n, size_t max, struct spdy_frame *f);
size_t spdy_control_header(uint8_t out[8], uint16_t type, uint8_t flags, uint32_t len);
size_t spdy_data_header(uint8_t out[8], uint32_t stream, uint8_t flags, uint32_t len);
/* A connection's two zlib streams: every header block the peer sends goes through in (in
 * order: the context is shared by all of them), every one we send through out. */
struct spdy_zlib {
    z_stream in, out;
    bool ready;
};
int spdy_zlib_init(struct spdy_zlib *z);
void spdy_zlib_end(struct spdy_zlib *z);
/* Inflates one header block; -EMSGSIZE when it inflates to more than max bytes (nothing more
 * is inflated past that), -EPROTO when it is not zlib's or not with SPDY/3's dictionary. */
int spdy_inflate(struct spdy_zlib *z, const uint8_t *in, size_t n, size_t max, uint8_t **out,
                 size_t *out_len);
int spdy_deflate(struct spdy_zlib *z, const uint8_t *in, size_t n, uint8_t **out, size_t *out_len);
/* The first value of header name (lowercase, as SPDY/3 sends them) in an inflated block, NULL
 * when absent; -EPROTO when the block is malformed (lengths past its end, trailing bytes, an
 * empty name). */
int spdy_header_get(const uint8_t *block, size_t len, const char *name, char **value);
/* An uncompressed block of n pairs kv[2i], kv[2i+1]. */
size_t spdy_header_block(const char *const *kv, size_t n, uint8_t **out);

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
/* Whether any header called name (it may be repeated) lists token. */
bool http_headers_have(const struct http_head *h, const char *name, const char *token);

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

/* ---- conn.c: one connection (its helpers are shared with spdyfwd.c) ---- */
/* Bytes queued to the client before the process's output is no longer read. */
#define OUT_MAX (256u << 10)
/* One read of a process's output or a pod's socket. */
#define CHUNK (32u << 10)
/* After the last bytes are queued, how long the client gets to read them. */
#define FLUSH_USEC (5ULL * 1000000ULL)

enum { CH_STDIN, CH_STDOUT, CH_STDERR, CH_ERROR, CH_RESIZE, CH_CLOSE = 255 };

struct conn {
    stream_server *s;
    int fd;
    uint8_t *in; /* bytes received and not yet parsed */
    size_t in_len, in_cap;
    uint8_t *out; /* bytes to send */
    size_t out_len, out_off;
    uint64_t last; /* the last time anything moved */
    struct ws_reader rd;
    bool v5, peer_closed, failed;
    /* SPDY/3.1 instead of WebSocket */
    bool spdy, spdy_setup;
    struct spdy_zlib z;
    uint32_t sid[CH_RESIZE + 1]; /* the stream of each channel, 0: none */
    unsigned nstreams;
    uint32_t last_stream;
    char *resize_buf; /* a resize stream's bytes up to a complete JSON object */
    size_t resize_len;
};

/* Streams one SPDY exec connection may open: it uses at most five. */
#define SPDY_STREAMS_MAX 8
/* A header block, inflated. */
#define SPDY_HEADERS_MAX (16u << 10)

void conn_queue(struct conn *c, const void *data, size_t n);
size_t out_pending(const struct conn *c);
/* Sends what the socket takes now; -1 when the client is gone. */
int conn_flush(struct conn *c);
/* Reads what the socket has (0 at EOF, -EAGAIN for nothing yet). */
ssize_t conn_read(struct conn *c);
/* poll()'s timeout for a deadline limit after c->last (0: passed). */
int poll_timeout(const struct conn *c, uint64_t limit);
/* Sends everything queued, giving up after limit without progress or when stopped. */
void conn_drain(struct conn *c, uint64_t limit);
void http_reply(struct conn *c, const char *status, const char *msg);
void set_nonblock(int fd);
void spdy_queue_control(struct conn *c, uint16_t type, uint8_t flags, const void *data, size_t n);
void spdy_queue_data(struct conn *c, uint32_t stream, uint8_t flags, const void *data, size_t n);
void spdy_queue_u32s(struct conn *c, uint16_t type, uint32_t a, uint32_t b);
void spdy_goaway(struct conn *c, uint32_t status);
int spdy_reply(struct conn *c, uint32_t stream);
/* GOAWAY with status, the connection marked failed; returns false (to end). */
bool spdy_fail(struct conn *c, uint32_t status);
void spdy_window_update(struct conn *c, uint32_t stream, uint32_t n);

/* spdyfwd.c: port-forward over SPDY (portforward.k8s.io), after the upgrade's 101. */
void serve_spdy_port_forward(struct conn *c, const struct stream_request *req);

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
