/* SPDX-License-Identifier: Apache-2.0 */
#include "capabilities.h"
#include "util.h"

#include <linux/capability.h>

#define CAP_NAME(c) [c] = #c
/* Names as the runtime-spec writes them, indexed by capability number. */
const char *const cap_names[CAP_NAMES_COUNT] = {
    CAP_NAME(CAP_CHOWN),
    CAP_NAME(CAP_DAC_OVERRIDE),
    CAP_NAME(CAP_DAC_READ_SEARCH),
    CAP_NAME(CAP_FOWNER),
    CAP_NAME(CAP_FSETID),
    CAP_NAME(CAP_KILL),
    CAP_NAME(CAP_SETGID),
    CAP_NAME(CAP_SETUID),
    CAP_NAME(CAP_SETPCAP),
    CAP_NAME(CAP_LINUX_IMMUTABLE),
    CAP_NAME(CAP_NET_BIND_SERVICE),
    CAP_NAME(CAP_NET_BROADCAST),
    CAP_NAME(CAP_NET_ADMIN),
    CAP_NAME(CAP_NET_RAW),
    CAP_NAME(CAP_IPC_LOCK),
    CAP_NAME(CAP_IPC_OWNER),
    CAP_NAME(CAP_SYS_MODULE),
    CAP_NAME(CAP_SYS_RAWIO),
    CAP_NAME(CAP_SYS_CHROOT),
    CAP_NAME(CAP_SYS_PTRACE),
    CAP_NAME(CAP_SYS_PACCT),
    CAP_NAME(CAP_SYS_ADMIN),
    CAP_NAME(CAP_SYS_BOOT),
    CAP_NAME(CAP_SYS_NICE),
    CAP_NAME(CAP_SYS_RESOURCE),
    CAP_NAME(CAP_SYS_TIME),
    CAP_NAME(CAP_SYS_TTY_CONFIG),
    CAP_NAME(CAP_MKNOD),
    CAP_NAME(CAP_LEASE),
    CAP_NAME(CAP_AUDIT_WRITE),
    CAP_NAME(CAP_AUDIT_CONTROL),
    CAP_NAME(CAP_SETFCAP),
    CAP_NAME(CAP_MAC_OVERRIDE),
    CAP_NAME(CAP_MAC_ADMIN),
    CAP_NAME(CAP_SYSLOG),
    CAP_NAME(CAP_WAKE_ALARM),
    CAP_NAME(CAP_BLOCK_SUSPEND),
    CAP_NAME(CAP_AUDIT_READ),
    CAP_NAME(CAP_PERFMON),
    CAP_NAME(CAP_BPF),
    CAP_NAME(CAP_CHECKPOINT_RESTORE),
};
#undef CAP_NAME

_Static_assert(CAP_LAST_CAP + 1 >= CAP_NAMES_COUNT, "the kernel headers lack a capability");

int cap_number(const char *name)
{
    for (int i = 0; i < CAP_NAMES_COUNT; i++)
        if (streq(cap_names[i], name))
            return i;
    return -1;
}
