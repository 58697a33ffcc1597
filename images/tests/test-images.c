/* SPDX-License-Identifier: Apache-2.0 */
/* images/: digests, references, manifests, the blob store and the image index. */
#include "fs.h"
#include "images/digest.h"
#include "images/images.h"
#include "images/manifest.h"
#include "images/auth.h"
#include "images/ref.h"
#include "images/regconf.h"
#include "images/store.h"
#include "tests/lib/unit.h"
#include "util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char *tmp_root(void)
{
    char tmpl[] = "/tmp/podrun-test-images-XXXXXX";
    return xstrdup(mkdtemp(tmpl));
}

static size_t count_entries(const char *dir)
{
    _cleanup_dir_ DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    return n;
}

static void test_digest(void)
{
    char d[DIGEST_STR_LEN + 1];
    digest_buffer("abc", 3, d);
    CHECK_STR(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(digest_is_valid(d));
    CHECK(!digest_is_valid("sha256:../../etc/passwd"));
    CHECK(!digest_is_valid(
        "sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    CHECK(!digest_is_valid(
        "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
}

static void test_refs(void)
{
    static const char *cases[][2] = {
        {"busybox", "docker.io/library/busybox:latest"},
        {"busybox:1.36", "docker.io/library/busybox:1.36"},
        {"user/app", "docker.io/user/app:latest"},
        {"localhost/app", "localhost/app:latest"},
        {"127.0.0.1:5000/a/b:v1", "127.0.0.1:5000/a/b:v1"},
        {"registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9"},
        {"quay.io/x/y@sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
         "quay.io/x/y@sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *out = NULL;
        CHECK(image_ref_normalize_string(cases[i][0], &out, NULL) == 0);
        CHECK_STR(out, cases[i][1]);
    }
    static const char *good[] = {"x/a.b_c__d---e/f:_tag.x-1", "Registry.Example.COM:65535/a/b",
                                 "[::1]:5000/a", "my-reg.io/a", "localhost:1/x"};
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        _cleanup_free_ char *out = NULL;
        pr_error *err = NULL;
        CHECK(image_ref_normalize_string(good[i], &out, &err) == 0);
        pr_error_free(err);
    }
    char repo300[320], name255[300], name256[300], tag128[140], tag129[140];
    memset(repo300, 'a', 300), repo300[300] = '\0';
    /* docker.io/library/ (18 bytes) counts: 237 + 18 = 255 is the most. */
    snprintf(name255, sizeof(name255), "%0237d", 0);
    snprintf(name256, sizeof(name256), "%0238d", 0);
    memset(tag128, 't', 128), tag128[128] = '\0';
    memset(tag129, 't', 129), tag129[129] = '\0';
    _cleanup_free_ char *with_tag128 = xasprintf("a:%s", tag128);
    _cleanup_free_ char *with_tag129 = xasprintf("a:%s", tag129);
    {
        _cleanup_free_ char *out = NULL, *out2 = NULL;
        CHECK(image_ref_normalize_string(name255, &out, NULL) == 0);
        CHECK(image_ref_normalize_string(with_tag128, &out2, NULL) == 0);
    }
    const char *bad[] = {"",
                         "x/UPPER",
                         "a//b",
                         "x:",
                         "x@sha256:zz",
                         "x:-bad",
                         "/abs",
                         "../../etc",
                         "a/../b",
                         "a/./b",
                         "-x",
                         "x-",
                         "a..b",
                         "a___b",
                         "_a",
                         "a/b/",
                         "reg istry.io/a",
                         "a\nb",
                         "a:b\nc",
                         "registry.io:99999/a",
                         "registry.io:0/a",
                         "registry.io:/a",
                         "registry.io:5x/a",
                         "-reg.io/a",
                         "reg-.io/a",
                         "reg..io/a",
                         "[zz]/a",
                         "[]:5/a",
                         "a b",
                         "a:.x",
                         repo300,
                         name256,
                         with_tag129};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        _cleanup_free_ char *out = NULL;
        pr_error *err = NULL;
        CHECK(image_ref_normalize_string(bad[i], &out, &err) < 0);
        CHECK(err && !strchr(err->msg, '\n'));
        pr_error_free(err);
    }

    CHECK(image_ref_is_short("busybox") && image_ref_is_short("a/b"));
    CHECK(!image_ref_is_short("quay.io/a") && !image_ref_is_short("localhost/a"));
}

static void test_manifest_platform(void)
{
    const char *idx =
        "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_LIST "\",\"manifests\":["
        "{\"digest\":\"sha256:"
        "1111111111111111111111111111111111111111111111111111111111111111"
        "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":"
        "\"v8\"}},"
        "{\"digest\":\"sha256:"
        "2222222222222222222222222222222222222222222222222222222222222222"
        "\",\"size\":1,\"platform\":{\"os\":\"windows\",\"architecture\":\"amd64\"}}]}";
    manifest m = {0};
    pr_error *err = NULL;
    CHECK(manifest_parse(idx, "t", &m, &err) == 0 && m.is_index && m.nmanifests == 2);
    CHECK(index_pick_host(&m, "t", &err) < 0);
    CHECK(err && strstr(err->msg, "linux/arm64/v8, windows/amd64"));
    pr_error_free(err);
    err = NULL;
    free(m.manifests[1].os);
    m.manifests[1].os = xstrdup("linux");
    CHECK(index_pick_host(&m, "t", &err) == 1);
    manifest_clear(&m);
    CHECK(manifest_parse("{\"schemaVersion\":1,\"fsLayers\":[]}", "t", &m, &err) < 0);
    CHECK(err && strstr(err->msg, "schema 1"));
    pr_error_free(err);
    err = NULL;
    CHECK(manifest_parse("{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:x\",\"size\":1},"
                         "\"layers\":[]}",
                         "t", &m, &err) < 0);
    pr_error_free(err);
}

static void test_blob_verify(void)
{
    _cleanup_free_ char *root = tmp_root();
    _cleanup_store_ image_store *s = NULL;
    pr_error *err = NULL;
    CHECK(store_open(root, false, &s, &err) == 0);
    char d[DIGEST_STR_LEN + 1];
    digest_buffer("hello", 5, d);
    /* Wrong content for the digest: an error, and nothing stored or left in tmp. */
    CHECK(store_put_blob(s, "hellO", 5, d, NULL, &err) < 0);
    CHECK(err && strstr(err->msg, "digest mismatch"));
    pr_error_free(err);
    err = NULL;
    CHECK(!store_has_blob(s, d));
    _cleanup_free_ char *tmpdir = xasprintf("%s/tmp", root);
    _cleanup_free_ char *blobdir = xasprintf("%s/blobs/sha256", root);
    CHECK(count_entries(tmpdir) == 0 && count_entries(blobdir) == 0);
    /* Too much data for the declared size. */
    _cleanup_blob_writer_ blob_writer *w = NULL;
    CHECK(blob_writer_new(s, d, 3, &w, &err) == 0);
    CHECK(blob_writer_write(w, "hello", 5, &err) < 0);
    pr_error_free(err);
    err = NULL;
    blob_writer_free(steal_pointer(&w));
    CHECK(count_entries(tmpdir) == 0);
    /* Right content. */
    char got[DIGEST_STR_LEN + 1];
    CHECK(store_put_blob(s, "hello", 5, d, got, &err) == 0);
    CHECK_STR(got, d);
    CHECK(store_has_blob(s, d));
    _cleanup_free_ char *text = NULL;
    CHECK(store_read_blob(s, d, 100, &text, NULL, &err) == 0);
    CHECK_STR(text, "hello");
    /* Unknown digest: computed. */
    CHECK(store_put_blob(s, "abc", 3, NULL, got, &err) == 0);
    CHECK_STR(got, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(count_entries(tmpdir) == 0 && count_entries(blobdir) == 2);
    /* A malformed digest never becomes a path. */
    CHECK(store_open_blob(s, "sha256:../../x", &err) < 0);
    pr_error_free(err);
    rm_rf(root);
}

static image_rec fake_rec(const char *seed, const char *name)
{
    image_rec r = {0};
    char d[DIGEST_STR_LEN + 1];
    _cleanup_free_ char *m = xasprintf("m-%s", seed), *c = xasprintf("c-%s", seed);
    digest_buffer(m, strlen(m), d);
    r.manifest = xstrdup(d);
    digest_buffer(c, strlen(c), d);
    r.config = xstrdup(d);
    r.names = xcalloc(2, sizeof(char *));
    r.names[0] = name ? xstrdup(name) : NULL;
    r.layers = xcalloc(1, sizeof(char *));
    r.media_types = xcalloc(1, sizeof(char *));
    return r;
}

static void test_index(void)
{
    _cleanup_free_ char *root = tmp_root();
    _cleanup_store_ image_store *s = NULL;
    pr_error *err = NULL;
    CHECK(store_open(root, false, &s, &err) == 0);
    image_rec a = fake_rec("a", "docker.io/library/busybox:latest");
    image_rec b = fake_rec("b", "quay.io/x/app:1");
    CHECK(store_add_image(s, &a, &err) == 0 && store_add_image(s, &b, &err) == 0);
    image_rec got = {0};
    CHECK(store_find_image(s, "busybox", &got, &err) == 0);
    CHECK_STR(got.config, a.config);
    image_rec_clear(&got);
    CHECK(store_find_image(s, "app:1", &got, &err) == 0); /* short name, any registry */
    CHECK_STR(got.config, b.config);
    image_rec_clear(&got);
    CHECK(store_find_image(s, digest_hex(b.config), &got, &err) == 0); /* by ID */
    image_rec_clear(&got);
    /* A tag moves: b takes busybox's name. */
    CHECK(store_tag_image(s, "quay.io/x/app:1", "busybox", &err) == 0);
    CHECK(store_find_image(s, "docker.io/library/busybox:latest", &got, &err) == 0);
    CHECK_STR(got.config, b.config);
    image_rec_clear(&got);
    _cleanup_image_list_ image_list *l = NULL;
    CHECK(store_list_images(s, &l, &err) == 0 && l->n == 2 && !l->v[0].names[0]);
    /* rmi by one name untags; by the last name removes. */
    char *removed = NULL;
    CHECK(store_remove_image(s, "busybox", false, &removed, &err) == 0 && !removed);
    CHECK(store_remove_image(s, "quay.io/x/app:1", false, &removed, &err) == 0 && removed);
    free(removed);
    CHECK(store_find_image(s, "app:1", &got, &err) < 0);
    CHECK(err && strstr(err->msg, "not in the store"));
    pr_error_free(err);
    image_rec_clear(&a);
    image_rec_clear(&b);
    rm_rf(root);
}

/* Several processes adding images at once: the index lock keeps every one. */
static void test_index_concurrent(void)
{
    _cleanup_free_ char *root = tmp_root();
    enum { N = 8 };
    for (int i = 0; i < N; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            image_store *s = NULL;
            char seed[8], name[64];
            snprintf(seed, sizeof(seed), "%d", i);
            snprintf(name, sizeof(name), "localhost/p%d:latest", i);
            if (store_open(root, false, &s, NULL) < 0)
                _exit(1);
            for (int k = 0; k < 20; k++) {
                image_rec r = fake_rec(seed, name);
                if (store_add_image(s, &r, NULL) < 0)
                    _exit(1);
                image_rec_clear(&r);
            }
            _exit(0);
        }
    }
    int ok = 0, status;
    while (wait(&status) > 0)
        ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
    CHECK(ok == N);
    _cleanup_store_ image_store *s = NULL;
    _cleanup_image_list_ image_list *l = NULL;
    CHECK(store_open(root, false, &s, NULL) == 0 && store_list_images(s, &l, NULL) == 0);
    CHECK(l && l->n == N);
    rm_rf(root);
}

static void test_registries_conf(void)
{
    const char *text = "# comment\n"
                       "unqualified-search-registries = [\"quay.io\", # first\n"
                       "  'docker.io']\n"
                       "short-name-mode = \"enforcing\"\n"
                       "[[registry]]\n"
                       "prefix = \"registry.k8s.io\"\n"
                       "location = \"127.0.0.1:5000/k8s\"\n"
                       "insecure = true\n"
                       "[[registry.mirror]]\n"
                       "location = \"mirror.local\"\n"
                       "[[registry]]\n"
                       "location = \"registry.k8s.io/special\"\n"
                       "blocked = true\n"
                       "[[registry]]\n"
                       "prefix = \"*.example.com\"\n"
                       "location = \"ex.local\"\n"
                       "[aliases]\n"
                       "\"bb\" = \"docker.io/library/busybox\"\n";
    reg_conf c = {0};
    pr_error *err = NULL;
    CHECK(reg_conf_parse(text, "t", &c, &err) == 0);
    CHECK(c.search && strv_length(c.search) == 2);
    CHECK_STR(c.search ? c.search[1] : NULL, "docker.io");
    CHECK(c.nregs == 3);
    const reg_entry *e = reg_conf_match(&c, "registry.k8s.io/pause");
    CHECK(e && streq(e->main.location, "127.0.0.1:5000/k8s") && e->main.insecure &&
          e->nmirrors == 1 && streq(e->mirrors[0].location, "mirror.local") &&
          !e->mirrors[0].insecure);
    e = reg_conf_match(&c, "registry.k8s.io/special/x"); /* the longest prefix wins */
    CHECK(e && e->blocked);
    CHECK(reg_conf_match(&c, "registry.k8s.iox/y") == NULL); /* at a component boundary */
    e = reg_conf_match(&c, "a.example.com/x");
    CHECK(e && streq(e->main.location, "ex.local"));
    CHECK_STR(reg_conf_alias(&c, "bb"), "docker.io/library/busybox");
    CHECK(reg_conf_alias(&c, "cc") == NULL);
    reg_conf_clear(&c);
    CHECK(reg_conf_parse("[[registry.mirror]]\nlocation = \"x\"\n", "t", &c, &err) < 0);
    CHECK(err && strstr(err->msg, "t:1"));
    pr_error_free(err);
    CHECK(host_is_local("localhost:5000") && host_is_local("127.0.0.1:1") &&
          host_is_local("[::1]:5"));
    CHECK(!host_is_local("127.0.0.2:5000") && !host_is_local("quay.io"));
}

static void test_auth_file(void)
{
    _cleanup_free_ char *root = tmp_root();
    _cleanup_free_ char *path = xasprintf("%s/auth.json", root);
    const char *json = "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"dTpw\"},"
                       "\"quay.io\":{\"auth\":\"cTpx\"},\"empty.io\":{}}}";
    CHECK(write_file_atomic(path, json, strlen(json), 0600, NULL) == 0);
    _cleanup_free_ char *a = auth_lookup(path, "quay.io");
    _cleanup_free_ char *b = auth_lookup(path, "registry-1.docker.io");
    _cleanup_free_ char *c = auth_lookup(path, "empty.io");
    CHECK_STR(a, "cTpx");
    CHECK_STR(b, "dTpw");
    CHECK(c == NULL);
    rm_rf(root);
}

int main(void)
{
    RUN(test_digest);
    RUN(test_refs);
    RUN(test_manifest_platform);
    RUN(test_blob_verify);
    RUN(test_index);
    RUN(test_index_concurrent);
    RUN(test_registries_conf);
    RUN(test_auth_file);
    UNIT_DONE();
}
