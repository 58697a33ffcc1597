/* SPDX-License-Identifier: Apache-2.0 */
/* libseccomp's <seccomp.h>. runtime/seccomp.h has the same name and -I runtime comes before the
 * system directories, so a plain #include <seccomp.h> would find ours; include this header with
 * angle brackets and it reaches past runtime/ to the library's. */
#ifndef RT_SECCOMP_LIBSECCOMP_H
#define RT_SECCOMP_LIBSECCOMP_H

#include_next <seccomp.h>

#endif
