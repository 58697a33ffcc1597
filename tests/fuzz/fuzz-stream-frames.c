/* SPDX-License-Identifier: Apache-2.0 */
/* The streaming server's parsers (agent/stream): what a client sends after the WebSocket or
 * SPDY handshake, and the request head before it. The first byte % 3 picks:
 *   0: the rest as the bytes a WebSocket client sends, cut into reads of (second byte % 64 + 1)
 *      bytes and parsed as conn.c does (ws_parse over what has arrived, each frame through
 *      ws_reader_feed), with a frame limit of 4 KiB so that the limit paths are reached. A
 *      parsed frame must lie inside the bytes given, a message must not exceed the limit.
 *   1: the rest as a request head (http_parse_head, http_header, http_list_has).
 *   2: the rest as a SPDY/3.1 client's bytes, cut the same way: spdy_parse, and each header
 *      block (SYN_STREAM, SYN_REPLY, HEADERS) through the connection's one zlib context
 *      (spdy_inflate, 4 KiB at most) and spdy_header_get. */
#include "agent/stream/internal.h"
#include "fuzz-common.h"
#include "util.h"

#define INPUT_MAX (64 * 1024)
#define LIMIT     4096

static void frames(const uint8_t *data, size_t size)
{
    if (!size)
        return;
    size_t chunk = data[0] % 64 + 1;
    data++;
    size--;
    _cleanup_free_ uint8_t *buf = xmalloc(size + 1);
    size_t have = 0, fed = 0;
    struct ws_reader r = {0};
    while (fed < size) {
        size_t n = MIN(chunk, size - fed);
        memcpy(buf + have, data + fed, n);
        have += n;
        fed += n;
        for (;;) {
            struct ws_frame f;
            int rc = ws_parse(buf, have, LIMIT, &f);
            if (rc == 0)
                break;
            if (rc < 0) {
                if (rc != -EPROTO && rc != -EMSGSIZE)
                    fuzz_fail("ws_parse: unexpected %d", rc);
                goto out;
            }
            if (f.size > have || f.payload < buf || f.payload + f.len > buf + have || f.len > LIMIT)
                fuzz_fail("a frame outside its bytes or over the limit");
            int e = ws_reader_feed(&r, &f, LIMIT);
            if (e < 0)
                goto out;
            if (r.len > LIMIT)
                fuzz_fail("a message of %zu bytes, over the limit", r.len);
            if (e == WS_MESSAGE) {
                r.len = 0;
                r.opcode = 0;
            }
            memmove(buf, buf + f.size, have - f.size);
            have -= f.size;
        }
    }
out:
    ws_reader_clear(&r);
}

static void spdy(const uint8_t *data, size_t size)
{
    if (!size)
        return;
    size_t chunk = data[0] % 64 + 1;
    data++;
    size--;
    _cleanup_free_ uint8_t *buf = xmalloc(size + 1);
    size_t have = 0, fed = 0;
    struct spdy_zlib z;
    if (spdy_zlib_init(&z) < 0)
        fuzz_fail("spdy_zlib_init");
    while (fed < size) {
        size_t n = MIN(chunk, size - fed);
        memcpy(buf + have, data + fed, n);
        have += n;
        fed += n;
        for (;;) {
            struct spdy_frame f;
            int rc = spdy_parse(buf, have, LIMIT, &f);
            if (rc == 0)
                break;
            if (rc < 0) {
                if (rc != -EPROTO && rc != -EMSGSIZE)
                    fuzz_fail("spdy_parse: unexpected %d", rc);
                goto out;
            }
            if (f.size > have || f.data + f.len > buf + have || f.len > LIMIT)
                fuzz_fail("a SPDY frame outside its bytes or over the limit");
            size_t skip = f.type == SPDY_SYN_STREAM ? 10 : 4;
            if (f.control &&
                (f.type == SPDY_SYN_STREAM || f.type == SPDY_SYN_REPLY || f.type == SPDY_HEADERS)) {
                uint8_t *block = NULL;
                size_t bl;
                int r = spdy_inflate(&z, f.data + skip, f.len - skip, LIMIT, &block, &bl);
                if (r < 0) {
                    if (block)
                        fuzz_fail("spdy_inflate failed but gave a block");
                    goto out;
                }
                if (bl > LIMIT)
                    fuzz_fail("an inflated block over the limit");
                char *v = NULL;
                spdy_header_get(block, bl, "streamtype", &v);
                free(v);
                free(block);
            }
            memmove(buf, buf + f.size, have - f.size);
            have -= f.size;
        }
    }
out:
    spdy_zlib_end(&z);
}

static void head(const uint8_t *data, size_t size)
{
    _cleanup_free_ char *s = fuzz_str(data, size);
    struct http_head h;
    if (http_parse_head(s, &h) < 0)
        return;
    if (!h.method || !h.target || h.n > HTTP_HEADERS_MAX)
        fuzz_fail("a parsed head without its request line");
    for (size_t i = 0; i < h.n; i++)
        if (!http_header(&h, h.h[i].name))
            fuzz_fail("header `%s` parsed but not found", h.h[i].name);
    http_list_has(http_header(&h, "Sec-WebSocket-Protocol"), "v4.channel.k8s.io");
    http_list_has(http_header(&h, "Connection"), "upgrade");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > INPUT_MAX)
        return -1;
    if (data[0] % 3 == 0)
        frames(data + 1, size - 1);
    else if (data[0] % 3 == 1)
        head(data + 1, size - 1);
    else
        spdy(data + 1, size - 1);
    return 0;
}
