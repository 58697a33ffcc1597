# SPDX-License-Identifier: Apache-2.0
# Unit tests of the Kubernetes objects, agent/kube/ (tests/Makefile.inc says how a part lists
# its unit tests).

# manifests, quantities, label selectors
check_PROGRAMS += agent/kube/tests/test-kube
agent_kube_tests_test_kube_SOURCES = agent/kube/tests/test-kube.c tests/lib/unit.h
agent_kube_tests_test_kube_CFLAGS = $(AGENT_CFLAGS) $(YAML_CFLAGS)
agent_kube_tests_test_kube_LDADD = $(AGENT_LIBS) -lm

# the workload controllers' pure decisions (replicaset.c, rollout.c)
check_PROGRAMS += agent/kube/tests/test-workloads
agent_kube_tests_test_workloads_SOURCES = agent/kube/tests/test-workloads.c tests/lib/unit.h
agent_kube_tests_test_workloads_CFLAGS = $(AGENT_CFLAGS) $(YAML_CFLAGS)
agent_kube_tests_test_workloads_LDADD = $(AGENT_LIBS)

# Services: decoding and validation, endpoints from pods (service.c, endpoints.c)
check_PROGRAMS += agent/kube/tests/test-services
agent_kube_tests_test_services_SOURCES = agent/kube/tests/test-services.c tests/lib/unit.h
agent_kube_tests_test_services_CFLAGS = $(AGENT_CFLAGS) $(YAML_CFLAGS)
agent_kube_tests_test_services_LDADD = $(AGENT_LIBS)

# Ingress and IngressClass: decoding and the API server's validation (ingress.c)
check_PROGRAMS += agent/kube/tests/test-ingress
agent_kube_tests_test_ingress_SOURCES = agent/kube/tests/test-ingress.c tests/lib/unit.h
agent_kube_tests_test_ingress_CFLAGS = $(AGENT_CFLAGS) $(YAML_CFLAGS)
agent_kube_tests_test_ingress_LDADD = $(AGENT_LIBS)
# StatefulSets, DaemonSets, claims: specs and the StatefulSet controller's decision
check_PROGRAMS += agent/kube/tests/test-statefulsets
agent_kube_tests_test_statefulsets_SOURCES = agent/kube/tests/test-statefulsets.c tests/lib/unit.h
agent_kube_tests_test_statefulsets_CFLAGS = $(AGENT_CFLAGS) $(YAML_CFLAGS)
agent_kube_tests_test_statefulsets_LDADD = $(AGENT_LIBS)
# batch/v1 Job and CronJob, HorizontalPodAutoscaler: decoding, defaults, checks and the
# controllers' pure decisions (job.c, cron.c, cronjob.c, hpa.c)
check_PROGRAMS += agent/kube/tests/test-jobs
agent_kube_tests_test_jobs_SOURCES = agent/kube/tests/test-jobs.c tests/lib/unit.h
agent_kube_tests_test_jobs_CFLAGS = $(AGENT_CFLAGS) $(YAML_CFLAGS)
agent_kube_tests_test_jobs_LDADD = $(AGENT_LIBS)
# a CronJob's spec.timeZone: names, the TZif reader, schedules in real zones (tz.c, cron.c)
check_PROGRAMS += agent/kube/tests/test-tz
agent_kube_tests_test_tz_SOURCES = agent/kube/tests/test-tz.c tests/lib/unit.h
agent_kube_tests_test_tz_CFLAGS = $(AGENT_CFLAGS) $(YAML_CFLAGS)
agent_kube_tests_test_tz_LDADD = $(AGENT_LIBS)
