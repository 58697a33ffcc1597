/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the libFuzzer targets: inputs as C strings or files, and a private scratch
 * directory per process (mkdtemp under $TMPDIR, removed at exit) for the entry points that
 * need paths. Nothing a target writes may leave that directory. */
#ifndef PODRUN_FUZZ_COMMON_H
#define PODRUN_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* A NUL-terminated copy (an embedded NUL ends the string there, as for any C text input). */
char *fuzz_str(const uint8_t *data, size_t size);
/* The process's scratch directory, made on first use. */
const char *fuzz_scratch(void);
/* Replaces path's content with data (O_TRUNC). Aborts on failure: the harness is broken. */
void fuzz_write_file(const char *path, const uint8_t *data, size_t size);
/* Open descriptors of this process, to check that an entry point closed what it opened. */
int fuzz_count_fds(void);
/* Aborts (a finding) with a message on stderr. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
