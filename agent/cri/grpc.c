/* SPDX-License-Identifier: Apache-2.0 */
/* gRPC's framing and header values
 * (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md). */
#include "grpc.h"
#include "util.h"

#include <errno.h>

int grpc_reader_feed(struct grpc_reader *r, const uint8_t *data, size_t len, const char **why)
{
    while (len) {
        if (r->complete) {
            *why = "more than one request message on a unary call";
            return GRPC_UNIMPLEMENTED;
        }
        if (r->prefix_have < GRPC_PREFIX_LEN) {
            size_t n = MIN(len, GRPC_PREFIX_LEN - r->prefix_have);
            memcpy(r->prefix + r->prefix_have, data, n);
            r->prefix_have += n;
            data += n;
            len -= n;
            if (r->prefix_have < GRPC_PREFIX_LEN)
                return 0;
            if (r->prefix[0] != 0) {
                /* grpc-accept-encoding is identity: a client may not compress. */
                *why = r->prefix[0] == 1 ? "compressed messages are not accepted"
                                         : "a message prefix with an unknown flag";
                return r->prefix[0] == 1 ? GRPC_UNIMPLEMENTED : GRPC_INTERNAL;
            }
            r->msg_len = (size_t)r->prefix[1] << 24 | (size_t)r->prefix[2] << 16 |
                         (size_t)r->prefix[3] << 8 | r->prefix[4];
            if (r->msg_len > r->max) {
                *why = "the request message is larger than the server's limit";
                return GRPC_RESOURCE_EXHAUSTED;
            }
            r->msg_have = 0;
        }
        size_t n = MIN(len, r->msg_len - r->msg_have);
        if (r->msg_have + n > r->cap) {
            /* Grown as the bytes come, not from the prefix's word: a peer that announces
             * 16 MiB and sends 5 bytes holds 5 bytes. */
            size_t cap = MAX(r->cap * 2, (size_t)4096);
            cap = MIN(MAX(cap, r->msg_have + n), r->msg_len);
            r->msg = xrealloc(r->msg, cap);
            r->cap = cap;
        }
        if (n)
            memcpy(r->msg + r->msg_have, data, n);
        r->msg_have += n;
        data += n;
        len -= n;
        r->complete = r->msg_have == r->msg_len;
    }
    return 0;
}

int grpc_reader_finish(const struct grpc_reader *r, const char **why)
{
    if (r->complete)
        return 0;
    *why = r->prefix_have ? "the request ended inside a message" : "the request has no message";
    return r->prefix_have ? GRPC_INTERNAL : GRPC_UNIMPLEMENTED;
}

void grpc_reader_clear(struct grpc_reader *r)
{
    free(r->msg);
    size_t max = r->max;
    memset(r, 0, sizeof(*r));
    r->max = max;
}

uint8_t *grpc_frame(const uint8_t *msg, size_t len)
{
    uint8_t *b = xmalloc(len + GRPC_PREFIX_LEN);
    b[0] = 0;
    b[1] = (uint8_t)(len >> 24);
    b[2] = (uint8_t)(len >> 16);
    b[3] = (uint8_t)(len >> 8);
    b[4] = (uint8_t)len;
    if (len)
        memcpy(b + GRPC_PREFIX_LEN, msg, len);
    return b;
}

char *grpc_percent_encode(const char *msg)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(msg);
    char *out = xmalloc(n * 3 + 1), *o = out;
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        if (*p >= 0x20 && *p <= 0x7e && *p != '%') {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = 0;
    return out;
}

int grpc_parse_timeout(const char *v, size_t len, uint64_t *usec)
{
    if (len < 2 || len > 9)
        return -1;
    uint64_t n = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        n = n * 10 + (uint64_t)(v[i] - '0');
    }
    /* 8 digits of hours stay far below 2^64 microseconds. */
    switch (v[len - 1]) {
    case 'H':
        *usec = n * 3600 * 1000000;
        return 0;
    case 'M':
        *usec = n * 60 * 1000000;
        return 0;
    case 'S':
        *usec = n * 1000000;
        return 0;
    case 'm':
        *usec = n * 1000;
        return 0;
    case 'u':
        *usec = n;
        return 0;
    case 'n':
        *usec = (n + 999) / 1000;
        return 0;
    }
    return -1;
}

int grpc_code_from_errno(int errnum)
{
    switch (errnum) {
    case ENOENT:
        return GRPC_NOT_FOUND;
    case EINVAL:
        return GRPC_INVALID_ARGUMENT;
    case EEXIST:
        return GRPC_ALREADY_EXISTS;
    case EACCES:
    case EPERM:
        return GRPC_PERMISSION_DENIED;
    case EBUSY:
        return GRPC_FAILED_PRECONDITION;
    case EFBIG:
    case E2BIG:
    case ENOSPC:
        return GRPC_RESOURCE_EXHAUSTED;
    case ETIMEDOUT:
        return GRPC_DEADLINE_EXCEEDED;
    case ENOSYS:
    case EOPNOTSUPP:
        return GRPC_UNIMPLEMENTED;
    }
    return GRPC_UNKNOWN;
}
