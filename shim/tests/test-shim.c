/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the shim's pure parts: spec.json parsing and defaults, the CRI log writer
 * (records, partial lines, rotation, a refused disk), the back-off, HTTP status lines. */
#include "shim.h"
#include "fs.h"
#include "tests/lib/unit.h"
#include "util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/test-shim.XXXXXX";

static struct pod_spec *parse_ok(const char *text)
{
    struct pod_spec *s = NULL;
    pr_error *err = NULL;
    if (pod_spec_parse(text, "test", &s, &err) < 0) {
        fprintf(stderr, "# unexpected error: %s\n", err->msg);
        pr_error_free(err);
    }
    return s;
}

static char *parse_err(const char *text)
{
    struct pod_spec *s = NULL;
    pr_error *err = NULL;
    if (pod_spec_parse(text, "test", &s, &err) == 0) {
        pod_spec_free(s);
        return NULL;
    }
    char *msg = xstrdup(err->msg);
    pr_error_free(err);
    return msg;
}

static void test_spec_defaults(void)
{
    struct pod_spec *s = parse_ok("{\"name\":\"p\",\"containers\":[{\"name\":\"web\","
                                  "\"bundle\":\"/b\",\"readinessProbe\":{\"tcpSocket\":"
                                  "{\"port\":80}}}]}");
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(s->supervise);
    CHECK(s->restart == RESTART_ALWAYS);
    CHECK(s->grace_usec == 30 * USEC_PER_SEC);
    CHECK(s->backoff_base_usec == 10 * USEC_PER_SEC);
    CHECK(s->backoff_cap_usec == 300 * USEC_PER_SEC);
    CHECK(s->backoff_reset_usec == 600 * USEC_PER_SEC);
    CHECK_STR(s->runtime, "podrun-runtime");
    CHECK(s->n_ctrs == 1 && s->n_init == 0);
    CHECK_STR(s->ctrs[0].id, "p-web");
    CHECK_STR(s->ctrs[0].log_path, "/var/log/podrun/pods/p/web.log");
    CHECK(s->ctrs[0].stop_signal == SIGTERM);
    struct probe_spec *p = &s->ctrs[0].probes[PROBE_READINESS];
    CHECK(p->handler == PROBE_TCP && p->port == 80);
    /* Kubernetes' probe defaults. */
    CHECK(p->period_usec == 10 * USEC_PER_SEC);
    CHECK(p->timeout_usec == 1 * USEC_PER_SEC);
    CHECK(p->success_threshold == 1 && p->failure_threshold == 3);
    CHECK(p->initial_delay_usec == 0);
    CHECK(s->ctrs[0].probes[PROBE_LIVENESS].handler == PROBE_NONE);
    pod_spec_free(s);
}

static void test_spec_full(void)
{
    struct pod_spec *s = parse_ok(
        "{\"name\":\"p\",\"runtime\":\"/usr/sbin/runc\",\"runtimeRoot\":\"/r\","
        "\"restartPolicy\":\"OnFailure\",\"supervise\":false,"
        "\"terminationGracePeriodSeconds\":0.5,\"backOff\":{\"baseSeconds\":0.2,"
        "\"capSeconds\":2,\"resetSeconds\":5},\"logDir\":\"/l\",\"logMaxSize\":1000,"
        "\"logMaxFiles\":2,"
        "\"initContainers\":[{\"name\":\"i\",\"bundle\":\"/bi\"}],"
        "\"containers\":[{\"name\":\"a\",\"id\":\"custom\",\"bundle\":\"/ba\",\"logPath\":\"/x/"
        "a.log\",\"stopSignal\":\"SIGQUIT\",\"livenessProbe\":{\"httpGet\":{\"path\":\"/h\","
        "\"port\":8080,\"httpHeaders\":[{\"name\":\"X-A\",\"value\":\"1\"}]},"
        "\"periodSeconds\":2,\"failureThreshold\":5},\"startupProbe\":{\"exec\":{\"command\":"
        "[\"true\"]},\"initialDelaySeconds\":3}}]}");
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(!s->supervise && s->restart == RESTART_ON_FAILURE);
    CHECK(s->grace_usec == 500 * USEC_PER_MSEC);
    CHECK(s->backoff_base_usec == 200 * USEC_PER_MSEC && s->backoff_cap_usec == 2 * USEC_PER_SEC);
    CHECK(s->log_max_size == 1000 && s->log_max_files == 2);
    CHECK(s->n_init == 1 && s->init[0].is_init);
    CHECK_STR(s->init[0].log_path, "/l/i.log");
    CHECK_STR(s->ctrs[0].id, "custom");
    CHECK(s->ctrs[0].stop_signal == SIGQUIT);
    struct probe_spec *l = &s->ctrs[0].probes[PROBE_LIVENESS];
    CHECK(l->handler == PROBE_HTTP && l->port == 8080);
    CHECK_STR(l->path, "/h");
    CHECK_STR(l->headers[0], "X-A: 1");
    CHECK(l->headers[1] == NULL);
    CHECK(l->period_usec == 2 * USEC_PER_SEC && l->failure_threshold == 5);
    struct probe_spec *st = &s->ctrs[0].probes[PROBE_STARTUP];
    CHECK(st->handler == PROBE_EXEC && st->initial_delay_usec == 3 * USEC_PER_SEC);
    CHECK_STR(st->command[0], "true");
    pod_spec_free(s);
}

