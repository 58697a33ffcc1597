/* SPDX-License-Identifier: Apache-2.0 */
/* podrun pull: the OCI distribution API v2 over libcurl.
 *
 * A reference becomes a list of candidate names (aliases and unqualified-search-registries for
 * short names), each name a list of endpoints (its registry's mirrors, then its location).
 * From the first endpoint that works: the manifest (an index picks the host's platform), then
 * every blob the store lacks, concurrently over one curl multi handle, each verified by
 * digest as it is written and resumed with a range request when a connection drops. */
#include "auth.h"
#include "image.h"
#include "json.h"
#include "log.h"
#include "ref.h"
#include "regconf.h"
#include "util.h"

#include <curl/curl.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#define MAX_ATTEMPTS   4
#define MAX_PARALLEL   6
#define SMALL_BODY_MAX (4u << 20)

typedef struct reg_client {
    const struct pull_options *o;
    char *scheme; /* "https" or "http", settled by the first request */
    char *host;   /* host[:port] */
    char *repo;
    bool insecure;
    char *authorization; /* "Authorization: ..." header, once known */
    char *basic;         /* base64 user:password from the auth file */
    bool tried_token;
} reg_client;

static void reg_client_clear(reg_client *c)
{
    free(c->scheme);
    free(c->host);
    free(c->repo);
    free(c->authorization);
    free(c->basic);
    memset(c, 0, sizeof(*c));
}

/* --- one request, body in memory --- */

typedef struct http_resp {
    long status;
    char *body;
    size_t len;
    bool too_big;
    char *www_authenticate;
    char *content_digest;
    char *content_type;
} http_resp;

static void http_resp_clear(http_resp *r)
{
    free(r->body);
    free(r->www_authenticate);
    free(r->content_digest);
    free(r->content_type);
    memset(r, 0, sizeof(*r));
}

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
    http_resp *r = userdata;
    size_t len = size * n;
    if (r->len + len > SMALL_BODY_MAX) {
        r->too_big = true;
        return 0;
    }
    r->body = xrealloc(r->body, r->len + len + 1);
    memcpy(r->body + r->len, data, len);
    r->len += len;
    r->body[r->len] = '\0';
    return len;
}

/* The value of "Name: value" if line is that header, freshly allocated. */
static char *header_value(const char *line, size_t len, const char *name)
{
    size_t nl = strlen(name);
    if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return NULL;
    const char *v = line + nl + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    return strndup(v, (size_t)(end - v));
}

static size_t on_header(char *line, size_t size, size_t n, void *userdata)
{
    http_resp *r = userdata;
    size_t len = size * n;
    char *v;
    if (len > 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* A new response (after a redirect): forget the previous one's headers. */
        free(r->www_authenticate);
        free(r->content_digest);
        free(r->content_type);
        r->www_authenticate = r->content_digest = r->content_type = NULL;
    } else if ((v = header_value(line, len, "WWW-Authenticate"))) {
        free(r->www_authenticate);
        r->www_authenticate = v;
    } else if ((v = header_value(line, len, "Docker-Content-Digest"))) {
        free(r->content_digest);
        r->content_digest = v;
    } else if ((v = header_value(line, len, "Content-Type"))) {
        free(r->content_type);
        r->content_type = v;
    }
    return len;
}

