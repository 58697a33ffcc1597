/* SPDX-License-Identifier: Apache-2.0 */
/* common/: JSON getters, atomic writes, and resolution inside a root. */
#include "attach.h"
#include "error.h"
#include "fs.h"
#include "json.h"
#include "podevents.h"
#include "tests/lib/unit.h"
#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <errno.h>

static void test_json_getters(void)
{
    _cleanup_json_ yajl_val v = NULL;
    pr_error *err = NULL;
    CHECK(json_parse("{\"a\":\"x\",\"n\":5,\"b\":true,\"big\":18446744073709551615,"
                     "\"l\":[\"p\",\"q\"]}",
                     "t", &v, &err) == 0);
    const char *s = NULL;
    CHECK(json_get_str(v, "a", "t", &s, &err) == 0);
    CHECK_STR(s, "x");
    int64_t n = 0;
    CHECK(json_get_int64(v, "n", "t", &n, &err) == 0 && n == 5);
    bool b = false;
    CHECK(json_get_bool(v, "b", "t", &b, &err) == 0 && b);
    uint64_t u = 0;
    CHECK(json_get_uint64(v, "big", "t", &u, &err) == 0 && u == UINT64_MAX);
    _cleanup_strv_ char **l = NULL;
    CHECK(json_get_strv(v, "l", "t", &l, &err) == 0 && strv_length(l) == 2);
    /* missing key: untouched, no error */
    s = "keep";
    CHECK(json_get_str(v, "missing", "t", &s, &err) == 0);
    CHECK_STR(s, "keep");
    /* wrong type: error naming the key */
    CHECK(json_get_str(v, "n", "t", &s, &err) < 0);
    CHECK(err && strstr(err->msg, "t.n: expected string"));
    pr_error_freep(&err);
}

static void test_json_malformed(void)
{
    yajl_val v = NULL;
    pr_error *err = NULL;
    CHECK(json_parse("{\"a\":", "cfg.json", &v, &err) < 0);
    CHECK(v == NULL);
    CHECK(err && strstr(err->msg, "cfg.json: malformed JSON"));
    pr_error_freep(&err);
}

/* xasprintf formats plain conversions itself: it must say exactly what printf says. */
#define SAME_AS_PRINTF(...)                                                                        \
    do {                                                                                           \
        char _want[256];                                                                           \
        snprintf(_want, sizeof(_want), __VA_ARGS__);                                               \
        _cleanup_free_ char *_got = xasprintf(__VA_ARGS__);                                        \
        CHECK_STR(_got, _want);                                                                    \
    } while (0)

static void test_xasprintf(void)
{
    SAME_AS_PRINTF("%s", "");
    SAME_AS_PRINTF("plain text, no conversion");
    SAME_AS_PRINTF("%s/%s.%s", "/run/podrun/pods/x", "web", "stdout");
    SAME_AS_PRINTF("%d %d %d %i", 0, -1, INT_MIN, INT_MAX);
    SAME_AS_PRINTF("%u %u", 0U, UINT_MAX);
    SAME_AS_PRINTF("%ld %lu", LONG_MIN, ULONG_MAX);
    SAME_AS_PRINTF("%lld %llu", LLONG_MIN, ULLONG_MAX);
    SAME_AS_PRINTF("%zu %zd", (size_t)SIZE_MAX, (ssize_t)-5);
    SAME_AS_PRINTF("100%% %c%c", 'o', 'k');
    SAME_AS_PRINTF("[%.*s] [%.*s] [%.*s]", 3, "abcdef", 0, "abc", -1, "all of it");
    /* What it does not do itself, vasprintf does. */
    SAME_AS_PRINTF("%5d|%-4s|%x|%o|%.3f|%02d", 42, "ab", 255U, 8U, 1.5, 7);
    SAME_AS_PRINTF("%s %5s %d", "mixed", "w", 3);
    char buf[24];
    CHECK(format_ull(buf, 0) == 1 && streq(buf, "0"));
    CHECK(format_ll(buf, LLONG_MIN) == 20 && streq(buf, "-9223372036854775808"));
}

