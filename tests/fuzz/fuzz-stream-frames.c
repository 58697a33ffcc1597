/* SPDX-License-Identifier: Apache-2.0 */
/* The streaming server's parsers (agent/stream): what a client sends after the WebSocket
 * handshake, and the request head before it. The first byte picks:
 *   even: the rest as the bytes a client sends, cut into reads of (second byte % 64 + 1)
 *         bytes and parsed as conn.c does (ws_parse over what has arrived, each frame through
 *         ws_reader_feed), with a frame limit of 4 KiB so that the limit paths are reached. A
 *         parsed frame must lie inside the bytes given, a message must not exceed the limit.
 *   odd:  the rest as a request head (http_parse_head, http_header, http_list_has). */
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
    if (data[0] % 2 == 0)
        frames(data + 1, size - 1);
    else
        head(data + 1, size - 1);
    return 0;
}
