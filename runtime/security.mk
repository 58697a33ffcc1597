# SPDX-License-Identifier: Apache-2.0
RUNTIME_SECURITY_SOURCES += runtime/seccomp.c runtime/caps.c runtime/seccomp-libseccomp.h
