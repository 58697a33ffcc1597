/* SPDX-License-Identifier: Apache-2.0 */
/* The streaming server's pure parts without a socket: RFC 6455 frames and messages
 * (agent/stream/ws.c), SPDY/3.1 frames and zlib header blocks (spdy.c), the request head
 * (http.c) and the token cache (tokens.c). */
#include "agent/stream/internal.h"
#include "tests/lib/unit.h"
#include "util.h"

/* A client frame: masked with a fixed key. */
static size_t client_frame(uint8_t *out, uint8_t b0, const void *payload, size_t len)
{
    static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    size_t h = 0;
    out[h++] = b0;
    if (len < 126) {
        out[h++] = 0x80 | len;
    } else if (len <= 0xffff) {
        out[h++] = 0x80 | 126;
        out[h++] = len >> 8;
        out[h++] = len;
    } else {
        out[h++] = 0x80 | 127;
        for (int i = 0; i < 8; i++)
            out[h++] = (uint64_t)len >> (56 - 8 * i);
    }
    memcpy(out + h, key, 4);
    h += 4;
    for (size_t i = 0; i < len; i++)
        out[h + i] = ((const uint8_t *)payload)[i] ^ key[i & 3];
    return h + len;
}

static void test_rfc6455_example_accept_key(void)
{
    /* RFC 6455 §1.3's example. */
    char out[29];
    ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out);
    CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void test_frame_parses_only_when_whole(void)
{
    uint8_t buf[64];
    size_t n = client_frame(buf, 0x82, "\x01hello", 6);
    struct ws_frame f;
    for (size_t k = 0; k < n; k++)
        CHECK(ws_parse(buf, k, 1024, &f) == 0);
    CHECK(ws_parse(buf, n, 1024, &f) == 1);
    CHECK(f.fin && f.opcode == WS_BINARY && f.len == 6 && f.size == n);
    CHECK(memcmp(f.payload, "\x01hello", 6) == 0);
}

static void test_frame_lengths_16_and_64_bits(void)
{
    size_t sizes[] = {125, 126, 65535, 65536};
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        uint8_t *payload = xcalloc(1, sizes[i]), *buf = xmalloc(sizes[i] + 14);
        payload[sizes[i] - 1] = 'z';
        size_t n = client_frame(buf, 0x82, payload, sizes[i]);
        struct ws_frame f;
        CHECK(ws_parse(buf, n, 1 << 20, &f) == 1);
        CHECK(f.len == sizes[i] && f.payload[sizes[i] - 1] == 'z');
        free(payload);
        free(buf);
    }
}