static void test_strerror(void)
{
    /* Copies: for an unknown errno both return strerror's buffer, which the next call frees. */
    bool same = true;
    for (int e = 0; e < 140; e++) {
        _cleanup_free_ char *ours = xstrdup(pr_strerror(e));
        same &= streq(ours, strerror(e));
    }
    CHECK(same);
    CHECK_STR(pr_strerror(ENOSPC), "No space left on device");
    _cleanup_free_ char *unknown = xstrdup(pr_strerror(9999));
    CHECK_STR(unknown, "Unknown error 9999");
}

static void test_atomic_write(void)
{
    char dir[] = "/tmp/podrun-unit-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    _cleanup_free_ char *p = xasprintf("%s/f", dir);
    CHECK(write_file_atomic(p, "hello", 5, 0600, NULL) == 0);
    _cleanup_free_ char *back = NULL;
    size_t len = 0;
    CHECK(read_file(p, &back, &len, NULL) == 0);
    CHECK(len == 5);
    CHECK_STR(back, "hello");
    /* A symlink planted under the temporary name is not written through. */
    _cleanup_free_ char *outside = xasprintf("%s/outside", dir);
    _cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", p, (int)getpid());
    CHECK(write_file_atomic(outside, "keep", 4, 0600, NULL) == 0);
    CHECK(symlink(outside, tmp) == 0);
    CHECK(write_file_atomic(p, "again", 5, 0600, NULL) == 0);
    _cleanup_free_ char *kept = NULL, *again = NULL;
    CHECK(read_file(outside, &kept, &len, NULL) == 0 && streq(kept, "keep"));
    CHECK(read_file(p, &again, &len, NULL) == 0 && streq(again, "again"));
    rm_rf(dir);
    CHECK(access(dir, F_OK) < 0);
}

/* A symlink pointing at / inside the root must resolve to the root itself, never the host. */
static void test_open_in_root(void)
{
    char dir[] = "/tmp/podrun-unit-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    _cleanup_free_ char *sub = xasprintf("%s/etc", dir);
    _cleanup_free_ char *link = xasprintf("%s/evil", dir);
    _cleanup_free_ char *dotdot = xasprintf("%s/up", dir);
    mkdir(sub, 0755);
    CHECK(symlink("/", link) == 0);
    CHECK(symlink("../../../../..", dotdot) == 0);
    _cleanup_close_ int root = open(dir, O_PATH | O_DIRECTORY);
    pr_error *err = NULL;
    /* /evil/etc must be the root's etc, not the host's /etc */
    _cleanup_close_ int fd = open_in_root(root, "/evil/etc", O_PATH, &err);
    CHECK(fd >= 0);
    struct stat a, b;
    CHECK(fstat(fd, &a) == 0 && stat(sub, &b) == 0 && a.st_ino == b.st_ino);
    _cleanup_close_ int fd2 = open_in_root(root, "up/etc", O_PATH, &err);
    CHECK(fd2 >= 0 && fstat(fd2, &a) == 0 && a.st_ino == b.st_ino);
    /* creating through the symlink stays inside */
    _cleanup_close_ int fd3 = mkdir_in_root(root, "/evil/newdir/x", 0755, false, &err);
    CHECK(fd3 >= 0);
    _cleanup_free_ char *inside = xasprintf("%s/newdir/x", dir);
    CHECK(access(inside, F_OK) == 0);
    CHECK(access("/newdir", F_OK) < 0);
    /* ".." can never climb out, even where the parent is still missing */
    _cleanup_close_ int fd4 = mkdir_in_root(root, "a/../../../b/c/..", 0755, false, &err);
    CHECK(fd4 >= 0);
    _cleanup_free_ char *bdir = xasprintf("%s/b", dir);
    CHECK(access(bdir, F_OK) == 0);
    CHECK(access("/b", F_OK) < 0);
    pr_error_freep(&err);
    rm_rf(dir);
}

