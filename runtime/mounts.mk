# SPDX-License-Identifier: Apache-2.0
RUNTIME_MOUNTS_SOURCES += runtime/mounts.c runtime/mounts-internal.h runtime/mounts-options.c \
	runtime/mounts-info.c runtime/mounts-cgroup.c runtime/devices.c
