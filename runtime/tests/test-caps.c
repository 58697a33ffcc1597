/* SPDX-License-Identifier: Apache-2.0 */
/* process.capabilities: parse errors name the set and the capability; applied sets are what
 * /proc/self/status shows afterwards (checked in a forked child, which needs root). */
#include "caps.h"
#include "json.h"
#include "tests/lib/unit.h"
#include "util.h"

#include <inttypes.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static int parse(const char *caps_json, struct rt_caps **out, char **msg)
{
    yajl_val v = NULL;
    pr_error *err = NULL;
    *out = NULL;
    if (msg)
        *msg = NULL;
    if (caps_json && json_parse(caps_json, "test caps", &v, &err) < 0) {
        fprintf(stderr, "# bad test JSON: %s\n", err->msg);
        pr_error_free(err);
        return -999;
    }
    int r = rt_caps_parse(v, out, &err);
    if (r < 0 && msg)
        *msg = xstrdup(err ? err->msg : "(no message)");
    else if (r < 0)
        fprintf(stderr, "# parse failed: %s\n", err ? err->msg : "?");
    pr_error_free(err);
    if (v)
        yajl_tree_free(v);
    return r;
}

static void check_error(const char *caps_json, const char *expected)
{
    struct rt_caps *c = NULL;
    char *msg = NULL;
    CHECK(parse(caps_json, &c, &msg) < 0);
    CHECK(c == NULL);
    CHECK_STR(msg, expected);
    free(msg);
    rt_caps_free(c);
}

static void test_unknown_name(void)
{
    check_error("{\"bounding\":[\"CAP_CHOWN\"],\"effective\":[\"CAP_CHOWN\",\"CAP_FLY\"]}",
                "process.capabilities.effective[1]: unknown capability \"CAP_FLY\"");
    /* Names are exact: the spec writes them upper case with the CAP_ prefix. */
    check_error("{\"ambient\":[\"cap_chown\"]}",
                "process.capabilities.ambient[0]: unknown capability \"cap_chown\"");
    check_error("{\"bounding\":[\"CHOWN\"]}",
                "process.capabilities.bounding[0]: unknown capability \"CHOWN\"");
}

static void test_wrong_types(void)
{
    check_error("{\"permitted\":[\"CAP_KILL\",7]}",
                "process.capabilities.permitted[1]: expected string, got number");
    check_error("{\"inheritable\":\"CAP_KILL\"}",
                "process.capabilities.inheritable: expected array, got string");
    check_error("[\"CAP_KILL\"]", "process.capabilities: expected object, got array");
}

static void test_effective_outside_permitted(void)
{
    check_error("{\"effective\":[\"CAP_KILL\"],\"permitted\":[\"CAP_CHOWN\"]}",
                "process.capabilities.effective: CAP_KILL is not in the permitted set (the "
                "effective set must be a subset of it)");
}

static void test_all_known_names_parse(void)
{
    static const char *all[] = {
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
    };
    char *list = xstrdup("");
    for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
        char *n = xasprintf("%s%s\"%s\"", list, i ? "," : "", all[i]);
        free(list);
        list = n;
    }
    char *json =
        xasprintf("{\"bounding\":[%s],\"effective\":[%s],\"permitted\":[%s]}", list, list, list);
    struct rt_caps *c = NULL;
    CHECK(parse(json, &c, NULL) == 0);
    CHECK(c != NULL);
    rt_caps_free(c);
    free(json);
    free(list);
}

/* One line of /proc/self/status ("CapEff:\t0000000000000401") as a number. */
static uint64_t status_caps(const char *key)
{
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    uint64_t v = UINT64_MAX;
    size_t klen = strlen(key);
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, key, klen) == 0 && line[klen] == ':')
            v = strtoull(line + klen + 1, NULL, 16);
    if (f)
        fclose(f);
    return v;
}

struct expected {
    uint64_t bnd, eff, prm, inh, amb;
};

/* In a forked child: apply c, compare every set with the expectation; the exit code counts
 * the mismatches (each one printed as a TAP comment). */
static int apply_in_child(const struct rt_caps *c, const struct expected *want)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        pr_error *err = NULL;
        if (rt_caps_apply_bounding(c, &err) < 0 || rt_caps_apply(c, &err) < 0) {
            fprintf(stderr, "# apply: %s\n", err->msg);
            _exit(100);
        }
        const struct {
            const char *key;
            uint64_t want;
        } sets[] = {{"CapBnd", want->bnd},
                    {"CapEff", want->eff},
                    {"CapPrm", want->prm},
                    {"CapInh", want->inh},
                    {"CapAmb", want->amb}};
        int bad = 0;
        for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
            uint64_t got = status_caps(sets[i].key);
            if (got != sets[i].want) {
                fprintf(stderr, "# %s: got %016" PRIx64 ", want %016" PRIx64 "\n", sets[i].key, got,
                        sets[i].want);
                bad++;
            }
        }
        _exit(bad);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#define BIT(n) (UINT64_C(1) << (n))