/* Whole reads stop at their limit: exactly max bytes is fine, one more is EFBIG, from a file
 * (refused by its size) and from a pipe (refused while reading); READ_REGULAR refuses a
 * device and a FIFO. JSON depth: 64 levels parse, 65 do not, brackets inside strings are text. */
static void test_read_limits(void)
{
    char dir[] = "/tmp/podrun-unit-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    _cleanup_free_ char *p = xasprintf("%s/f", dir);
    CHECK(write_file_atomic(p, "0123456789", 10, 0600, NULL) == 0);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    CHECK(read_file_max(p, 10, READ_REGULAR, &text, &len, NULL) == 0);
    CHECK(len == 10);
    CHECK_STR(text, "0123456789");
    pr_error *err = NULL;
    char *none = NULL;
    CHECK(read_file_max(p, 9, 0, &none, NULL, &err) == -EFBIG);
    CHECK(none == NULL && strstr(err->msg, "is larger than 9 bytes, the limit for it"));
    pr_error_freep(&err);
    CHECK(read_file_max("/dev/zero", 1 << 20, READ_REGULAR, &none, NULL, &err) == -EINVAL);
    CHECK(strstr(err->msg, "`/dev/zero` is not a regular file"));
    pr_error_freep(&err);
    CHECK(read_file_max("/dev/zero", 4096, 0, &none, NULL, &err) == -EFBIG);
    CHECK(strstr(err->msg, "larger than 4 KiB"));
    pr_error_freep(&err);
    _cleanup_free_ char *fifo = xasprintf("%s/fifo", dir);
    CHECK(mkfifo(fifo, 0600) == 0);
    CHECK(read_file_max(fifo, 10, READ_REGULAR, &none, NULL, &err) == -EINVAL);
    pr_error_freep(&err);

    int fds[2];
    CHECK(pipe(fds) == 0);
    CHECK(write(fds[1], "0123456789", 10) == 10);
    close(fds[1]);
    CHECK(read_fd_max(fds[0], "pipe", 9, &none, NULL, &err) == -EFBIG);
    close(fds[0]);
    pr_error_freep(&err);
    CHECK(pipe(fds) == 0);
    CHECK(write(fds[1], "0123456789", 10) == 10);
    close(fds[1]);
    _cleanup_free_ char *piped = NULL;
    CHECK(read_fd_max(fds[0], "pipe", 10, &piped, &len, NULL) == 0 && len == 10);
    close(fds[0]);

    char deep[2 * 65 + 16];
    yajl_val v = NULL;
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    deep[128] = '\0';
    CHECK(json_parse(deep, "deep", &v, NULL) == 0);
    yajl_tree_freep(&v);
    v = NULL;
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    deep[130] = '\0';
    CHECK(json_parse(deep, "deep", &v, &err) < 0);
    CHECK(strstr(err->msg, "deep: JSON nested deeper than 64 levels, the limit"));
    pr_error_freep(&err);
    CHECK(json_parse(
              "[\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"\"]",
              "s", &v, NULL) == 0);
    yajl_tree_freep(&v);
    rm_rf(dir);
}

/* Events aggregate by type, reason, message, component and fieldPath; the least recently seen
 * goes past the cap; messages are cut (not inside a UTF-8 sequence); a save loads back. */