static void set_common_options(CURL *h, const reg_client *c, char *errbuf)
{
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
    /* A stalled connection (no byte for 30 s) is a dropped one: retried. */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "podrun/" PACKAGE_VERSION);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, c->insecure ? "http,https" : "https");
    if (c->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

static void curl_easy_cleanupp(CURL **h)
{
    if (*h)
        curl_easy_cleanup(*h);
}

static void curl_slist_freep(struct curl_slist **l)
{
    if (*l)
        curl_slist_free_all(*l);
}

/* Plain GET; *curl_failed tells a transport failure (no HTTP status) from an HTTP one. */
static int http_get(const reg_client *c, const char *url, const char *accept,
                    const char *authorization, http_resp *resp, bool *curl_failed, pr_error **err)
{
    __attribute__((cleanup(curl_easy_cleanupp))) CURL *h = curl_easy_init();
    __attribute__((cleanup(curl_slist_freep))) struct curl_slist *hdrs = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    if (!h)
        return pr_err(err, ENOMEM, "curl_easy_init");
    set_common_options(h, c, errbuf);
    if (accept) {
        _cleanup_free_ char *a = xasprintf("Accept: %s", accept);
        hdrs = curl_slist_append(hdrs, a);
    }
    if (authorization)
        hdrs = curl_slist_append(hdrs, authorization);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
    pr_debug("GET %s", url);
    CURLcode rc = curl_easy_perform(h);
    if (curl_failed)
        *curl_failed = rc != CURLE_OK && !resp->too_big;
    if (resp->too_big)
        return pr_err(err, EFBIG, "GET %s: the response is larger than %u bytes", url,
                      SMALL_BODY_MAX);
    if (rc != CURLE_OK)
        return pr_err(err, 0, "GET %s: %s", url, *errbuf ? errbuf : curl_easy_strerror(rc));
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    return 0;
}

/* --- authentication --- */

/* key="value" pairs of a WWW-Authenticate challenge. */
static char *challenge_param(const char *ch, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = ch; (p = strcasestr(p, key)); p += kl) {
        if (p != ch && p[-1] != ' ' && p[-1] != ',')
            continue;
        const char *v = p + kl;
        if (*v != '=')
            continue;
        v++;
        if (*v == '"') {
            const char *end = strchr(v + 1, '"');
            return end ? strndup(v + 1, (size_t)(end - v - 1)) : NULL;
        }
        return strndup(v, strcspn(v, ", "));
    }
    return NULL;
}

static int fetch_token(reg_client *c, const char *challenge, pr_error **err)
{
    _cleanup_free_ char *realm = challenge_param(challenge, "realm");
    _cleanup_free_ char *service = challenge_param(challenge, "service");
    _cleanup_free_ char *scope = challenge_param(challenge, "scope");
    if (!realm)
        return pr_err(err, 0, "%s: a Bearer challenge without a realm", c->host);
    if (!scope)
        scope = xasprintf("repository:%s:pull", c->repo);
    __attribute__((cleanup(curl_easy_cleanupp))) CURL *h = curl_easy_init();
    char *es = curl_easy_escape(h, service ? service : "", 0);
    char *ec = curl_easy_escape(h, scope, 0);
    _cleanup_free_ char *url =
        xasprintf("%s%sservice=%s&scope=%s", realm, strchr(realm, '?') ? "&" : "?", es, ec);
    curl_free(es);
    curl_free(ec);
    _cleanup_free_ char *basic = c->basic ? xasprintf("Authorization: Basic %s", c->basic) : NULL;
    http_resp resp = {0};
    int r = http_get(c, url, NULL, basic, &resp, NULL, err);
    if (r == 0 && resp.status != 200)
        r = pr_err(err, EACCES, "%s: the token server %s answered HTTP %ld%s", c->host, realm,
                   resp.status, c->basic ? " (check the credentials in the auth file)" : "");
    _cleanup_json_ yajl_val root = NULL;
    const char *token = NULL;
    if (r == 0 && (r = json_parse(resp.body ? resp.body : "", "token response", &root, err)) == 0 &&
        (r = json_get_str(root, "token", "token response", &token, err)) == 0 && !token)
        r = json_get_str(root, "access_token", "token response", &token, err);
    if (r == 0 && !token)
        r = pr_err(err, 0, "%s: the token response has no token", c->host);
    if (r == 0) {
        free(c->authorization);
        c->authorization = xasprintf("Authorization: Bearer %s", token);
    }
    http_resp_clear(&resp);
    return r;
}

/* Answers a 401 once: a bearer token, or basic auth with stored credentials. */
static int authenticate(reg_client *c, const http_resp *resp, pr_error **err)
{
    const char *ch = resp->www_authenticate;
    if (c->tried_token || !ch)
        return pr_err(err, EACCES, "%s/%s: 401 Unauthorized: authentication failed%s", c->host,
                      c->repo,
                      c->basic ? "" : " (no credentials for this registry in the auth file)");
    c->tried_token = true;
    if (strncasecmp(ch, "Bearer", 6) == 0)
        return fetch_token(c, ch, err);
    if (strncasecmp(ch, "Basic", 5) == 0) {
        if (!c->basic)
            return pr_err(err, EACCES,
                          "%s: 401 Unauthorized: the registry wants a user and "
                          "password, and the auth file has none for it",
                          c->host);
        free(c->authorization);
        c->authorization = xasprintf("Authorization: Basic %s", c->basic);
        return 0;
    }
    return pr_err(err, EACCES, "%s: 401 Unauthorized with an unsupported challenge `%s`", c->host,
                  ch);
}