enum { CHOWN = 0, KILL = 5, SETPCAP = 8, NET_BIND_SERVICE = 10, NET_RAW = 13 };

/* Applying needs CAP_SETPCAP (bounding drops) and the capabilities the tests keep. */
static bool can_apply(void)
{
    uint64_t need = BIT(CHOWN) | BIT(KILL) | BIT(SETPCAP) | BIT(NET_BIND_SERVICE) | BIT(NET_RAW);
    return (status_caps("CapEff") & need) == need;
}

static void test_apply_sets(void)
{
    if (!can_apply()) {
        SKIP("needs CAP_SETPCAP, CAP_CHOWN, CAP_KILL, CAP_NET_BIND_SERVICE and CAP_NET_RAW");
    }
    struct rt_caps *c = NULL;
    CHECK(parse("{\"bounding\":[\"CAP_CHOWN\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\","
                "\"CAP_NET_RAW\"],"
                "\"effective\":[\"CAP_CHOWN\",\"CAP_NET_BIND_SERVICE\"],"
                "\"permitted\":[\"CAP_CHOWN\",\"CAP_NET_BIND_SERVICE\",\"CAP_NET_RAW\"],"
                "\"inheritable\":[\"CAP_NET_BIND_SERVICE\",\"CAP_NET_RAW\"],"
                "\"ambient\":[\"CAP_NET_BIND_SERVICE\"]}",
                &c, NULL) == 0);
    struct expected want = {
        .bnd = BIT(CHOWN) | BIT(KILL) | BIT(NET_BIND_SERVICE) | BIT(NET_RAW),
        .eff = BIT(CHOWN) | BIT(NET_BIND_SERVICE),
        .prm = BIT(CHOWN) | BIT(NET_BIND_SERVICE) | BIT(NET_RAW),
        .inh = BIT(NET_BIND_SERVICE) | BIT(NET_RAW),
        .amb = BIT(NET_BIND_SERVICE),
    };
    if (c)
        CHECK(apply_in_child(c, &want) == 0);
    rt_caps_free(c);
}

static void test_ambient_not_inheritable_is_skipped(void)
{
    if (!can_apply()) {
        SKIP("needs CAP_SETPCAP, CAP_CHOWN, CAP_KILL, CAP_NET_BIND_SERVICE and CAP_NET_RAW");
    }
    struct rt_caps *c = NULL;
    /* CAP_KILL is permitted but not inheritable: a warning, not an error, and not raised. */
    CHECK(parse("{\"bounding\":[\"CAP_KILL\",\"CAP_NET_RAW\"],\"permitted\":[\"CAP_KILL\","
                "\"CAP_NET_RAW\"],\"inheritable\":[\"CAP_NET_RAW\"],"
                "\"ambient\":[\"CAP_KILL\",\"CAP_NET_RAW\"]}",
                &c, NULL) == 0);
    struct expected want = {
        .bnd = BIT(KILL) | BIT(NET_RAW),
        .eff = 0,
        .prm = BIT(KILL) | BIT(NET_RAW),
        .inh = BIT(NET_RAW),
        .amb = BIT(NET_RAW),
    };
    if (c)
        CHECK(apply_in_child(c, &want) == 0);
    rt_caps_free(c);
}

static void test_null_drops_everything(void)
{
    if (!can_apply()) {
        SKIP("needs CAP_SETPCAP, CAP_CHOWN, CAP_KILL, CAP_NET_BIND_SERVICE and CAP_NET_RAW");
    }
    struct rt_caps *c = NULL;
    CHECK(parse(NULL, &c, NULL) == 0);
    CHECK(c != NULL);
    struct expected none = {0};
    if (c)
        CHECK(apply_in_child(c, &none) == 0);
    rt_caps_free(c);
}

static void test_features(void)
{
    yajl_gen g = json_gen_new(false);
    rt_caps_features(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    char *text = strndup(buf, len);
    yajl_gen_free(g);
    yajl_val v = NULL;
    pr_error *err = NULL;
    CHECK(json_parse(text, "features", &v, &err) == 0);
    CHECK(json_array_len(v) == 41);
    if (json_array_len(v) == 41) {
        CHECK_STR(json_array_at(v, 0)->u.string, "CAP_CHOWN");
        CHECK_STR(json_array_at(v, 21)->u.string, "CAP_SYS_ADMIN");
        CHECK_STR(json_array_at(v, 40)->u.string, "CAP_CHECKPOINT_RESTORE");
    }
    if (v)
        yajl_tree_free(v);
    pr_error_free(err);
    free(text);
}

int main(void)
{
    RUN(test_unknown_name);
    RUN(test_wrong_types);
    RUN(test_effective_outside_permitted);
    RUN(test_all_known_names_parse);
    RUN(test_apply_sets);
    RUN(test_ambient_not_inheritable_is_skipped);
    RUN(test_null_drops_everything);
    RUN(test_features);
    UNIT_DONE();
}