static void test_frame_refusals(void)
{
    uint8_t buf[300];
    struct ws_frame f;
    /* over the limit: known from the header alone */
    uint8_t big[10] = {0x82, 0x80 | 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    CHECK(ws_parse(big, sizeof(big), 1 << 20, &f) == -EMSGSIZE);
    size_t n = client_frame(buf, 0x82, "abcdef", 6);
    CHECK(ws_parse(buf, n, 5, &f) == -EMSGSIZE);
    /* unmasked */
    uint8_t plain[] = {0x82, 0x01, 'x'};
    CHECK(ws_parse(plain, sizeof(plain), 1024, &f) == -EPROTO);
    /* reserved bits, reserved opcodes */
    n = client_frame(buf, 0xc2, "x", 1);
    CHECK(ws_parse(buf, n, 1024, &f) == -EPROTO);
    n = client_frame(buf, 0x83, "x", 1);
    CHECK(ws_parse(buf, n, 1024, &f) == -EPROTO);
    n = client_frame(buf, 0x8b, "x", 1);
    CHECK(ws_parse(buf, n, 1024, &f) == -EPROTO);
    /* a fragmented or long control frame */
    n = client_frame(buf, 0x09, "x", 1);
    CHECK(ws_parse(buf, n, 1024, &f) == -EPROTO);
    uint8_t pay[126] = {0};
    n = client_frame(buf, 0x89, pay, sizeof(pay));
    CHECK(ws_parse(buf, n, 1024, &f) == -EPROTO);
}

static void test_server_header(void)
{
    uint8_t h[10];
    CHECK(ws_header(h, WS_BINARY, 5) == 2 && h[0] == 0x82 && h[1] == 5);
    CHECK(ws_header(h, WS_BINARY, 300) == 4 && h[1] == 126 && h[2] == 1 && h[3] == 44);
    CHECK(ws_header(h, WS_CLOSE, 70000) == 10 && h[0] == 0x88 && h[1] == 127 && h[7] == 1 &&
          h[8] == 0x11 && h[9] == 0x70);
}

static void test_messages_from_fragments(void)
{
    struct ws_reader r = {0};
    uint8_t buf[64];
    struct ws_frame f;
    size_t n = client_frame(buf, 0x02,
                            "\x00"
                            "ab",
                            3); /* binary, not final */
    CHECK(ws_parse(buf, n, 100, &f) == 1);
    CHECK(ws_reader_feed(&r, &f, 100) == WS_NONE);
    n = client_frame(buf, 0x89, "p", 1); /* a ping in between */
    CHECK(ws_parse(buf, n, 100, &f) == 1);
    CHECK(ws_reader_feed(&r, &f, 100) == WS_CONTROL);
    n = client_frame(buf, 0x80, "cd", 2); /* the final continuation */
    CHECK(ws_parse(buf, n, 100, &f) == 1);
    CHECK(ws_reader_feed(&r, &f, 100) == WS_MESSAGE);
    CHECK(r.len == 5 &&
          memcmp(r.msg,
                 "\x00"
                 "abcd",
                 5) == 0 &&
          r.opcode == WS_BINARY);
    r.len = 0;
    r.opcode = 0;
    /* a continuation of nothing; a new message inside one; a message over the limit */
    n = client_frame(buf, 0x80, "x", 1);
    CHECK(ws_parse(buf, n, 100, &f) == 1);
    CHECK(ws_reader_feed(&r, &f, 100) == -EPROTO);
    n = client_frame(buf, 0x02, "x", 1);
    CHECK(ws_parse(buf, n, 100, &f) == 1);
    CHECK(ws_reader_feed(&r, &f, 100) == WS_NONE);
    n = client_frame(buf, 0x82, "x", 1);
    CHECK(ws_parse(buf, n, 100, &f) == 1);
    CHECK(ws_reader_feed(&r, &f, 100) == -EPROTO);
    n = client_frame(buf, 0x00, "yyyy", 4);
    CHECK(ws_parse(buf, n, 100, &f) == 1);
    CHECK(ws_reader_feed(&r, &f, 4) == -EMSGSIZE);
    ws_reader_clear(&r);
}

static void test_http_head(void)
{
    char buf[] = "GET /exec/abc?port=1 HTTP/1.1\r\nHost: x\r\nUpgrade:  websocket \r\n"
                 "Connection: keep-alive, Upgrade\r\n";
    struct http_head h;
    CHECK(http_parse_head(buf, &h) == 0);
    CHECK_STR(h.method, "GET");
    CHECK_STR(h.target, "/exec/abc?port=1");
    CHECK_STR(http_header(&h, "upgrade"), "websocket");
    CHECK(http_header(&h, "Sec-WebSocket-Key") == NULL);
    CHECK(http_list_has(http_header(&h, "connection"), "upgrade"));
    CHECK(!http_list_has(http_header(&h, "connection"), "keep"));
    CHECK(http_list_has("v5.channel.k8s.io, v4.channel.k8s.io", "v4.channel.k8s.io"));
    CHECK(!http_list_has("v4.channel.k8s.iox", "v4.channel.k8s.io"));
    char *bad[] = {"GET /x HTTP/1.0\r\n",
                   "GET x HTTP/1.1\r\n",
                   "GET  /x HTTP/1.1\r\n",
                   "GET /x HTTP/1.1\r\nNoColon\r\n",
                   "GET /x HTTP/1.1\r\nBad Name: v\r\n",
                   ""};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char *copy = xstrdup(bad[i]);
        CHECK(http_parse_head(copy, &h) == -EPROTO);
        free(copy);
    }
    /* more headers than the limit */
    char *many = xstrdup("GET /x HTTP/1.1\r\n");
    for (int i = 0; i <= HTTP_HEADERS_MAX; i++) {
        char *more = xasprintf("%sH%d: v\r\n", many, i);
        free(many);
        many = more;
    }
    CHECK(http_parse_head(many, &h) == -EPROTO);
    free(many);
}

static void test_tokens_single_use_expiring_bounded(void)
{
    struct stream_tokens t;
    stream_tokens_init(&t);
    char *cmd[] = {"echo", "hi", NULL};
    uint16_t ports[] = {80};
    struct stream_request req = {.kind = STREAM_EXEC,
                                 .target = "c1",
                                 .command = cmd,
                                 .ports = ports,
                                 .n_ports = 1,
                                 .in = true};
    char a[STREAM_TOKEN_LEN + 1], b[STREAM_TOKEN_LEN + 1];
    CHECK(stream_tokens_add(&t, &req, 1000, a) == 0);
    CHECK(stream_tokens_add(&t, &req, 1000, b) == 0);
    CHECK(strlen(a) == STREAM_TOKEN_LEN && !streq(a, b));
    struct stream_request got = {0};
    CHECK(stream_tokens_take(&t, a, 2000, &got) == 0);
    CHECK_STR(got.target, "c1");
    CHECK_STR(got.command[1], "hi");
    CHECK(got.in && got.n_ports == 1 && got.ports[0] == 80);
    stream_request_clear(&got);
    CHECK(stream_tokens_take(&t, a, 2000, &got) == -ENOENT);                         /* used */
    CHECK(stream_tokens_take(&t, b, 1000 + STREAM_TOKEN_TTL_USEC, &got) == -ENOENT); /* expired */
    CHECK(t.n == 0);
    for (int i = 0; i < STREAM_TOKENS_MAX; i++)
        CHECK(stream_tokens_add(&t, &req, 5000, a) == 0);
    CHECK(stream_tokens_add(&t, &req, 5000, a) == -EAGAIN);
    /* expired ones make room */
    CHECK(stream_tokens_add(&t, &req, 5000 + STREAM_TOKEN_TTL_USEC, a) == 0);
    CHECK(t.n == 1);
    stream_tokens_clear(&t);
}

