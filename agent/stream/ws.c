/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 6455 frames, written here rather than with libwebsockets: that library runs its own
 * service loop and callbacks (its foreign-loop glue knows libuv, libev and glib, not sd-event),
 * while a connection here is one thread blocking in poll() over the socket and the process's
 * fds; what the server needs of the protocol is a few hundred lines with its own limits. */
#include "internal.h"
#include "util.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

int ws_parse(uint8_t *buf, size_t n, size_t max, struct ws_frame *f)
{
    if (n < 2)
        return 0;
    uint8_t b0 = buf[0], b1 = buf[1];
    if (b0 & 0x70) /* RSV1-3: no extension was negotiated */
        return -EPROTO;
    if (!(b1 & 0x80)) /* a client masks every frame */
        return -EPROTO;
    uint8_t opcode = b0 & 0x0f;
    bool control = opcode & 0x08;
    if ((opcode > WS_BINARY && !control) || opcode > WS_PONG)
        return -EPROTO;
    uint64_t len = b1 & 0x7f;
    size_t hdr = 2;
    if (len == 126) {
        if (n < 4)
            return 0;
        len = (uint64_t)buf[2] << 8 | buf[3];
        hdr = 4;
    } else if (len == 127) {
        if (n < 10)
            return 0;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | buf[2 + i];
        hdr = 10;
    }
    if (control && (len > 125 || !(b0 & 0x80)))
        return -EPROTO;
    if (len > max)
        return -EMSGSIZE;
    if (n < hdr + 4)
        return 0;
    const uint8_t *mask = buf + hdr;
    hdr += 4;
    if (n - hdr < len)
        return 0;
    f->fin = b0 & 0x80;
    f->opcode = opcode;
    f->len = len;
    f->payload = buf + hdr;
    f->size = hdr + len;
    for (size_t i = 0; i < len; i++)
        f->payload[i] ^= mask[i & 3];
    return 1;
}

size_t ws_header(uint8_t out[10], uint8_t opcode, size_t len)
{
    out[0] = 0x80 | opcode;
    if (len < 126) {
        out[1] = len;
        return 2;
    }
    if (len <= 0xffff) {
        out[1] = 126;
        out[2] = len >> 8;
        out[3] = len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint64_t)len >> (56 - 8 * i);
    return 10;
}

void ws_accept_key(const char *key, char out[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    _cleanup_free_ char *s = xasprintf("%s%s", key, guid);
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)s, strlen(s), md);
    EVP_EncodeBlock((unsigned char *)out, md, sizeof(md));
}

int ws_reader_feed(struct ws_reader *r, const struct ws_frame *f, size_t max)
{
    if (f->opcode & 0x08)
        return WS_CONTROL;
    if (f->opcode == WS_CONT ? !r->opcode : r->opcode != 0)
        return -EPROTO; /* a continuation of nothing, or a new message inside one */
    if (f->len > max - r->len)
        return -EMSGSIZE;
    if (f->opcode != WS_CONT)
        r->opcode = f->opcode;
    if (f->len) {
        r->msg = xrealloc(r->msg, r->len + f->len);
        memcpy(r->msg + r->len, f->payload, f->len);
        r->len += f->len;
    }
    return f->fin ? WS_MESSAGE : WS_NONE;
}

void ws_reader_clear(struct ws_reader *r)
{
    free(r->msg);
    *r = (struct ws_reader){0};
}
