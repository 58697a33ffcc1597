/* SPDX-License-Identifier: Apache-2.0 */
#include "progress.h"
#include "util.h"

#include <unistd.h>

void pull_display_init(struct pull_display *d, FILE *out)
{
    *d = (struct pull_display){.out = out, .terminal = isatty(fileno(out)) == 1};
}

void pull_display_clear(struct pull_display *d)
{
    free(d->reported_done);
    d->reported_done = NULL;
}

static void human(int64_t n, char *buf, size_t len)
{
    static const char *u[] = {"B", "kB", "MB", "GB"};
    double v = (double)(n < 0 ? 0 : n);
    size_t i = 0;
    while (v >= 1000 && i + 1 < ARRAY_SIZE(u)) {
        v /= 1000;
        i++;
    }
    snprintf(buf, len, "%.1f%s", v, u[i]);
}

/* One line per blob, redrawn in place: the cursor goes back up over the batch's lines. */
static void draw_bars(struct pull_display *d, enum pull_progress_event ev,
                      const struct pull_blob_progress *blobs, size_t n)
{
    if (ev != PULL_PROGRESS_START)
        fprintf(d->out, "\033[%zuA", n);
    for (size_t i = 0; i < n; i++) {
        const struct pull_blob_progress *b = &blobs[i];
        int64_t total = b->total > 0 ? b->total : 1;
        int width = 30, fill = (int)(b->have * width / total);
        if (fill > width)
            fill = width;
        char a[16], t[16];
        human(b->have, a, sizeof(a));
        human(b->total, t, sizeof(t));
        fprintf(d->out, "\033[2KCopying blob %.12s [%.*s%s%*s] %s / %s%s\n",
                images_digest_hex(b->digest), fill > 0 ? fill - (fill < width) : 0,
                "==============================", fill < width && fill > 0 ? ">" : "", width - fill,
                "", a, t, b->done ? (b->failed ? " failed" : " done") : "");
    }
}

/* Plain lines: nothing is redrawn, so a log reads top to bottom. */
static void write_lines(struct pull_display *d, enum pull_progress_event ev,
                        const struct pull_blob_progress *blobs, size_t n)
{
    if (ev == PULL_PROGRESS_START) {
        free(d->reported_done);
        d->reported_done = xcalloc(n ? n : 1, sizeof(bool));
        d->n = n;
        for (size_t i = 0; i < n; i++)
            fprintf(d->out, "Copying blob %.12s\n", images_digest_hex(blobs[i].digest));
    }
    for (size_t i = 0; i < n && i < d->n; i++) {
        const struct pull_blob_progress *b = &blobs[i];
        if (!b->done || d->reported_done[i])
            continue;
        char t[16];
        human(b->total, t, sizeof(t));
        fprintf(d->out, "Copying blob %.12s %s (%s)\n", images_digest_hex(b->digest),
                b->failed ? "failed" : "done", t);
        d->reported_done[i] = true;
    }
}

void pull_display_progress(enum pull_progress_event ev, const struct pull_blob_progress *blobs,
                           size_t n, void *userdata)
{
    struct pull_display *d = userdata;
    if (d->terminal)
        draw_bars(d, ev, blobs, n);
    else
        write_lines(d, ev, blobs, n);
    fflush(d->out);
}