static void test_spec_errors(void)
{
    static const struct {
        const char *json, *needle;
    } cases[] = {
        {"[]", "expected an object"},
        {"{\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\"}]}", "spec.name"},
        {"{\"name\":\"p\",\"containers\":[]}", "at least one container"},
        {"{\"name\":\"p\",\"containers\":[{\"name\":\"a\"}]}", "bundle"},
        {"{\"name\":\"p\",\"containers\":[{\"name\":\"../x\",\"bundle\":\"/b\"}]}", "name"},
        {"{\"name\":\"p\",\"containers\":[{\"name\":\"a\",\"rootfs\":\"/r\","
         "\"args\":[\"sh\"]}]}",
         "rootfs: not supported: give an OCI bundle"},
        {"{\"name\":\"p\",\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\",\"env\":[\"A=1\"]}]}",
         "env: not supported"},
        {"{\"name\":\"p\",\"restartPolicy\":\"Sometimes\",\"containers\":[{\"name\":\"a\","
         "\"bundle\":\"/b\"}]}",
         "restartPolicy"},
        {"{\"name\":\"p\",\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\"},{\"name\":\"a\","
         "\"bundle\":\"/c\"}]}",
         "used twice"},
        {"{\"name\":\"p\",\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\",\"livenessProbe\":"
         "{}}]}",
         "exactly one of"},
        {"{\"name\":\"p\",\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\",\"livenessProbe\":"
         "{\"tcpSocket\":{\"port\":0}}}]}",
         "port"},
        {"{\"name\":\"p\",\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\",\"livenessProbe\":"
         "{\"httpGet\":{\"port\":80,\"scheme\":\"HTTPS\"}}}]}",
         "HTTPS"},
        {"{\"name\":\"p\",\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\",\"livenessProbe\":"
         "{\"tcpSocket\":{\"port\":80},\"successThreshold\":2}}]}",
         "successThreshold"},
        {"{\"name\":\"p\",\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\",\"stopSignal\":"
         "\"SIGNOPE\"}]}",
         "stopSignal"},
        {"{\"name\":\"p\",\"terminationGracePeriodSeconds\":-1,\"containers\":[{\"name\":\"a\","
         "\"bundle\":\"/b\"}]}",
         "terminationGracePeriodSeconds"},
        {"{\"name\":\"p\",\"initContainers\":[{\"name\":\"i\",\"bundle\":\"/b\",\"readinessProbe\""
         ":{\"tcpSocket\":{\"port\":1}}}],\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\"}]}",
         "init containers have no probes"},
        /* Relative paths would land in the host's / once the shim has detached. */
        {"{\"name\":\"p\",\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\",\"logPath\":"
         "\"rel.log\"}]}",
         "logPath: \"rel.log\" must be an absolute path"},
        {"{\"name\":\"p\",\"logDir\":\"logs\",\"containers\":[{\"name\":\"a\",\"bundle\":"
         "\"/b\"}]}",
         "spec.logDir: \"logs\" must be an absolute path"},
        {"{\"name\":\"p\",\"runtimeRoot\":\"./state\",\"containers\":[{\"name\":\"a\","
         "\"bundle\":\"/b\"}]}",
         "spec.runtimeRoot: \"./state\" must be an absolute path"},
        {"{\"name\":\"p\",\"runtime\":\"bin/runc\",\"containers\":[{\"name\":\"a\","
         "\"bundle\":\"/b\"}]}",
         "spec.runtime: \"bin/runc\" must be an absolute path"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *msg = parse_err(cases[i].json);
        CHECK(msg != NULL);
        if (msg && !strstr(msg, cases[i].needle)) {
            fprintf(stderr, "# case %zu: \"%s\" lacks \"%s\"\n", i, msg, cases[i].needle);
            CHECK(false);
        }
    }
}

/* The pod's course in spec.json: lifecycle hooks, the termination message, the deadline and
 * the watched emptyDirs, and what is refused of them. */
static void test_spec_life(void)
{
    struct pod_spec *s = parse_ok(
        "{\"name\":\"p\",\"activeDeadlineSeconds\":30,\"volumeCheckSeconds\":2,"
        "\"volumeLimits\":[{\"name\":\"v\",\"path\":\"/x/v\",\"sizeLimitBytes\":1048576}],"
        "\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\","
        "\"terminationMessagePath\":\"/b/termination-log\","
        "\"terminationMessagePolicy\":\"FallbackToLogsOnError\","
        "\"lifecycle\":{\"postStart\":{\"exec\":{\"command\":[\"true\"]}},"
        "\"preStop\":{\"sleep\":{\"seconds\":2}}}}]}");
    CHECK(s);
    if (!s)
        return;
    CHECK(s->active_deadline_usec == 30 * USEC_PER_SEC);
    CHECK(s->volume_check_usec == 2 * USEC_PER_SEC);
    CHECK(s->n_volume_limits == 1 && streq(s->volume_limits[0].path, "/x/v") &&
          s->volume_limits[0].limit_bytes == 1048576);
    CHECK(s->ctrs[0].hooks[HOOK_POST_START].handler == HOOK_EXEC);
    CHECK(streq(s->ctrs[0].hooks[HOOK_POST_START].probe.command[0], "true"));
    CHECK(s->ctrs[0].hooks[HOOK_PRE_STOP].handler == HOOK_SLEEP &&
          s->ctrs[0].hooks[HOOK_PRE_STOP].sleep_usec == 2 * USEC_PER_SEC);
    CHECK(streq(s->ctrs[0].termination_message_path, "/b/termination-log"));
    CHECK(s->ctrs[0].termination_message_fallback);
    pod_spec_free(s);

    static const struct {
        const char *json, *needle;
    } bad[] = {
        {"{\"name\":\"p\",\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\",\"lifecycle\":"
         "{\"preStop\":{\"tcpSocket\":{\"port\":80}}}}]}",
         "lifecycle.preStop.tcpSocket: not supported"},
        {"{\"name\":\"p\",\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\",\"lifecycle\":"
         "{\"postStart\":{\"sleep\":{}}}}]}",
         "sleep.seconds: required"},
        {"{\"name\":\"p\",\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\","
         "\"terminationMessagePath\":\"rel\"}]}",
         "must be an absolute path"},
        {"{\"name\":\"p\",\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\","
         "\"terminationMessagePolicy\":\"Sometimes\"}]}",
         "terminationMessagePolicy"},
        {"{\"name\":\"p\",\"volumeLimits\":[{\"name\":\"v\",\"path\":\"rel\","
         "\"sizeLimitBytes\":1}],\"containers\":[{\"name\":\"a\",\"bundle\":\"/b\"}]}",
         "volumeLimits[0]"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        _cleanup_free_ char *msg = parse_err(bad[i].json);
        CHECK(msg && strstr(msg, bad[i].needle));
        if (!msg || !strstr(msg, bad[i].needle))
            fprintf(stderr, "# case %zu: %s\n", i, msg ? msg : "accepted");
    }
}

/* du's count, not the files' sizes: a sparse file counts only what it holds. */
static void test_dir_usage(void)
{
    _cleanup_free_ char *dir = xasprintf("%s/usage", tmpdir);
    _cleanup_free_ char *sub = xasprintf("%s/usage/sub", tmpdir);
    _cleanup_free_ char *f = xasprintf("%s/usage/sub/f", tmpdir);
    _cleanup_free_ char *sparse = xasprintf("%s/usage/sparse", tmpdir);
    CHECK(mkdir(dir, 0755) == 0 && mkdir(sub, 0755) == 0);
    uint64_t empty = dir_usage(dir);
    char buf[65536] = {1};
    int fd = open(f, O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0 && write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf));
    fsync(fd);
    close(fd);
    fd = open(sparse, O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0 && ftruncate(fd, 1 << 30) == 0);
    close(fd);
    uint64_t used = dir_usage(dir);
    CHECK(used >= empty + sizeof(buf) && used < empty + sizeof(buf) + (1 << 20));
    CHECK(dir_usage("/nonexistent/podrun") == 0);
}

static void test_backoff(void)
{
    uint64_t b = 10 * USEC_PER_SEC, cap = 300 * USEC_PER_SEC;
    CHECK(backoff_delay(b, cap, 1) == 10 * USEC_PER_SEC);
    CHECK(backoff_delay(b, cap, 2) == 20 * USEC_PER_SEC);
    CHECK(backoff_delay(b, cap, 3) == 40 * USEC_PER_SEC);
    CHECK(backoff_delay(b, cap, 6) == 300 * USEC_PER_SEC);
    CHECK(backoff_delay(b, cap, 100) == 300 * USEC_PER_SEC);
    CHECK(signal_from_name("SIGTERM") == SIGTERM && signal_from_name("KILL") == SIGKILL);
    CHECK(signal_from_name("9") == 9 && signal_from_name("NOPE") < 0);
}

static void test_http_status(void)
{
    CHECK(http_status_code("HTTP/1.1 200 OK\r\n", 17) == 200);
    CHECK(http_status_code("HTTP/1.0 404 Not Found\r\n", 24) == 404);
    CHECK(http_status_code("HTTP/1.1 302\r\n", 14) == 302);
    CHECK(http_status_code("HTTP/2 200 OK\r\n", 15) == -1);
    CHECK(http_status_code("HTTP/1.1 20", 11) == -1);
    CHECK(http_status_code("SSH-2.0-x\r\n", 11) == -1);
    CHECK(http_status_code("HTTP/1.1 2000 x", 15) == -1);
}

static char *slurp(const char *path)
{
    char *text = NULL;
    size_t len;
    if (read_file(path, &text, &len, NULL) < 0)
        return NULL;
    return text;
}

static bool is_record(const char *line, const char *stream, char tag, const char *msg)
{
    /* 2016-10-06T00:17:09.669794202Z */
    if (strlen(line) < 31 || line[4] != '-' || line[10] != 'T' || line[19] != '.' ||
        line[29] != 'Z' || line[30] != ' ')
        return false;
    _cleanup_free_ char *rest = xasprintf("%s %c %s", stream, tag, msg);
    return streq(line + 31, rest);
}

static void test_log_records(void)
{
    _cleanup_free_ char *path = xasprintf("%s/records.log", tmpdir);
    struct log_file lf = {.fd = -1};
    struct log_stream out = {.name = "stdout"}, err = {.name = "stderr"};
    CHECK(log_file_open(&lf, path, 0, 1, NULL) == 0);
    CHECK(log_feed(&lf, &out, "hello\nwor", 9) == 0);
    CHECK(log_feed(&lf, &err, "oops\n", 5) == 0);
    CHECK(log_feed(&lf, &out, "ld\n\n", 4) == 0);
    /* A line of 40000 bytes: two full buffers as P, the rest as F. */
    _cleanup_free_ char *big = xmalloc(40001);
    memset(big, 'x', 40000);
    big[40000] = '\n';
    CHECK(log_feed(&lf, &out, big, 40001) == 0);
    CHECK(log_feed(&lf, &out, "tail", 4) == 0);
    CHECK(log_stream_flush(&lf, &out) == 0);
    log_file_close(&lf);
    _cleanup_free_ char *text = slurp(path);
    CHECK(text != NULL);
    if (!text)
        return;
    char *save = NULL, *l[8] = {0};
    int n = 0;
    for (char *line = strtok_r(text, "\n", &save); line && n < 8;
         line = strtok_r(NULL, "\n", &save))
        l[n++] = line;
    CHECK(n == 8);
    if (n != 8)
        return;
    CHECK(is_record(l[0], "stdout", 'F', "hello"));
    CHECK(is_record(l[1], "stderr", 'F', "oops"));
    CHECK(is_record(l[2], "stdout", 'F', "world"));
    CHECK(is_record(l[3], "stdout", 'F', ""));
    CHECK(strlen(l[4]) == 31 + 9 + LOG_LINE_MAX && strstr(l[4], " stdout P xxx"));
    CHECK(strlen(l[5]) == 31 + 9 + LOG_LINE_MAX && strstr(l[5], " stdout P xxx"));
    CHECK(strlen(l[6]) == 31 + 9 + (40000 - 2 * LOG_LINE_MAX) && strstr(l[6], " stdout F xxx"));
    CHECK(is_record(l[7], "stdout", 'F', "tail"));
}

/* A terminal's "\r\n" ends a line as "\n" does (containerd's logger drops the "\r"), whether
 * the line came in one read or in pieces; a "\r" elsewhere is the line's own. */
static void test_log_crlf(void)
{
    _cleanup_free_ char *path = xasprintf("%s/crlf.log", tmpdir);
    struct log_file lf = {.fd = -1};
    struct log_stream out = {.name = "stdout"};
    CHECK(log_file_open(&lf, path, 0, 1, NULL) == 0);
    CHECK(log_feed(&lf, &out, "/ # echo hi\r\nhi\r\n", 17) == 0);
    CHECK(log_feed(&lf, &out, "split\r", 6) == 0);
    CHECK(log_feed(&lf, &out, "\n\r\nmid\rdle\n\r", 12) == 0);
    CHECK(log_stream_flush(&lf, &out) == 0);
    log_file_close(&lf);
    _cleanup_free_ char *text = slurp(path);
    CHECK(text != NULL);
    if (!text)
        return;
    char *save = NULL, *l[6] = {0};
    int n = 0;
    for (char *line = strtok_r(text, "\n", &save); line && n < 6;
         line = strtok_r(NULL, "\n", &save))
        l[n++] = line;
    CHECK(n == 6);
    if (n != 6)
        return;
    CHECK(is_record(l[0], "stdout", 'F', "/ # echo hi"));
    CHECK(is_record(l[1], "stdout", 'F', "hi"));
    CHECK(is_record(l[2], "stdout", 'F', "split"));
    CHECK(is_record(l[3], "stdout", 'F', ""));
    CHECK(is_record(l[4], "stdout", 'F', "mid\rdle"));
    CHECK(is_record(l[5], "stdout", 'F', "\r")); /* at EOF, no newline: as it was */
}

static void test_log_line_edges(void)
{
    _cleanup_free_ char *path = xasprintf("%s/edges.log", tmpdir);
    struct log_file lf = {.fd = -1};
    struct log_stream out = {.name = "stdout"};
    CHECK(log_file_open(&lf, path, 0, 1, NULL) == 0);
    _cleanup_free_ char *big = xmalloc(LOG_LINE_MAX + 1);
    memset(big, 'y', LOG_LINE_MAX);
    big[LOG_LINE_MAX] = '\n';
    /* Exactly a buffer's worth and its newline: one F record. */
    CHECK(log_feed(&lf, &out, big, LOG_LINE_MAX + 1) == 0);
    /* A buffer's worth in two reads, then the newline: P, then an empty F. */
    CHECK(log_feed(&lf, &out, big, 100) == 0);
    CHECK(out.line != NULL && out.n_line == 100);
    CHECK(log_feed(&lf, &out, big, LOG_LINE_MAX - 100) == 0);
    CHECK(out.line == NULL && out.n_line == 0);
    CHECK(log_feed(&lf, &out, "\nz\n", 3) == 0);
    CHECK(out.line == NULL);
    log_file_close(&lf);
    _cleanup_free_ char *text = slurp(path);
    CHECK(text != NULL);
    if (!text)
        return;
    char *save = NULL, *l[5] = {0};
    int n = 0;
    for (char *line = strtok_r(text, "\n", &save); line && n < 5;
         line = strtok_r(NULL, "\n", &save))
        l[n++] = line;
    CHECK(n == 4);
    if (n != 4)
        return;
    CHECK(strlen(l[0]) == 31 + 9 + LOG_LINE_MAX && strstr(l[0], " stdout F yyy"));
    CHECK(strlen(l[1]) == 31 + 9 + LOG_LINE_MAX && strstr(l[1], " stdout P yyy"));
    CHECK(is_record(l[2], "stdout", 'F', ""));
    CHECK(is_record(l[3], "stdout", 'F', "z"));
}

static void test_log_rotation(void)
{
    _cleanup_free_ char *path = xasprintf("%s/rot.log", tmpdir);
    struct log_file lf = {.fd = -1};
    struct log_stream out = {.name = "stdout"};
    CHECK(log_file_open(&lf, path, 200, 3, NULL) == 0);
    for (int i = 0; i < 40; i++) {
        char line[32];
        int n = snprintf(line, sizeof(line), "line %02d\n", i);
        CHECK(log_feed(&lf, &out, line, (size_t)n) == 0);
    }
    log_file_close(&lf);
    _cleanup_free_ char *p1 = xasprintf("%s.1", path), *p2 = xasprintf("%s.2", path),
                        *p3 = xasprintf("%s.3", path);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size <= 200);
    CHECK(stat(p1, &st) == 0 && st.st_size <= 200 && st.st_size > 100);
    CHECK(stat(p2, &st) == 0 && st.st_size <= 200);
    CHECK(stat(p3, &st) < 0);
    _cleanup_free_ char *last = slurp(path), *prev = slurp(p1);
    CHECK(last && strstr(last, "stdout F line 39\n"));
    /* .1 ends right where the live file begins. */
    if (last && prev) {
        int first_live = atoi(strstr(last, "line ") + 5);
        char *lastp = strrchr(prev, 'e');
        CHECK(lastp && atoi(lastp + 2) == first_live - 1);
    }
}

