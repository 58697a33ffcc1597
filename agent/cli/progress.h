/* SPDX-License-Identifier: Apache-2.0 */
/* How the CLI shows a pull's progress on stderr: bars redrawn in place on a terminal, plain
 * lines otherwise (a log, a pipe, a CI job), one when a blob starts and one when it ends. */
#ifndef PODRUN_AGENT_PROGRESS_H
#define PODRUN_AGENT_PROGRESS_H

#include "images/images.h"

#include <stdio.h>

struct pull_display {
    FILE *out;
    bool terminal;       /* isatty(out) when made */
    size_t n;            /* blobs in the current batch */
    bool *reported_done; /* plain lines: which blobs already had their last line */
};

void pull_display_init(struct pull_display *d, FILE *out);
void pull_display_clear(struct pull_display *d);
/* A pull_progress_fn; userdata is the struct pull_display. */
void pull_display_progress(enum pull_progress_event ev, const struct pull_blob_progress *blobs,
                           size_t n, void *userdata);

#endif
