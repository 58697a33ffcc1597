/* SPDX-License-Identifier: Apache-2.0 */
/* Capability names as the runtime-spec writes them ("CAP_CHOWN"), indexed by number, in the
 * kernel's order: the runtime reads them from config.json, the pod manager's builder writes
 * them into it. One table, so both agree on every name. */
#ifndef PODRUN_CAPABILITIES_H
#define PODRUN_CAPABILITIES_H

#define CAP_NAMES_COUNT 41 /* through CAP_CHECKPOINT_RESTORE (40) */

extern const char *const cap_names[CAP_NAMES_COUNT];

/* The number of a name ("CAP_NET_ADMIN", exactly so), or -1 when it is none. */
int cap_number(const char *name);

#endif