static void test_log_refused(void)
{
    /* A read-only fd stands for a disk that refuses: nothing is lost, all stays pending. */
    _cleanup_free_ char *path = xasprintf("%s/refused.log", tmpdir);
    struct log_file lf = {.fd = -1};
    struct log_stream out = {.name = "stdout"};
    CHECK(log_file_open(&lf, path, 0, 1, NULL) == 0);
    int good = lf.fd;
    lf.fd = open(path, O_RDONLY | O_CLOEXEC);
    CHECK(log_feed(&lf, &out, "a\n", 2) < 0);
    CHECK(log_feed(&lf, &out, "b\n", 2) < 0);
    CHECK(lf.n_pending > 0);
    CHECK(log_file_flush_pending(&lf) < 0);
    close(lf.fd);
    lf.fd = good;
    CHECK(log_file_flush_pending(&lf) == 0);
    CHECK(lf.n_pending == 0);
    CHECK(log_feed(&lf, &out, "c\n", 2) == 0);
    log_file_close(&lf);
    _cleanup_free_ char *text = slurp(path);
    CHECK(text && strstr(text, "stdout F a\n") && strstr(text, "stdout F b\n") &&
          strstr(text, "stdout F c\n"));
    CHECK(text && strstr(text, "F a\n") < strstr(text, "F b\n") &&
          strstr(text, "F b\n") < strstr(text, "F c\n"));
}