/* GET /v2/<repo>/<what>, settling the scheme (https, or http for an insecure registry that
 * does not speak TLS) and authenticating on a 401. */
static int reg_get(reg_client *c, const char *what, const char *accept, http_resp *resp,
                   pr_error **err)
{
    for (int round = 0; round < 3; round++) {
        http_resp_clear(resp);
        bool curl_failed = false;
        const char *scheme = c->scheme ? c->scheme : "https";
        _cleanup_free_ char *url = xasprintf("%s://%s/v2/%s/%s", scheme, c->host, c->repo, what);
        pr_error *e = NULL;
        int r = http_get(c, url, accept, c->authorization, resp, &curl_failed, &e);
        if (r < 0 && curl_failed && !c->scheme && c->insecure) {
            pr_debug("%s: https failed (%s), trying http", c->host, e->msg);
            pr_error_free(e);
            c->scheme = xstrdup("http");
            round--;
            continue;
        }
        if (r < 0) {
            if (err && !*err)
                *err = e;
            else
                pr_error_free(e);
            return r;
        }
        if (!c->scheme)
            c->scheme = xstrdup(scheme);
        if (resp->status != 401)
            return 0;
        r = authenticate(c, resp, err);
        if (r < 0)
            return r;
    }
    return pr_err(err, EACCES, "%s: authentication failed", c->host);
}

/* --- manifests --- */

static int fetch_manifest(reg_client *c, image_store *s, const char *ref, char digest[],
                          manifest *m, pr_error **err)
{
    http_resp resp = {0};
    _cleanup_free_ char *what = xasprintf("manifests/%s", ref);
    int r = reg_get(c, what, MANIFEST_ACCEPT, &resp, err);
    if (r == 0 && resp.status == 404)
        r = pr_err(err, ENOENT, "%s/%s:%s: manifest unknown (HTTP 404)", c->host, c->repo, ref);
    else if (r == 0 && resp.status != 200)
        r = pr_err(err, EIO, "%s/%s: GET manifest %s: HTTP %ld", c->host, c->repo, ref,
                   resp.status);
    if (r < 0) {
        http_resp_clear(&resp);
        return r;
    }
    char got[DIGEST_STR_LEN + 1];
    digest_buffer(resp.body ? resp.body : "", resp.len, got);
    /* By digest the name is the check; by tag the registry's Docker-Content-Digest is. */
    const char *expected = digest_is_valid(ref) ? ref : resp.content_digest;
    if (expected && has_prefix(expected, "sha256:") && !streq(expected, got))
        r = pr_err(err, 0,
                   "%s/%s: manifest %s: digest mismatch: the registry says %s, the data "
                   "hashes to %s",
                   c->host, c->repo, ref, expected, got);
    _cleanup_free_ char *mwhat = xasprintf("manifest %s", got);
    if (r == 0)
        r = manifest_parse(resp.body ? resp.body : "", mwhat, m, err);
    if (r == 0)
        r = store_put_blob(s, resp.body ? resp.body : "", resp.len, got, digest, err);
    if (r < 0 && m->media_type)
        manifest_clear(m);
    http_resp_clear(&resp);
    return r;
}

/* --- blobs, concurrently --- */

typedef struct blob_xfer {
    reg_client *c;
    const descriptor *d;
    const char *diff_id; /* a layer: unpacked by the pool as soon as it is stored */
    unpack_pool *pool;
    image_store *store;
    blob_writer *w;
    CURL *h;
    struct curl_slist *hdrs;
    long status;
    bool ranged;
    int attempts;
    bool done;
    pr_error *err;
    char errbuf[CURL_ERROR_SIZE];
} blob_xfer;

static size_t xfer_on_header(char *line, size_t size, size_t n, void *userdata)
{
    blob_xfer *x = userdata;
    size_t len = size * n;
    if (len > 12 && strncmp(line, "HTTP/", 5) == 0) {
        const char *sp = strchr(line, ' ');
        x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
    }
    return len;
}