/* A client's compressed header block, through a zlib stream of its own with the dictionary. */
static size_t client_block(z_stream *z, const uint8_t *raw, size_t n, uint8_t *out, size_t cap)
{
    z->next_in = (Bytef *)raw;
    z->avail_in = n;
    z->next_out = out;
    z->avail_out = cap;
    CHECK(deflate(z, Z_SYNC_FLUSH) == Z_OK);
    return cap - z->avail_out;
}

static void test_spdy_dictionary(void)
{
    /* The spec's dictionary: 1423 bytes, from "\0\0\0\7options" to ",enq=0." */
    CHECK(memcmp(spdy_dictionary, "\0\0\0\7options\0\0\0\4head", 19) == 0);
    CHECK(memcmp(spdy_dictionary + SPDY_DICTIONARY_LEN - 7, ",enq=0.", 7) == 0);
}

static void test_spdy_headers_round_trip(void)
{
    struct spdy_zlib server;
    CHECK(spdy_zlib_init(&server) == 0);
    z_stream client = {0};
    CHECK(deflateInit(&client, Z_DEFAULT_COMPRESSION) == Z_OK);
    CHECK(deflateSetDictionary(&client, spdy_dictionary, SPDY_DICTIONARY_LEN) == Z_OK);
    /* Two blocks on the same stream: the second depends on the first's context. */
    for (int i = 0; i < 2; i++) {
        const char *kv[] = {"streamtype", i ? "stdout" : "error", "port", "80"};
        uint8_t *raw, z[512], *got;
        size_t n = spdy_header_block(kv, 2, &raw), gl;
        size_t zn = client_block(&client, raw, n, z, sizeof(z));
        CHECK(spdy_inflate(&server, z, zn, 4096, &got, &gl) == 0);
        CHECK(gl == n && memcmp(got, raw, n) == 0);
        char *v;
        CHECK(spdy_header_get(got, gl, "streamtype", &v) == 0);
        CHECK_STR(v, i ? "stdout" : "error");
        free(v);
        CHECK(spdy_header_get(got, gl, "nope", &v) == 0 && v == NULL);
        free(raw);
        free(got);
    }
    /* The server's own blocks inflate with the dictionary on the other side. */
    uint8_t *raw, *z;
    size_t n = spdy_header_block(NULL, 0, &raw), zn;
    CHECK(spdy_deflate(&server, raw, n, &z, &zn) == 0);
    z_stream in = {0};
    CHECK(inflateInit(&in) == Z_OK);
    uint8_t out[64];
    in.next_in = z;
    in.avail_in = zn;
    in.next_out = out;
    in.avail_out = sizeof(out);
    CHECK(inflate(&in, Z_SYNC_FLUSH) == Z_NEED_DICT);
    CHECK(inflateSetDictionary(&in, spdy_dictionary, SPDY_DICTIONARY_LEN) == Z_OK);
    CHECK(inflate(&in, Z_SYNC_FLUSH) == Z_OK);
    CHECK(sizeof(out) - in.avail_out == 4 && memcmp(out, "\0\0\0\0", 4) == 0);
    inflateEnd(&in);
    free(raw);
    free(z);
    deflateEnd(&client);
    spdy_zlib_end(&server);
}

