/* SPDX-License-Identifier: Apache-2.0 */
/* SPDY/3.1 as kubectl, crictl and the kubelet's client speak it (their spdystream library):
 * frames, and header blocks compressed by one zlib stream per direction with SPDY/3's preset
 * dictionary. Written from the draft; every length is checked against what arrived and
 * against limits before anything is allocated from it. */
#include "internal.h"
#include "util.h"

#include <arpa/inet.h>

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

int spdy_parse(const uint8_t *buf, size_t n, size_t max, struct spdy_frame *f)
{
    if (n < 8)
        return 0;
    uint32_t len = (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7];
    *f = (struct spdy_frame){.flags = buf[4], .len = len, .data = buf + 8, .size = 8 + len};
    if (buf[0] & 0x80) {
        f->control = true;
        uint16_t version = (buf[0] & 0x7f) << 8 | buf[1];
        if (version != 3)
            return -EPROTO;
        f->type = buf[2] << 8 | buf[3];
    } else {
        f->stream = be32(buf) & 0x7fffffff;
        if (!f->stream)
            return -EPROTO;
    }
    if (len > max)
        return -EMSGSIZE;
    if (n - 8 < len)
        return 0;
    if (f->control) {
        /* The fixed part of each control frame the server reads. */
        static const uint32_t need[] = {
            [SPDY_SYN_STREAM] = 10, [SPDY_SYN_REPLY] = 4,    [SPDY_RST_STREAM] = 8,
            [SPDY_SETTINGS] = 4,    [SPDY_PING] = 4,         [SPDY_GOAWAY] = 8,
            [SPDY_HEADERS] = 4,     [SPDY_WINDOW_UPDATE] = 8};
        if (f->type < ARRAY_SIZE(need) && len < need[f->type])
            return -EPROTO;
        if (f->type == SPDY_SYN_STREAM || f->type == SPDY_SYN_REPLY || f->type == SPDY_RST_STREAM ||
            f->type == SPDY_HEADERS || f->type == SPDY_WINDOW_UPDATE) {
            f->stream = be32(f->data) & 0x7fffffff;
            if (!f->stream && f->type != SPDY_WINDOW_UPDATE)
                return -EPROTO;
        }
    }
    return 1;
}

size_t spdy_control_header(uint8_t out[8], uint16_t type, uint8_t flags, uint32_t len)
{
    out[0] = 0x80;
    out[1] = 3;
    out[2] = type >> 8;
    out[3] = type;
    put32(out + 4, len);
    out[4] = flags;
    return 8;
}

size_t spdy_data_header(uint8_t out[8], uint32_t stream, uint8_t flags, uint32_t len)
{
    put32(out, stream & 0x7fffffff);
    put32(out + 4, len);
    out[4] = flags;
    return 8;
}

int spdy_zlib_init(struct spdy_zlib *z)
{
    *z = (struct spdy_zlib){0};
    if (inflateInit(&z->in) != Z_OK)
        return -ENOMEM;
    if (deflateInit(&z->out, Z_DEFAULT_COMPRESSION) != Z_OK) {
        inflateEnd(&z->in);
        return -ENOMEM;
    }
    if (deflateSetDictionary(&z->out, spdy_dictionary, SPDY_DICTIONARY_LEN) != Z_OK) {
        spdy_zlib_end(z);
        return -EINVAL;
    }
    z->ready = true;
    return 0;
}

void spdy_zlib_end(struct spdy_zlib *z)
{
    if (!z->ready)
        return;
    inflateEnd(&z->in);
    deflateEnd(&z->out);
    z->ready = false;
}

int spdy_inflate(struct spdy_zlib *z, const uint8_t *in, size_t n, size_t max, uint8_t **out,
                 size_t *out_len)
{
    /* max + 1 bytes of room: inflating one byte past max says the block is over it. */
    _cleanup_free_ uint8_t *buf = xmalloc(max + 1);
    z->in.next_in = (Bytef *)in;
    z->in.avail_in = n;
    z->in.next_out = buf;
    z->in.avail_out = max + 1;
    while (z->in.avail_in) {
        int r = inflate(&z->in, Z_SYNC_FLUSH);
        if (r == Z_NEED_DICT) {
            if (inflateSetDictionary(&z->in, spdy_dictionary, SPDY_DICTIONARY_LEN) != Z_OK)
                return -EPROTO;
            continue;
        }
        if (r == Z_BUF_ERROR && !z->in.avail_out)
            return -EMSGSIZE;
        if (r != Z_OK)
            return -EPROTO; /* Z_STREAM_END included: the stream must go on */
        if (!z->in.avail_out)
            return -EMSGSIZE;
    }
    *out_len = max + 1 - z->in.avail_out;
    if (*out_len > max)
        return -EMSGSIZE;
    *out = steal_pointer(&buf);
    return 0;
}

int spdy_deflate(struct spdy_zlib *z, const uint8_t *in, size_t n, uint8_t **out, size_t *out_len)
{
    size_t cap = deflateBound(&z->out, n) + 64;
    uint8_t *buf = xmalloc(cap);
    z->out.next_in = (Bytef *)in;
    z->out.avail_in = n;
    z->out.next_out = buf;
    z->out.avail_out = cap;
    if (deflate(&z->out, Z_SYNC_FLUSH) != Z_OK || z->out.avail_in) {
        free(buf);
        return -EIO;
    }
    *out = buf;
    *out_len = cap - z->out.avail_out;
    return 0;
}

int spdy_header_get(const uint8_t *block, size_t len, const char *name, char **value)
{
    *value = NULL;
    if (len < 4)
        return -EPROTO;
    uint32_t pairs = be32(block);
    size_t off = 4;
    /* Each pair takes at least 8 bytes: a count past that is a lie. */
    if (pairs > (len - 4) / 8)
        return -EPROTO;
    for (uint32_t i = 0; i < pairs; i++) {
        uint32_t nl, vl;
        if (len - off < 4 || (nl = be32(block + off)) > len - off - 4)
            goto bad;
        const uint8_t *nm = block + off + 4;
        off += 4 + nl;
        if (len - off < 4 || (vl = be32(block + off)) > len - off - 4)
            goto bad;
        const uint8_t *v = block + off + 4;
        off += 4 + vl;
        if (!nl)
            goto bad;
        if (!*value && nl == strlen(name) && memcmp(nm, name, nl) == 0) {
            /* Several values are NUL-separated: the first is the one used. */
            size_t first = strnlen((const char *)v, vl);
            *value = xstrndup((const char *)v, first);
        }
    }
    if (off == len)
        return 0;
bad:
    /* nothing is handed out from a malformed block */
    free(*value);
    *value = NULL;
    return -EPROTO;
}

size_t spdy_header_block(const char *const *kv, size_t n, uint8_t **out)
{
    size_t len = 4;
    for (size_t i = 0; i < 2 * n; i++)
        len += 4 + strlen(kv[i]);
    uint8_t *b = xmalloc(len);
    put32(b, n);
    size_t off = 4;
    for (size_t i = 0; i < 2 * n; i++) {
        size_t l = strlen(kv[i]);
        put32(b + off, l);
        memcpy(b + off + 4, kv[i], l);
        off += 4 + l;
    }
    *out = b;
    return len;
}