static size_t xfer_on_body(char *data, size_t size, size_t n, void *userdata)
{
    blob_xfer *x = userdata;
    size_t len = size * n;
    if (x->status != 200 && x->status != 206)
        return len; /* an error page: not blob data */
    if (x->status == 200 && x->ranged) {
        /* The server ignored the range: start over. */
        x->ranged = false;
        if (blob_writer_restart(x->w, &x->err) < 0)
            return 0;
    }
    if (blob_writer_write(x->w, data, len, &x->err) < 0)
        return 0;
    return len;
}

static int xfer_start(blob_xfer *x, CURLM *multi, pr_error **err)
{
    if (!x->w) {
        int r = blob_writer_new(x->store, x->d->digest, x->d->size, &x->w, err);
        if (r < 0)
            return r;
    }
    if (x->h) {
        curl_multi_remove_handle(multi, x->h);
        curl_easy_cleanup(x->h);
    }
    if (x->hdrs)
        curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
    x->h = curl_easy_init();
    x->status = 0;
    x->attempts++;
    set_common_options(x->h, x->c, x->errbuf);
    _cleanup_free_ char *url =
        xasprintf("%s://%s/v2/%s/blobs/%s", x->c->scheme, x->c->host, x->c->repo, x->d->digest);
    if (x->c->authorization)
        x->hdrs = curl_slist_append(x->hdrs, x->c->authorization);
    int64_t have = blob_writer_size(x->w);
    x->ranged = have > 0;
    if (x->ranged) {
        _cleanup_free_ char *range = xasprintf("Range: bytes=%lld-", (long long)have);
        x->hdrs = curl_slist_append(x->hdrs, range);
    }
    curl_easy_setopt(x->h, CURLOPT_URL, url);
    curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdrs);
    curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, xfer_on_body);
    curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, xfer_on_header);
    curl_easy_setopt(x->h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
    pr_debug("GET %s%s", url, x->ranged ? " (resuming)" : "");
    curl_multi_add_handle(multi, x->h);
    return 0;
}