static void test_spdy_header_limits(void)
{
    struct spdy_zlib server;
    CHECK(spdy_zlib_init(&server) == 0);
    z_stream client = {0};
    CHECK(deflateInit(&client, Z_DEFAULT_COMPRESSION) == Z_OK);
    CHECK(deflateSetDictionary(&client, spdy_dictionary, SPDY_DICTIONARY_LEN) == Z_OK);
    /* A block of 1 MiB of zeros compresses to a few KiB: refused past the limit. */
    size_t big = 1 << 20;
    uint8_t *raw = xcalloc(1, big), *z = xmalloc(big), *got = NULL;
    size_t zn = client_block(&client, raw, big, z, big), gl;
    CHECK(zn < 8192);
    CHECK(spdy_inflate(&server, z, zn, 16384, &got, &gl) == -EMSGSIZE);
    CHECK(got == NULL);
    free(raw);
    free(z);
    deflateEnd(&client);
    spdy_zlib_end(&server);
    /* Not zlib at all. */
    CHECK(spdy_zlib_init(&server) == 0);
    CHECK(spdy_inflate(&server, (const uint8_t *)"garbage!", 8, 16384, &got, &gl) == -EPROTO);
    spdy_zlib_end(&server);
    /* Malformed blocks: a count past the bytes, a length past the end, trailing bytes. */
    char *v;
    const uint8_t lie[] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    CHECK(spdy_header_get(lie, sizeof(lie), "a", &v) == -EPROTO);
    const uint8_t past[] = {0, 0, 0, 1, 0, 0, 0, 9, 'a', 0, 0, 0, 0};
    CHECK(spdy_header_get(past, sizeof(past), "a", &v) == -EPROTO);
    const uint8_t trail[] = {0, 0, 0, 1, 0, 0, 0, 1, 'a', 0, 0, 0, 1, 'b', 'x'};
    CHECK(spdy_header_get(trail, sizeof(trail), "a", &v) == -EPROTO);
    CHECK(v == NULL); /* found before the block turned out malformed: not handed out */
    const uint8_t ok[] = {0, 0, 0, 1, 0, 0, 0, 1, 'a', 0, 0, 0, 3, 'b', 0, 'c'};
    CHECK(spdy_header_get(ok, sizeof(ok), "a", &v) == 0);
    CHECK_STR(v, "b"); /* the first of NUL-separated values */
    free(v);
}

static void test_spdy_frames(void)
{
    struct spdy_frame f;
    /* SYN_STREAM, version 3, 10 bytes of fixed part plus a block */
    uint8_t syn[] = {0x80, 3, 0, 1, 0, 0, 0, 12, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0xaa, 0xbb};
    for (size_t k = 0; k < sizeof(syn); k++)
        CHECK(spdy_parse(syn, k, 1024, &f) == 0);
    CHECK(spdy_parse(syn, sizeof(syn), 1024, &f) == 1);
    CHECK(f.control && f.type == SPDY_SYN_STREAM && f.stream == 5 && f.len == 12 &&
          f.size == sizeof(syn));
    /* a data frame with FIN */
    uint8_t data[] = {0, 0, 0, 7, 1, 0, 0, 2, 'h', 'i'};
    CHECK(spdy_parse(data, sizeof(data), 1024, &f) == 1);
    CHECK(!f.control && f.stream == 7 && f.flags == SPDY_FLAG_FIN && f.len == 2);
    /* refusals: too long (from the header alone), version 2, stream 0, short fixed part */
    uint8_t big[] = {0x80, 3, 0, 1, 0, 0xff, 0xff, 0xff};
    CHECK(spdy_parse(big, sizeof(big), 1024, &f) == -EMSGSIZE);
    uint8_t v2[] = {0x80, 2, 0, 1, 0, 0, 0, 0};
    CHECK(spdy_parse(v2, sizeof(v2), 1024, &f) == -EPROTO);
    uint8_t zero[] = {0, 0, 0, 0, 0, 0, 0, 0};
    CHECK(spdy_parse(zero, sizeof(zero), 1024, &f) == -EPROTO);
    uint8_t shortsyn[] = {0x80, 3, 0, 1, 0, 0, 0, 2, 0, 1};
    CHECK(spdy_parse(shortsyn, sizeof(shortsyn), 1024, &f) == -EPROTO);
    uint8_t h[8];
    CHECK(spdy_control_header(h, SPDY_GOAWAY, 0, 8) == 8 && h[0] == 0x80 && h[1] == 3 &&
          h[3] == SPDY_GOAWAY && h[7] == 8);
    CHECK(spdy_data_header(h, 3, SPDY_FLAG_FIN, 300) == 8 && h[3] == 3 && h[4] == 1 && h[6] == 1 &&
          h[7] == 44);
}

int main(void)
{
    RUN(test_rfc6455_example_accept_key);
    RUN(test_frame_parses_only_when_whole);
    RUN(test_frame_lengths_16_and_64_bits);
    RUN(test_frame_refusals);
    RUN(test_server_header);
    RUN(test_messages_from_fragments);
    RUN(test_http_head);
    RUN(test_tokens_single_use_expiring_bounded);
    RUN(test_spdy_dictionary);
    RUN(test_spdy_headers_round_trip);
    RUN(test_spdy_header_limits);
    RUN(test_spdy_frames);
    UNIT_DONE();
}
