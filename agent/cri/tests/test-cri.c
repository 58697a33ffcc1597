/* SPDX-License-Identifier: Apache-2.0 */
/* The CRI server's gRPC rules without a socket (agent/cri/grpc.c) and its method table
 * (agent/cri/methods.c): framing, limits, timeouts, grpc-message, dispatch and decoding. */
#include "agent/cri/grpc.h"
#include "agent/cri/methods.h"
#include "tests/lib/unit.h"
#include "util.h"

static int feed_all(struct grpc_reader *r, const uint8_t *data, size_t len, size_t chunk,
                    const char **why)
{
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        int code = grpc_reader_feed(r, data + off, n, why);
        if (code)
            return code;
    }
    return 0;
}

static void test_reader_takes_one_message_in_any_chunks(void)
{
    const uint8_t req[] = {0, 0, 0, 0, 3, 'a', 'b', 'c'};
    for (size_t chunk = 1; chunk <= sizeof(req); chunk++) {
        struct grpc_reader r = {.max = 16};
        const char *why = NULL;
        CHECK(feed_all(&r, req, sizeof(req), chunk, &why) == 0);
        CHECK(grpc_reader_finish(&r, &why) == 0);
        CHECK(r.msg_len == 3 && memcmp(r.msg, "abc", 3) == 0);
        grpc_reader_clear(&r);
    }
    /* An empty message is a message. */
    struct grpc_reader r = {.max = 16};
    const char *why = NULL;
    const uint8_t empty[] = {0, 0, 0, 0, 0};
    CHECK(feed_all(&r, empty, sizeof(empty), 5, &why) == 0);
    CHECK(grpc_reader_finish(&r, &why) == 0 && r.msg_len == 0);
    grpc_reader_clear(&r);
}

