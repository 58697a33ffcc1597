/* SPDX-License-Identifier: Apache-2.0 */
/* A record of a CRI-format log file, as the shim writes it and the kubelet reads it:
 * "2016-10-06T00:17:09.669794202Z stdout F message". Log files are read back by `podrun logs`
 * after anything (a full disk, a crash, another writer) may have cut or garbled them, so a
 * record is taken only when every field has its shape; anything else is not a record. */
#include "pods.h"
#include "util.h"

#include <string.h>

/* RFC 3339 with a Z or an offset: digits where digits go, and the separators. */
static bool timestamp_ok(const char *s, size_t n)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    if (n < sizeof(shape) || n > PODS_CRI_LOG_TS_MAX)
        return false;
    for (size_t i = 0; i < sizeof(shape) - 1; i++)
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return false;
    return strspn(s + sizeof(shape) - 1, "0123456789.Z+-:") == n - (sizeof(shape) - 1);
}

const char *pods_cri_log_message(char *line, size_t len, bool *full, bool *is_stderr)
{
    char *sp1 = memchr(line, ' ', len);
    if (!sp1 || !timestamp_ok(line, (size_t)(sp1 - line)))
        return NULL;
    char *stream = sp1 + 1, *end = line + len;
    char *sp2 = memchr(stream, ' ', (size_t)(end - stream));
    if (!sp2)
        return NULL;
    size_t sl = (size_t)(sp2 - stream);
    if (!((sl == 6 && memcmp(stream, "stdout", 6) == 0) ||
          (sl == 6 && memcmp(stream, "stderr", 6) == 0)))
        return NULL;
    /* The tag: P or F, with ':'-separated extensions the format reserves. */
    char *tag = sp2 + 1;
    if (tag >= end || (*tag != 'P' && *tag != 'F'))
        return NULL;
    char *sp3 = memchr(tag, ' ', (size_t)(end - tag));
    if (!sp3 || (sp3 != tag + 1 && tag[1] != ':'))
        return NULL;
    *full = *tag == 'F';
    *is_stderr = stream[3] == 'e';
    return sp3 + 1;
}
