# SPDX-License-Identifier: Apache-2.0
# Unit tests of runtime/ (tests/Makefile.inc says how a part lists its unit tests).

# seccomp and capabilities (runtime/seccomp.c, runtime/caps.c)
check_PROGRAMS += runtime/tests/test-seccomp runtime/tests/test-caps
runtime_tests_test_seccomp_SOURCES = runtime/tests/test-seccomp.c tests/lib/unit.h
runtime_tests_test_seccomp_CFLAGS = $(RUNTIME_CFLAGS)
runtime_tests_test_seccomp_LDADD = $(RUNTIME_LIBS)
runtime_tests_test_caps_SOURCES = runtime/tests/test-caps.c tests/lib/unit.h
runtime_tests_test_caps_CFLAGS = $(RUNTIME_CFLAGS)
runtime_tests_test_caps_LDADD = $(RUNTIME_LIBS)

# container root filesystem (runtime/mounts*.c, runtime/devices.c)
check_PROGRAMS += runtime/tests/test-mounts
runtime_tests_test_mounts_SOURCES = runtime/tests/test-mounts.c tests/lib/unit.h
runtime_tests_test_mounts_CFLAGS = $(RUNTIME_CFLAGS)
runtime_tests_test_mounts_LDADD = $(RUNTIME_LIBS)

# cgroups (runtime/cgroup*.c)
check_PROGRAMS += runtime/tests/test-cgroup
runtime_tests_test_cgroup_SOURCES = runtime/tests/test-cgroup.c tests/lib/unit.h
runtime_tests_test_cgroup_CFLAGS = $(RUNTIME_CFLAGS)
runtime_tests_test_cgroup_LDADD = $(RUNTIME_LIBS)
