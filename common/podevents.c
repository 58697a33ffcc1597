/* SPDX-License-Identifier: Apache-2.0 */
#include "podevents.h"
#include "fs.h"
#include "json.h"
#include "util.h"

void podevent_clear(struct podevent *ev)
{
    free(ev->type);
    free(ev->reason);
    free(ev->message);
    free(ev->component);
    free(ev->field_path);
}

void podevents_clear(struct podevents *e)
{
    for (size_t i = 0; i < e->n; i++)
        podevent_clear(&e->v[i]);
    free(e->v);
    e->v = NULL;
    e->n = 0;
}

void podevents_take(struct podevents *dst, struct podevents *src)
{
    if (!src->n)
        return;
    dst->v = xrealloc(dst->v, (dst->n + src->n + 1) * sizeof(*dst->v));
    memcpy(dst->v + dst->n, src->v, src->n * sizeof(*src->v));
    dst->n += src->n;
    free(src->v);
    src->v = NULL;
    src->n = 0;
}

/* At most max bytes of s, not ending inside a UTF-8 sequence. */
static char *cut(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    if (n <= max)
        return xstrndup(s, n);
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return xstrndup(s, n);
}

static bool same(const char *a, const char *b)
{
    return a == b || (a && b && streq(a, b));
}

static void drop_least_recent(struct podevents *e)
{
    size_t old = 0;
    for (size_t i = 1; i < e->n; i++)
        if (e->v[i].last_usec < e->v[old].last_usec)
            old = i;
    podevent_clear(&e->v[old]);
    memmove(&e->v[old], &e->v[old + 1], (e->n - old - 1) * sizeof(*e->v));
    e->n--;
}

static void add(struct podevents *e, const char *type, const char *reason, const char *component,
                const char *field_path, const char *message, unsigned count, uint64_t first,
                uint64_t last)
{
    while (e->n >= PODEVENTS_MAX)
        drop_least_recent(e);
    e->v = xrealloc(e->v, (e->n + 1) * sizeof(*e->v));
    e->v[e->n++] = (struct podevent){
        .type = cut(type, PODEVENTS_FIELD_MAX),
        .reason = cut(reason, PODEVENTS_FIELD_MAX),
        .message = cut(message, PODEVENTS_MESSAGE_MAX),
        .component = cut(component, PODEVENTS_FIELD_MAX),
        .field_path = field_path ? cut(field_path, PODEVENTS_FIELD_MAX) : NULL,
        .count = count,
        .first_usec = first,
        .last_usec = last,
    };
}

void podevents_record(struct podevents *e, const char *type, const char *reason,
                      const char *component, const char *field_path, uint64_t now_usec,
                      const char *message)
{
    _cleanup_free_ char *msg = cut(message, PODEVENTS_MESSAGE_MAX);
    for (size_t i = 0; i < e->n; i++) {
        struct podevent *ev = &e->v[i];
        if (streq(ev->type, type) && streq(ev->reason, reason) && streq(ev->message, msg) &&
            streq(ev->component, component) && same(ev->field_path, field_path)) {
            ev->count++;
            ev->last_usec = now_usec;
            return;
        }
    }
    add(e, type, reason, component, field_path, msg, 1, now_usec, now_usec);
}

int podevents_load(const char *path, struct podevents *out, pr_error **err)
{
    _cleanup_json_ yajl_val v = NULL;
    if (access(path, F_OK) < 0 && errno == ENOENT)
        return 0;
    int r = json_parse_file_max(path, PODEVENTS_FILE_MAX, READ_REGULAR, &v, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < json_array_len(v); i++) {
        yajl_val ev = json_array_at(v, i);
        const char *type = NULL, *reason = NULL, *message = NULL, *component = NULL, *fp = NULL;
        uint64_t count = 0, first = 0, last = 0;
        if (json_get_str(ev, "type", "event", &type, NULL) < 0 ||
            json_get_str(ev, "reason", "event", &reason, NULL) < 0 ||
            json_get_str(ev, "message", "event", &message, NULL) < 0 ||
            json_get_str(ev, "component", "event", &component, NULL) < 0 ||
            json_get_str(ev, "fieldPath", "event", &fp, NULL) < 0 ||
            json_get_uint64(ev, "count", "event", &count, NULL) < 0 ||
            json_get_uint64(ev, "first", "event", &first, NULL) < 0 ||
            json_get_uint64(ev, "last", "event", &last, NULL) < 0 || !type || !reason || !message ||
            !component || count == 0 || count > UINT32_MAX)
            continue;
        add(out, type, reason, component, fp, message, (unsigned)count, first, last);
    }
    return 0;
}

int podevents_save(const char *path, const struct podevents *e, pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_array_open(g);
    for (size_t i = 0; i < e->n; i++) {
        const struct podevent *ev = &e->v[i];
        jg_map_open(g);
        jg_key_str(g, "type", ev->type);
        jg_key_str(g, "reason", ev->reason);
        jg_key_str(g, "message", ev->message);
        jg_key_str(g, "component", ev->component);
        jg_key_str(g, "fieldPath", ev->field_path);
        jg_key_uint(g, "count", ev->count);
        jg_key_uint(g, "first", ev->first_usec);
        jg_key_uint(g, "last", ev->last_usec);
        jg_map_close(g);
    }
    jg_array_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    return write_file_atomic_volatile(path, buf, len, 0644, err);
}
