/* SPDX-License-Identifier: Apache-2.0 */
/* gRPC's wire rules over HTTP/2, without I/O: the length-prefixed message framing, status codes,
 * grpc-message's percent-encoding and grpc-timeout. The HTTP/2 session (http2.c) uses them; so
 * does the fuzz target, which feeds them what a peer could send. */
#ifndef PODRUN_CRI_GRPC_H
#define PODRUN_CRI_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum grpc_code {
    GRPC_OK = 0,
    GRPC_CANCELLED = 1,
    GRPC_UNKNOWN = 2,
    GRPC_INVALID_ARGUMENT = 3,
    GRPC_DEADLINE_EXCEEDED = 4,
    GRPC_NOT_FOUND = 5,
    GRPC_ALREADY_EXISTS = 6,
    GRPC_PERMISSION_DENIED = 7,
    GRPC_RESOURCE_EXHAUSTED = 8,
    GRPC_FAILED_PRECONDITION = 9,
    GRPC_ABORTED = 10,
    GRPC_OUT_OF_RANGE = 11,
    GRPC_UNIMPLEMENTED = 12,
    GRPC_INTERNAL = 13,
    GRPC_UNAVAILABLE = 14,
    GRPC_DATA_LOSS = 15,
    GRPC_UNAUTHENTICATED = 16,
};

/* A message's prefix: a compressed flag and a big-endian length. */
#define GRPC_PREFIX_LEN 5

/* One unary request's message as DATA frames bring it. The length is checked against max from
 * the prefix, before any of the message is buffered; the buffer (cap bytes) grows with the
 * bytes that came. */
struct grpc_reader {
    size_t max;
    uint8_t prefix[GRPC_PREFIX_LEN];
    size_t prefix_have;
    uint8_t *msg; /* NULL until bytes of the message come */
    size_t msg_len, msg_have, cap;
    bool complete; /* one whole message is in msg */
};

/* Takes the next bytes of the stream. 0, or a gRPC code (> 0) with *why when the peer broke a
 * rule: a compressed message (no encoding is accepted), a length over max, a second message on
 * a unary call. The reader is then of no further use. */
int grpc_reader_feed(struct grpc_reader *r, const uint8_t *data, size_t len, const char **why);
/* At the end of the request stream: 0 when exactly one whole message came. */
int grpc_reader_finish(const struct grpc_reader *r, const char **why);
void grpc_reader_clear(struct grpc_reader *r);

/* The message msg with its prefix, in a new buffer of len + GRPC_PREFIX_LEN bytes. */
uint8_t *grpc_frame(const uint8_t *msg, size_t len);

/* grpc-message's value: bytes outside printable ASCII, and '%', as %XX. */
char *grpc_percent_encode(const char *msg);

/* A grpc-timeout value (1 to 8 digits and a unit: H M S m u n) in microseconds, rounded up;
 * -1 when it is not one. */
int grpc_parse_timeout(const char *v, size_t len, uint64_t *usec);

/* The code for a library failure's errno (ENOENT: NOT_FOUND, ...). */
int grpc_code_from_errno(int errnum);

#endif
