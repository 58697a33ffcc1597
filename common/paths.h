/* SPDX-License-Identifier: Apache-2.0 */
/* Where podrun keeps its state by default (DESIGN.md, "Where state lives"). Every one can be
 * moved by a flag, an environment variable or a spec field; tests always move them. */
#ifndef PODRUN_PATHS_H
#define PODRUN_PATHS_H

/* Lost at reboot: runtime state, pod dirs and shim sockets, pinned namespaces, locks. */
#define PODRUN_RUN_DIR      "/run/podrun"
#define PODRUN_RUNTIME_ROOT PODRUN_RUN_DIR "/runtime"
#define PODRUN_PODS_RUN_DIR PODRUN_RUN_DIR "/pods"

/* Kept across reboots. */
#define PODRUN_LIB_DIR     "/var/lib/podrun"
#define PODRUN_IMAGES_ROOT PODRUN_LIB_DIR "/images"
#define PODRUN_POD_LOG_DIR "/var/log/podrun/pods"

/* What wakes the controller loop (agent/pods/loopwatch.c in process, agent/cli/loop.c as
 * podrun-loop): the stored objects' directories under LIB_ROOT/objects a pass reads, and the
 * directories under RUN_ROOT of the servers the loop keeps running (each holds a log open for
 * writing, closed when the server dies). */
#define PODRUN_LOOP_OBJECTS                                                                        \
    "deployments", "replicasets", "pods", "statefulsets", "daemonsets", "persistentvolumeclaims",  \
        "jobs", "cronjobs", "horizontalpodautoscalers", "services", "ingresses", "endpointslices"
#define PODRUN_LOOP_SERVER_DIRS "dns", "ingress"

/* IPAM allocations, where CNI plugins keep theirs. */
#define PODRUN_IPAM_DATA_DIR "/var/lib/cni/podrun"

#endif