static void test_podevents(void)
{
    struct podevents e = {0};
    podevents_record(&e, "Normal", "Started", "kubelet", "spec.containers{a}", 10, "Started a");
    podevents_record(&e, "Normal", "Started", "kubelet", "spec.containers{b}", 11, "Started a");
    podevents_record(&e, "Normal", "Started", "kubelet", "spec.containers{a}", 12, "Started a");
    podevents_record(&e, "Normal", "Scheduled", "default-scheduler", NULL, 13, "x");
    podevents_record(&e, "Normal", "Scheduled", "default-scheduler", NULL, 14, "x");
    CHECK(e.n == 3);
    CHECK(e.v[0].count == 2 && e.v[0].first_usec == 10 && e.v[0].last_usec == 12);
    CHECK(e.v[1].count == 1);
    CHECK(e.v[2].count == 2 && !e.v[2].field_path);
    for (unsigned i = 0; i < PODEVENTS_MAX; i++) {
        _cleanup_free_ char *m = xasprintf("m%u", i);
        podevents_record(&e, "Warning", "Unhealthy", "kubelet", NULL, 100 + i, m);
    }
    CHECK(e.n == PODEVENTS_MAX);
    CHECK_STR(e.v[0].message, "m0");
    /* Seen again, m0 is the most recent: m1 goes next. */
    podevents_record(&e, "Warning", "Unhealthy", "kubelet", NULL, 1000, "m0");
    podevents_record(&e, "Warning", "Unhealthy", "kubelet", NULL, 1001, "new");
    CHECK(e.n == PODEVENTS_MAX);
    CHECK_STR(e.v[0].message, "m0");
    CHECK_STR(e.v[1].message, "m2");
    char big[PODEVENTS_MESSAGE_MAX + 8];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big + PODEVENTS_MESSAGE_MAX - 1, "\xc3\xa9", 2); /* an é across the cut */
    podevents_record(&e, "Warning", "Failed", "kubelet", NULL, 2000, big);
    CHECK(strlen(e.v[e.n - 1].message) == PODEVENTS_MESSAGE_MAX - 1);
    char dir[] = "/tmp/podrun-unit-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    _cleanup_free_ char *p = xasprintf("%s/" PODEVENTS_FILE, dir);
    struct podevents back = {0};
    CHECK(podevents_load(p, &back, NULL) == 0 && back.n == 0); /* missing: none */
    CHECK(podevents_save(p, &e, NULL) == 0);
    CHECK(podevents_load(p, &back, NULL) == 0 && back.n == e.n);
    CHECK(back.v[0].count == 2 && back.v[0].last_usec == 1000);
    CHECK_STR(back.v[e.n - 1].message, e.v[e.n - 1].message);
    podevents_clear(&back);
    /* Entries that are not events are skipped; a file over the limit is refused by name. */
    const char *mixed = "[1, {\"type\": \"Normal\"}, {\"type\": \"Normal\", \"reason\": \"R\", "
                        "\"message\": \"m\", \"component\": \"c\", \"count\": 2, \"first\": 1, "
                        "\"last\": 2}]";
    CHECK(write_file_atomic(p, mixed, strlen(mixed), 0600, NULL) == 0);
    CHECK(podevents_load(p, &back, NULL) == 0 && back.n == 1 && back.v[0].count == 2);
    podevents_clear(&back);
    _cleanup_free_ char *large = xcalloc(1, PODEVENTS_FILE_MAX + 2);
    memset(large, ' ', PODEVENTS_FILE_MAX + 1);
    CHECK(write_file_atomic(p, large, PODEVENTS_FILE_MAX + 1, 0600, NULL) == 0);
    pr_error *err = NULL;
    CHECK(podevents_load(p, &back, &err) < 0 && err && strstr(err->msg, "256 KiB"));
    pr_error_freep(&err);
    podevents_clear(&e);
    rm_rf(dir);
}

/* The attach framing: a frame split anywhere is whole only with its last byte; bad channels and
 * over-long lengths are refused from the header alone. */
