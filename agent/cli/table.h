/* SPDX-License-Identifier: Apache-2.0 */
/* kubectl's tables: cells aligned as Go's tabwriter does with kubectl's settings (a column is as
 * wide as its widest cell plus 3 spaces, at least 6; the last column is not padded), so that
 * output reads and diffs like kubectl's. Rows are kept until table_print. */
#ifndef PODRUN_CLI_TABLE_H
#define PODRUN_CLI_TABLE_H

#include <stdio.h>

typedef struct table table;

table *table_new(void);
void table_free(table *t);
/* Starts a new row; the cells that follow go into it. */
void table_row(table *t);
void table_cell(table *t, const char *s);
__attribute__((format(printf, 2, 3))) void table_cellf(table *t, const char *fmt, ...);
/* Prints and forgets the rows added so far (the widths are those of these rows only, as kubectl
 * prints each batch of a watch). */
void table_print(table *t, FILE *f);

static inline void table_freep(table **t)
{
    if (*t)
        table_free(*t);
}
#define _cleanup_table_ __attribute__((cleanup(table_freep)))

#endif