static bool transient(CURLcode rc)
{
    switch (rc) {
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

/* A transfer ended: commit, retry, or fail. Returns true when it should run again. */
static bool xfer_finished(blob_xfer *x, CURLcode rc)
{
    const char *where = x->d->digest;
    if (x->err) { /* our own write failed: size overflow or disk */
        x->done = true;
        return false;
    }
    if (rc == CURLE_OK && (x->status == 200 || x->status == 206)) {
        x->done = true;
        if (blob_writer_commit(x->w, NULL, &x->err) < 0)
            pr_err_prefix(&x->err, "%s/%s", x->c->host, x->c->repo);
        else if (x->pool)
            unpack_pool_add(x->pool, x->d->digest, x->diff_id);
        return false;
    }
    if (rc == CURLE_OK && x->status >= 500 && x->attempts < MAX_ATTEMPTS)
        return true;
    if (rc != CURLE_OK && transient(rc) && x->attempts < MAX_ATTEMPTS) {
        pr_debug("blob %s: %s; resuming at byte %lld", where,
                 *x->errbuf ? x->errbuf : curl_easy_strerror(rc),
                 (long long)blob_writer_size(x->w));
        return true;
    }
    x->done = true;
    if (rc != CURLE_OK)
        pr_err(&x->err, 0, "%s/%s: blob %s: download failed after %d attempts: %s", x->c->host,
               x->c->repo, where, x->attempts, *x->errbuf ? x->errbuf : curl_easy_strerror(rc));
    else
        pr_err(&x->err, 0, "%s/%s: blob %s: HTTP %ld", x->c->host, x->c->repo, where, x->status);
    return false;
}

/* Hands the caller's callback where every blob of the batch stands. */
static void report_progress(const struct pull_options *o, enum pull_progress_event ev,
                            blob_xfer *xs, struct pull_blob_progress *ps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        blob_xfer *x = &xs[i];
        ps[i] = (struct pull_blob_progress){
            .digest = x->d->digest,
            .have = x->w      ? blob_writer_size(x->w)
                    : x->done ? x->d->size
                              : 0,
            .total = x->d->size,
            .done = x->done,
            .failed = x->done && x->err,
        };
    }
    o->progress(ev, ps, n, o->progress_data);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Downloads the blobs ds names; each one with a pool is handed to it for unpacking once
 * stored (diff_ids[i] is what its uncompressed content must hash to). */
static int fetch_blobs(reg_client *c, image_store *s, const descriptor *const *ds,
                       const char *const *diff_ids, size_t n, unpack_pool *pool, pr_error **err)
{
    if (n == 0)
        return 0;
    blob_xfer *xs = xcalloc(n, sizeof(blob_xfer));
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)MAX_PARALLEL);
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        xs[i] = (blob_xfer){
            .c = c, .d = ds[i], .store = s, .pool = pool, .diff_id = diff_ids ? diff_ids[i] : NULL};
        r = xfer_start(&xs[i], multi, err);
    }
    bool progress = c->o && c->o->progress && r == 0;
    _cleanup_free_ struct pull_blob_progress *ps =
        progress ? xcalloc(n, sizeof(struct pull_blob_progress)) : NULL;
    if (progress)
        report_progress(c->o, PULL_PROGRESS_START, xs, ps, n);
    double last = now_s();
    int running = 1;
    while (r == 0 && running) {
        curl_multi_perform(multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            blob_xfer *x;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            if (xfer_finished(x, msg->data.result)) {
                if (x->attempts > 1)
                    usleep(200000 * (useconds_t)(x->attempts - 1));
                r = xfer_start(x, multi, err);
                running = 1;
            }
        }
        if (progress && now_s() - last > 0.1) {
            report_progress(c->o, PULL_PROGRESS_UPDATE, xs, ps, n);
            last = now_s();
        }
        if (running) {
            struct curl_waitfd cancel = {c->o ? c->o->cancel_fd : 0, CURL_WAIT_POLLIN, 0};
            curl_multi_poll(multi, &cancel, cancel.fd > 0 ? 1 : 0, 100, NULL);
            if (cancel.revents)
                r = pr_err_code(err, ECANCELED, "pull cancelled");
        }
    }
    if (progress)
        report_progress(c->o, PULL_PROGRESS_END, xs, ps, n);
    for (size_t i = 0; i < n; i++) {
        blob_xfer *x = &xs[i];
        if (r == 0 && x->err) {
            r = -(x->err->errnum ? x->err->errnum : EINVAL);
            if (err && !*err)
                *err = steal_pointer(&x->err);
        } else if (r == 0 && !x->done) {
            r = pr_err(err, EIO, "blob %s: transfer did not finish", x->d->digest);
        }
        pr_error_free(x->err);
        if (x->h) {
            curl_multi_remove_handle(multi, x->h);
            curl_easy_cleanup(x->h);
        }
        if (x->hdrs)
            curl_slist_free_all(x->hdrs);
        if (x->w)
            blob_writer_free(x->w);
    }
    curl_multi_cleanup(multi);
    free(xs);
    return r;
}

/* --- one endpoint --- */