static void test_attach_framing(void)
{
    uint8_t buf[ATTACH_HEADER_SIZE + 3 + ATTACH_HEADER_SIZE + 4];
    attach_header(buf, ATTACH_STDOUT, 3);
    memcpy(buf + ATTACH_HEADER_SIZE, "abc", 3);
    uint8_t *second = buf + ATTACH_HEADER_SIZE + 3;
    attach_header(second, ATTACH_RESIZE, 4);
    attach_resize_encode(second + ATTACH_HEADER_SIZE, 40, 132);
    struct attach_frame f;
    for (size_t n = 0; n < ATTACH_HEADER_SIZE + 3; n++)
        CHECK(attach_parse(buf, n, &f) == 0);
    CHECK(attach_parse(buf, sizeof(buf), &f) == ATTACH_HEADER_SIZE + 3);
    CHECK(f.channel == ATTACH_STDOUT && f.len == 3 && memcmp(f.data, "abc", 3) == 0);
    CHECK(attach_parse(second, ATTACH_HEADER_SIZE + 4, &f) == ATTACH_HEADER_SIZE + 4);
    unsigned rows = 0, cols = 0;
    CHECK(attach_resize_decode(&f, &rows, &cols) == 0 && rows == 40 && cols == 132);
    CHECK(attach_exit_decode(&f, &(int32_t){0}) == -EBADMSG);
    /* exit codes keep their sign */
    uint8_t ex[ATTACH_HEADER_SIZE + 4];
    attach_header(ex, ATTACH_EXIT, 4);
    attach_exit_encode(ex + ATTACH_HEADER_SIZE, -1);
    int32_t code = 0;
    CHECK(attach_parse(ex, sizeof(ex), &f) == sizeof(ex));
    CHECK(attach_exit_decode(&f, &code) == 0 && code == -1);
    attach_exit_encode(ex + ATTACH_HEADER_SIZE, 137);
    CHECK(attach_parse(ex, sizeof(ex), &f) == sizeof(ex) && attach_exit_decode(&f, &code) == 0 &&
          code == 137);
    /* an empty stdin frame is this client's EOF */
    attach_header(buf, ATTACH_STDIN, 0);
    CHECK(attach_parse(buf, ATTACH_HEADER_SIZE, &f) == ATTACH_HEADER_SIZE && f.len == 0);
    /* refused: unknown channel (from its first byte), a length over the limit */
    buf[0] = ATTACH_CHANNELS;
    CHECK(attach_parse(buf, 1, &f) == -EBADMSG);
    attach_header(buf, ATTACH_STDIN, ATTACH_FRAME_MAX + 1);
    CHECK(attach_parse(buf, ATTACH_HEADER_SIZE, &f) == -EBADMSG);
    attach_header(buf, ATTACH_STDIN, ATTACH_FRAME_MAX);
    CHECK(attach_parse(buf, ATTACH_HEADER_SIZE, &f) == 0);
    /* resize saturates at 16 bits */
    attach_resize_encode(second + ATTACH_HEADER_SIZE, 70000, 1);
    CHECK(attach_parse(second, ATTACH_HEADER_SIZE + 4, &f) > 0);
    CHECK(attach_resize_decode(&f, &rows, &cols) == 0 && rows == 0xffff && cols == 1);
}

/* A socket name longer than sun_path would allow is reached through /proc/self/fd. */
static void test_attach_sockets(void)
{
    char tmpl[] = "/tmp/attach-test-XXXXXX";
    CHECK(mkdtemp(tmpl) != NULL);
    _cleanup_free_ char *dir = xasprintf("%s/%0100d", tmpl, 0);
    CHECK(mkdir(dir, 0700) == 0);
    pr_error *err = NULL;
    int l = attach_listen(dir, "ctr", &err);
    CHECK(l >= 0);
    _cleanup_free_ char *path = xasprintf("%s/ctr.sock", dir);
    struct stat st;
    CHECK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600);
    int c = attach_connect(dir, "ctr", &err);
    CHECK(c >= 0);
    CHECK(attach_connect(dir, "../x", &err) < 0 && err && strstr(err->msg, "not a container name"));
    pr_error_freep(&err);
    close(c);
    close(l);
    unlink(path);
    rmdir(dir);
    rmdir(tmpl);
}

int main(void)
{
    RUN(test_json_getters);
    RUN(test_json_malformed);
    RUN(test_xasprintf);
    RUN(test_strerror);
    RUN(test_atomic_write);
    RUN(test_open_in_root);
    RUN(test_read_limits);
    RUN(test_podevents);
    RUN(test_attach_framing);
    RUN(test_attach_sockets);
    UNIT_DONE();
}
