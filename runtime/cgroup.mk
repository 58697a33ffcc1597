# SPDX-License-Identifier: Apache-2.0
RUNTIME_CGROUP_SOURCES += runtime/cgroup.c runtime/cgroup-internal.h runtime/cgroup-resources.c \
	runtime/cgroup-apply.c runtime/cgroup-bpf.c runtime/cgroup-systemd.c runtime/cgroup-stats.c \
	runtime/cgroup-entry.c runtime/cgroup-rt.c