static int pull_from(reg_client *c, image_store *s, const image_ref *ref, const char *name,
                     image_rec *out, pr_error **err)
{
    const char *tag = ref->digest ? ref->digest : ref->tag;
    char digest[DIGEST_STR_LEN + 1];
    manifest m = {0};
    int r = fetch_manifest(c, s, tag, digest, &m, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *index_digest = NULL;
    if (m.is_index) {
        _cleanup_free_ char *what = xasprintf("%s/%s:%s", c->host, c->repo, tag);
        int i = index_pick_host(&m, what, err);
        if (i < 0) {
            manifest_clear(&m);
            return i;
        }
        index_digest = xstrdup(digest);
        _cleanup_free_ char *pick = xstrdup(m.manifests[i].digest);
        manifest_clear(&m);
        r = fetch_manifest(c, s, pick, digest, &m, err);
        if (r < 0)
            return r;
        if (m.is_index) {
            manifest_clear(&m);
            return pr_err(err, 0, "%s: nested indexes are not supported", what);
        }
    }
    /* The config first (it is small): its diff_ids let each layer be checked and unpacked
     * while the others still download. */
    if (!store_has_blob(s, m.config.digest)) {
        const descriptor *cfg[] = {&m.config};
        r = fetch_blobs(c, s, cfg, NULL, 1, NULL, err);
    }
    _cleanup_strv_ char **diff_ids = NULL;
    _cleanup_free_ char *created = NULL;
    if (r == 0)
        r = images_config_info(s, m.config.digest, &created, &diff_ids, err);
    if (r == 0 && diff_ids && strv_length(diff_ids) != m.nlayers)
        r = pr_err(err, 0, "image config %s lists %zu diff_ids for the manifest's %zu layers",
                   m.config.digest, strv_length(diff_ids), m.nlayers);
    if (r < 0) {
        manifest_clear(&m);
        return r;
    }
    /* Only what the store lacks: pulling an image already there downloads no blob. */
    const descriptor **need = xcalloc(m.nlayers + 1, sizeof(descriptor *));
    const char **need_diff = xcalloc(m.nlayers + 1, sizeof(char *));
    size_t n = 0;
    for (size_t i = 0; i < m.nlayers; i++) {
        bool dup = false;
        for (size_t j = 0; j < n; j++)
            dup |= streq(need[j]->digest, m.layers[i].digest);
        if (dup || store_has_blob(s, m.layers[i].digest))
            continue;
        need_diff[n] = diff_ids ? diff_ids[i] : NULL;
        need[n++] = &m.layers[i];
    }
    if (n)
        pr_debug("%s: fetching %zu layers", name, n);
    unpack_pool *pool = unpack_pool_new(s);
    r = fetch_blobs(c, s, need, need_diff, n, pool, err);
    int pr = unpack_pool_finish(pool, r < 0 ? NULL : err);
    if (r == 0)
        r = pr;
    free(need);
    free(need_diff);
    /* The manifest and config were verified above: the commit takes them as they are. */
    char *names[] = {(char *)name, NULL};
    if (r == 0)
        r = images_commit_verified(s, digest, &m, created, diff_ids, index_digest, names, out, err);
    manifest_clear(&m);
    return r;
}

/* --- names and endpoints --- */

typedef struct endpoint {
    char *host, *repo;
    bool insecure;
} endpoint;

/* "prefix-matched name" -> "location + rest", split into host and repository. */
static void make_endpoint(endpoint *e, const char *location, const char *prefix, const char *name,
                          bool insecure)
{
    const char *rest = name + (has_prefix(prefix, "*.") ? strcspn(name, "/") : strlen(prefix));
    _cleanup_free_ char *full = xasprintf("%s%s", location, rest);
    char *slash = strchr(full, '/');
    e->host = slash ? strndup(full, (size_t)(slash - full)) : xstrdup(full);
    e->repo = xstrdup(slash ? slash + 1 : "");
    if (streq(e->host, "docker.io")) { /* docker.io's API lives on another host */
        free(e->host);
        e->host = xstrdup("registry-1.docker.io");
    }
    e->insecure = insecure || host_is_local(e->host);
}

static int endpoints_for(const reg_conf *conf, const image_ref *ref, int tls_verify, endpoint **out,
                         size_t *n, pr_error **err)
{
    _cleanup_free_ char *name = xasprintf("%s/%s", ref->domain, ref->path);
    const reg_entry *e = reg_conf_match(conf, name);
    if (e && e->blocked)
        return pr_err(err, EPERM, "registry `%s` is blocked in registries.conf", e->prefix);
    *n = 0;
    *out = xcalloc(e ? e->nmirrors + 1 : 1, sizeof(endpoint));
    if (e) {
        for (size_t i = 0; i < e->nmirrors; i++)
            make_endpoint(&(*out)[(*n)++], e->mirrors[i].location, e->prefix, name,
                          e->mirrors[i].insecure || tls_verify == 0);
        make_endpoint(&(*out)[(*n)++], e->main.location, e->prefix, name,
                      e->main.insecure || tls_verify == 0);
    } else {
        make_endpoint(&(*out)[(*n)++], ref->domain, ref->domain, name, tls_verify == 0);
    }
    return 0;
}

/* Fully qualified candidates for what the user typed. */
static int candidates_for(const reg_conf *conf, const char *input, char ***out, pr_error **err)
{
    image_ref r;
    int ret = image_ref_parse(input, &r, err);
    if (ret < 0)
        return ret;
    char **v = xcalloc(1, sizeof(char *));
    size_t n = 0;
    const char *alias = r.domain ? NULL : reg_conf_alias(conf, r.path);
    if (r.domain || alias) {
        image_ref q = {0};
        if (alias) {
            if ((ret = image_ref_parse(alias, &q, err)) < 0) {
                image_ref_clear(&r);
                free(v);
                return pr_err_prefix(err, "alias `%s` in registries.conf", r.path);
            }
            if (!q.tag && !q.digest) {
                q.tag = r.tag ? xstrdup(r.tag) : NULL;
                q.digest = r.digest ? xstrdup(r.digest) : NULL;
            }
        } else {
            q = r;
            memset(&r, 0, sizeof(r));
        }
        image_ref_normalize(&q);
        v = xrealloc(v, 2 * sizeof(char *));
        v[n++] = image_ref_string(&q);
        image_ref_clear(&q);
    } else {
        static char *const fallback[] = {"docker.io", NULL};
        char *const *search = conf->search && conf->search[0] ? conf->search : fallback;
        for (; *search; search++) {
            image_ref q = {.domain = xstrdup(*search),
                           .path = xstrdup(r.path),
                           .tag = r.tag ? xstrdup(r.tag) : NULL,
                           .digest = r.digest ? xstrdup(r.digest) : NULL};
            image_ref_normalize(&q);
            v = xrealloc(v, (n + 2) * sizeof(char *));
            v[n++] = image_ref_string(&q);
            image_ref_clear(&q);
        }
    }
    v[n] = NULL;
    image_ref_clear(&r);
    *out = v;
    return 0;
}

static char *append_msg(char *acc, const char *msg)
{
    char *n = acc ? xasprintf("%s; %s", acc, msg) : xstrdup(msg);
    free(acc);
    return n;
}

static bool pull_cancelled(const struct pull_options *o)
{
    struct pollfd p = {o ? o->cancel_fd : 0, POLLIN, 0};
    return p.fd > 0 && poll(&p, 1, 0) == 1;
}

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int images_pull(image_store *s, const char *input, const struct pull_options *o, char **id,
                pr_error **err)
{
    /* Once per process, also when a server pulls on several threads at once. */
    static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
    pthread_once(&curl_once, curl_init_once);
    store_clear_stale_staging(s);
    reg_conf conf = {0};
    int r = reg_conf_load(o ? o->registries_conf : NULL, &conf, err);
    if (r < 0)
        return r;
    _cleanup_strv_ char **names = NULL;
    r = candidates_for(&conf, input, &names, err);
    _cleanup_free_ char *errors = NULL;
    bool pulled = false;
    for (char **name = names; r == 0 && !pulled && name && *name; name++) {
        image_ref ref;
        if ((r = image_ref_parse(*name, &ref, err)) < 0)
            break;
        endpoint *eps = NULL;
        size_t neps = 0;
        pr_error *e = NULL;
        if (endpoints_for(&conf, &ref, o ? o->tls_verify : -1, &eps, &neps, &e) < 0) {
            errors = append_msg(errors, e->msg);
            pr_error_free(e);
        }
        /* Mirrors first, then the registry itself: the first that serves the image wins. */
        for (size_t i = 0; i < neps && !pulled && !pull_cancelled(o); i++) {
            reg_client c = {.o = o,
                            .host = xstrdup(eps[i].host),
                            .repo = xstrdup(eps[i].repo),
                            .insecure = eps[i].insecure};
            c.basic = o && o->basic_auth ? xstrdup(o->basic_auth)
                                         : auth_lookup(o ? o->auth_file : NULL, c.host);
            if (o && o->bearer_token)
                c.authorization = xasprintf("Authorization: Bearer %s", o->bearer_token);
            e = NULL;
            image_rec rec = {0};
            if (pull_from(&c, s, &ref, *name, &rec, &e) == 0) {
                pulled = true;
                if (id)
                    *id = xstrdup(rec.config);
            } else {
                errors = append_msg(errors, e ? e->msg : "failed");
                pr_error_free(e);
            }
            image_rec_clear(&rec);
            reg_client_clear(&c);
        }
        for (size_t j = 0; j < neps; j++) {
            free(eps[j].host);
            free(eps[j].repo);
        }
        free(eps);
        image_ref_clear(&ref);
    }
    reg_conf_clear(&conf);
    if (pulled)
        return 0;
    store_gc_if_alone(s);
    if (r < 0)
        return r;
    if (pull_cancelled(o))
        return pr_err_code(err, ECANCELED, "pull `%s`: cancelled", input);
    return pr_err(err, 0, "pull `%s`: %s", input, errors ? errors : "no registry to try");
}
