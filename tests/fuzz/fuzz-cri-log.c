/* SPDX-License-Identifier: Apache-2.0 */
/* A CRI-format log record, as `podrun logs` reads one back (pods_cri_log_message): a record's
 * message lies inside the line, after a timestamp, a stream and a P or F tag; a line taken as a
 * record has exactly that shape, and one cut anywhere before its message is not a record. */
#include "fuzz-common.h"
#include "pods/pods.h"
#include "util.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return -1;
    /* An exact-size copy, so that a read past the line is a heap overflow ASan sees. */
    _cleanup_free_ char *line = xmalloc(size ? size : 1);
    memcpy(line, data, size);
    bool full, is_stderr;
    const char *msg = pods_cri_log_message(line, size, &full, &is_stderr);
    if (!msg)
        return 0;
    if (msg < line + 1 || msg > line + size)
        fuzz_fail("message at %td of a %zu-byte line", msg - line, size);
    const char *tag = msg - 2;
    if (msg[-1] != ' ')
        fuzz_fail("no space before the message");
    const char *stream = memmem(line, size, is_stderr ? " stderr " : " stdout ", 8);
    if (!stream || stream > tag)
        fuzz_fail("a record without its stream before the tag");
    (void)full;
    /* The same line cut just before its message is no record. */
    size_t cut = (size_t)(msg - line) - 1;
    if (pods_cri_log_message(line, cut, &full, &is_stderr))
        fuzz_fail("a line cut at %zu before its message taken as a record", cut);
    return 0;
}