static void test_rfc3339(void)
{
    struct timespec ts = {.tv_sec = 1475713029, .tv_nsec = 669794202};
    char buf[48];
    format_rfc3339_nano(&ts, buf, sizeof(buf));
    CHECK_STR(buf, "2016-10-06T00:17:09.669794202Z");
    format_rfc3339(1475713029ULL * USEC_PER_SEC + 5, buf, sizeof(buf));
    CHECK_STR(buf, "2016-10-06T00:17:09Z");
    /* The hand-made calendar against libc's, over leap days and centuries to year 2400. */
    bool same = true;
    for (int64_t t = 0; t < 13569465600LL && same; t += 86400 * 13 + 3607) {
        struct tm tm;
        time_t tt = (time_t)t;
        char want[48];
        gmtime_r(&tt, &tm);
        strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
        format_rfc3339((uint64_t)t * USEC_PER_SEC, buf, sizeof(buf));
        same = streq(buf, want);
        if (!same)
            fprintf(stderr, "# %lld: %s, libc says %s\n", (long long)t, buf, want);
    }
    CHECK(same);
    format_rfc3339(951782400ULL * USEC_PER_SEC, buf, sizeof(buf));
    CHECK_STR(buf, "2000-02-29T00:00:00Z");
    format_rfc3339(4107542400ULL * USEC_PER_SEC, buf, sizeof(buf));
    CHECK_STR(buf, "2100-03-01T00:00:00Z");
    format_rfc3339_nano(&(struct timespec){.tv_sec = 1735689599, .tv_nsec = 7}, buf, 20);
    CHECK_STR(buf, "2024-12-31T23:59:59");
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_spec_defaults);
    RUN(test_spec_full);
    RUN(test_spec_errors);
    RUN(test_spec_life);
    RUN(test_dir_usage);
    RUN(test_backoff);
    RUN(test_http_status);
    RUN(test_rfc3339);
    RUN(test_log_records);
    RUN(test_log_crlf);
    RUN(test_log_line_edges);
    RUN(test_log_rotation);
    RUN(test_log_refused);
    rm_rf(tmpdir);
    UNIT_DONE();
}
