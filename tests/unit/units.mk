# SPDX-License-Identifier: Apache-2.0
# Each area appends its unit test programs here, e.g.:
# check_PROGRAMS += tests/unit/test-seccomp
# tests_unit_test_seccomp_SOURCES = tests/unit/test-seccomp.c tests/unit/unit.h
# tests_unit_test_seccomp_CFLAGS = $(UNIT_CFLAGS)
# tests_unit_test_seccomp_LDADD = $(UNIT_LIBS)

# seccomp and capabilities (runtime/seccomp.c, runtime/caps.c)
check_PROGRAMS += tests/unit/test-seccomp tests/unit/test-caps
tests_unit_test_seccomp_SOURCES = tests/unit/test-seccomp.c tests/unit/unit.h
tests_unit_test_seccomp_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_seccomp_LDADD = $(UNIT_LIBS)
tests_unit_test_caps_SOURCES = tests/unit/test-caps.c tests/unit/unit.h
tests_unit_test_caps_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_caps_LDADD = $(UNIT_LIBS)

# container root filesystem (runtime/mounts*.c, runtime/devices.c)
check_PROGRAMS += tests/unit/test-mounts
tests_unit_test_mounts_SOURCES = tests/unit/test-mounts.c tests/unit/unit.h
tests_unit_test_mounts_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_mounts_LDADD = $(UNIT_LIBS)

# cgroups (runtime/cgroup*.c)
check_PROGRAMS += tests/unit/test-cgroup
tests_unit_test_cgroup_SOURCES = tests/unit/test-cgroup.c tests/unit/unit.h
tests_unit_test_cgroup_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cgroup_LDADD = $(UNIT_LIBS)

# the shim (shim/*.c): spec parsing, CRI log format and rotation, back-off, HTTP status lines
check_PROGRAMS += tests/unit/test-shim
tests_unit_test_shim_SOURCES = tests/unit/test-shim.c tests/unit/unit.h
tests_unit_test_shim_CFLAGS = $(SHIM_CFLAGS)
tests_unit_test_shim_LDADD = $(SHIM_LIBS)

# images (images/*.c)
check_PROGRAMS += tests/unit/test-images
tests_unit_test_images_SOURCES = tests/unit/test-images.c tests/unit/unit.h
tests_unit_test_images_CFLAGS = $(IMAGES_CFLAGS)
tests_unit_test_images_LDADD = $(IMAGES_LIBS)

# CNI plugins (cni/)
check_PROGRAMS += tests/unit/test-cni
tests_unit_test_cni_SOURCES = tests/unit/test-cni.c tests/unit/unit.h
tests_unit_test_cni_CFLAGS = $(CNI_CFLAGS)
tests_unit_test_cni_LDADD = $(CNI_LIBS)

# the pod manager (agent/pods/): the OCI runtime config builder
check_PROGRAMS += tests/unit/test-pods
tests_unit_test_pods_SOURCES = tests/unit/test-pods.c tests/unit/unit.h
tests_unit_test_pods_CFLAGS = $(AGENT_CFLAGS)
tests_unit_test_pods_LDADD = $(AGENT_LIBS)

# Kubernetes objects (agent/kube/): manifests, quantities, label selectors
check_PROGRAMS += tests/unit/test-kube
tests_unit_test_kube_SOURCES = tests/unit/test-kube.c tests/unit/unit.h
tests_unit_test_kube_CFLAGS = $(AGENT_CFLAGS) $(YAML_CFLAGS)
tests_unit_test_kube_LDADD = $(AGENT_LIBS) -lm

# the CRI server (agent/cri/): gRPC framing, timeouts, grpc-message, the method table
check_PROGRAMS += tests/unit/test-cri
tests_unit_test_cri_SOURCES = tests/unit/test-cri.c tests/unit/unit.h
tests_unit_test_cri_CFLAGS = $(CRI_CFLAGS)
tests_unit_test_cri_LDADD = $(CRI_LIBS)