static void test_reader_refuses_what_breaks_the_rules(void)
{
    const char *why = NULL;
    struct grpc_reader r = {.max = 16};
    /* Over the limit: refused from the prefix alone, nothing allocated. */
    const uint8_t big[] = {0, 0, 0, 0, 17};
    CHECK(grpc_reader_feed(&r, big, sizeof(big), &why) == GRPC_RESOURCE_EXHAUSTED);
    CHECK(r.msg == NULL);
    grpc_reader_clear(&r);
    /* Announced but not sent: only what came is held. */
    struct grpc_reader lazy = {.max = 1u << 20};
    const uint8_t announce[] = {0, 0, 0x10, 0, 0, 'a', 'b'};
    CHECK(grpc_reader_feed(&lazy, announce, sizeof(announce), &why) == 0);
    CHECK(lazy.msg_len == 1u << 20 && lazy.msg_have == 2 && lazy.cap <= 4096);
    grpc_reader_clear(&lazy);
    const uint8_t huge[] = {0, 0xff, 0xff, 0xff, 0xff};
    CHECK(grpc_reader_feed(&r, huge, sizeof(huge), &why) == GRPC_RESOURCE_EXHAUSTED);
    grpc_reader_clear(&r);
    const uint8_t compressed[] = {1, 0, 0, 0, 0};
    CHECK(grpc_reader_feed(&r, compressed, sizeof(compressed), &why) == GRPC_UNIMPLEMENTED);
    CHECK_STR(why, "compressed messages are not accepted");
    grpc_reader_clear(&r);
    const uint8_t flag[] = {2, 0, 0, 0, 0};
    CHECK(grpc_reader_feed(&r, flag, sizeof(flag), &why) == GRPC_INTERNAL);
    grpc_reader_clear(&r);
    const uint8_t two[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    CHECK(grpc_reader_feed(&r, two, sizeof(two), &why) == GRPC_UNIMPLEMENTED);
    grpc_reader_clear(&r);
    CHECK(grpc_reader_finish(&r, &why) == GRPC_UNIMPLEMENTED);
    CHECK_STR(why, "the request has no message");
    const uint8_t cut[] = {0, 0, 0, 0, 4, 'a'};
    CHECK(grpc_reader_feed(&r, cut, sizeof(cut), &why) == 0);
    CHECK(grpc_reader_finish(&r, &why) == GRPC_INTERNAL);
    grpc_reader_clear(&r);
    CHECK(r.max == 16);
}

static void test_frame_prefixes_the_length(void)
{
    uint8_t *b = grpc_frame((const uint8_t *)"hello", 5);
    const uint8_t want[] = {0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'};
    CHECK(memcmp(b, want, sizeof(want)) == 0);
    free(b);
}

static void test_timeout_units(void)
{
    uint64_t us = 0;
    CHECK(grpc_parse_timeout("1H", 2, &us) == 0 && us == 3600000000ULL);
    CHECK(grpc_parse_timeout("2M", 2, &us) == 0 && us == 120000000ULL);
    CHECK(grpc_parse_timeout("3S", 2, &us) == 0 && us == 3000000ULL);
    CHECK(grpc_parse_timeout("250m", 4, &us) == 0 && us == 250000ULL);
    CHECK(grpc_parse_timeout("7u", 2, &us) == 0 && us == 7);
    CHECK(grpc_parse_timeout("1n", 2, &us) == 0 && us == 1); /* rounded up */
    CHECK(grpc_parse_timeout("99999999H", 9, &us) == 0 && us == 99999999ULL * 3600000000ULL);
    CHECK(grpc_parse_timeout("100000000S", 10, &us) < 0); /* 9 digits */
    CHECK(grpc_parse_timeout("S", 1, &us) < 0);
    CHECK(grpc_parse_timeout("10s", 3, &us) < 0);
    CHECK(grpc_parse_timeout("-1S", 3, &us) < 0);
    CHECK(grpc_parse_timeout("1 S", 3, &us) < 0);
}

static void test_percent_encoding(void)
{
    char *e = grpc_percent_encode("ok: 100% done\n\xc3\xa9");
    CHECK_STR(e, "ok: 100%25 done%0A%C3%A9");
    free(e);
}

static void test_methods_served_later_and_unknown(void)
{
    const struct cri_method *m = cri_method_find("/runtime.v1.RuntimeService/Version");
    CHECK(m && m->fn && m->on_loop);
    m = cri_method_find("/runtime.v1.ImageService/PullImage");
    CHECK(m && m->fn && !m->on_loop);
    m = cri_method_find("/runtime.v1.RuntimeService/CheckpointContainer");
    CHECK(m && !m->fn);
    CHECK(cri_method_find("/runtime.v1.RuntimeService/Nope") == NULL);
    CHECK(cri_method_find("/runtime.v1alpha2.RuntimeService/Version") == NULL);
    CHECK(cri_method_find("") == NULL);

    struct cri_options o = {0};
    struct cri_reply r;
    cri_method_call(m, &o, NULL, 0, 1024, &r);
    CHECK(r.code == GRPC_UNIMPLEMENTED);
    CHECK_STR(r.message, "podrun does not implement runtime.v1.RuntimeService/CheckpointContainer yet");
    cri_reply_clear(&r);
}

static void test_version_decodes_answers_and_limits_the_response(void)
{
    const struct cri_method *m = cri_method_find("/runtime.v1.RuntimeService/Version");
    struct cri_options o = {0};
    struct cri_reply r;
    const uint8_t req[] = {0x0a, 0x05, '0', '.', '1', '.', '0'};
    cri_method_call(m, &o, req, sizeof(req), 1024, &r);
    CHECK(r.code == GRPC_OK);
    Runtime__V1__VersionResponse *v = runtime__v1__version_response__unpack(NULL, r.len, r.body);
    CHECK(v && strcmp(v->runtime_name, "podrun") == 0 && strcmp(v->runtime_api_version, "v1") == 0);
    CHECK(v && strcmp(v->runtime_version, PACKAGE_VERSION) == 0);
    if (v)
        runtime__v1__version_response__free_unpacked(v, NULL);
    cri_reply_clear(&r);

    const uint8_t bad[] = {0x0a, 0x7f, 'x'}; /* a string longer than the message */
    cri_method_call(m, &o, bad, sizeof(bad), 1024, &r);
    CHECK(r.code == GRPC_INTERNAL);
    cri_reply_clear(&r);

    cri_method_call(m, &o, req, sizeof(req), 8, &r);
    CHECK(r.code == GRPC_RESOURCE_EXHAUSTED);
    cri_reply_clear(&r);
}

int main(void)
{
    RUN(test_reader_takes_one_message_in_any_chunks);
    RUN(test_reader_refuses_what_breaks_the_rules);
    RUN(test_frame_prefixes_the_length);
    RUN(test_timeout_units);
    RUN(test_percent_encoding);
    RUN(test_methods_served_later_and_unknown);
    RUN(test_version_decodes_answers_and_limits_the_response);
    UNIT_DONE();
}
