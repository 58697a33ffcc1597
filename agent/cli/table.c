/* SPDX-License-Identifier: Apache-2.0 */
#include "table.h"
#include "util.h"

#include <stdarg.h>
#include <string.h>

enum { TABLE_PADDING = 3, TABLE_MIN_WIDTH = 6 };

struct row {
    char **cells;
    size_t n;
};

struct table {
    struct row *rows;
    size_t n, cap;
};

table *table_new(void)
{
    return xcalloc(1, sizeof(table));
}

static void rows_clear(table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        for (size_t j = 0; j < t->rows[i].n; j++)
            free(t->rows[i].cells[j]);
        free(t->rows[i].cells);
    }
    t->n = 0;
}

void table_free(table *t)
{
    rows_clear(t);
    free(t->rows);
    free(t);
}

void table_row(table *t)
{
    if (t->n == t->cap)
        t->rows = xrealloc(t->rows, (t->cap = t->cap ? t->cap * 2 : 16) * sizeof(*t->rows));
    t->rows[t->n++] = (struct row){0};
}

static void add_cell(table *t, char *s)
{
    if (!t->n)
        table_row(t);
    struct row *r = &t->rows[t->n - 1];
    r->cells = xrealloc(r->cells, (r->n + 1) * sizeof(*r->cells));
    r->cells[r->n++] = s;
}

void table_cell(table *t, const char *s)
{
    add_cell(t, xstrdup(s ? s : ""));
}

void table_cellf(table *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    add_cell(t, s);
}

/* Width on a terminal: UTF-8 continuation bytes take no column. */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

void table_print(table *t, FILE *f)
{
    size_t cols = 0;
    for (size_t i = 0; i < t->n; i++)
        cols = MAX(cols, t->rows[i].n);
    _cleanup_free_ size_t *width = xcalloc(cols ? cols : 1, sizeof(*width));
    for (size_t i = 0; i < t->n; i++)
        for (size_t j = 0; j + 1 < t->rows[i].n; j++)
            width[j] = MAX(width[j], MAX(text_width(t->rows[i].cells[j]) + TABLE_PADDING,
                                         (size_t)TABLE_MIN_WIDTH));
    for (size_t i = 0; i < t->n; i++) {
        const struct row *r = &t->rows[i];
        for (size_t j = 0; j < r->n; j++) {
            fputs(r->cells[j], f);
            if (j + 1 < r->n)
                fprintf(f, "%*s", (int)(width[j] - text_width(r->cells[j])), "");
        }
        fputc('\n', f);
    }
    rows_clear(t);
}
