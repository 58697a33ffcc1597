/* Kubernetes objects: manifests (YAML or JSON, several documents) into trees with limits, the
 * API's small languages (resource quantities, label selectors), and later the typed objects and
 * the controllers' reconcile functions. Pure: nothing here does I/O beyond what it is handed. */
#ifndef PODRUN_AGENT_KUBE_H
#define PODRUN_AGENT_KUBE_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

/* Limits on one manifest (a file, a directory's file, or stdin). Kubernetes' API server takes
 * requests up to 3 MiB and etcd objects up to 1.5 MiB; a manifest holds several objects. */
#define KUBE_MANIFEST_MAX_BYTES (8u << 20)
#define KUBE_MANIFEST_MAX_DEPTH 100     /* nested mappings and sequences */
#define KUBE_MANIFEST_MAX_NODES 1000000 /* values after aliases are expanded */
#define KUBE_MANIFEST_MAX_DOCS  10000

/* The documents of a manifest as JSON-shaped trees (yajl's, freed with yajl_tree_free), empty
 * documents left out. YAML scalars resolve as Kubernetes' YAML decoder resolves them (YAML 1.1:
 * yes/no/on/off are booleans, 0755 is octal, ~ is null); quoted scalars are strings. A text
 * whose first character is `{` or `[` is JSON. Refused with the line and column: malformed
 * input, duplicate keys, unknown tags, and anything over the limits above. */
struct kube_docs {
    yajl_val *v;
    size_t n;
};
int kube_parse_manifest(const char *text, size_t len, const char *what, struct kube_docs *out,
                        pr_error **err);
void kube_docs_clear(struct kube_docs *d);

/* A resource quantity ("100m", "1.5Gi", "2e3", "128974848"), kept exactly as a decimal
 * mantissa scaled by powers of ten and two: value = mantissa * 10^exp10 * 2^exp2. */
struct kube_quantity {
    int64_t mantissa;
    int exp10;
    int exp2;
};
int kube_quantity_parse(const char *s, struct kube_quantity *q, pr_error **err);
/* The value in units of 10^-scale (scale 0: whole units, 3: milli-units), rounded up as
 * Kubernetes rounds (a CPU of 0.0001 is 1m). -ERANGE when it does not fit in 64 bits. */
int kube_quantity_scaled(const struct kube_quantity *q, int scale, int64_t *out);

/* Label selectors: the string form of `-l` ("app=web,tier!=db,env in (a,b),!legacy,canary")
 * and the API's {matchLabels, matchExpressions}. An empty selector matches everything. */
enum kube_sel_op {
    KUBE_SEL_EQ,
    KUBE_SEL_NE,
    KUBE_SEL_IN,
    KUBE_SEL_NOTIN,
    KUBE_SEL_EXISTS,
    KUBE_SEL_NOTEXISTS
};
struct kube_requirement {
    char *key;
    enum kube_sel_op op;
    char **values; /* NULL-terminated; one for EQ and NE, none for (NOT)EXISTS */
};
struct kube_selector {
    struct kube_requirement *req;
    size_t n;
};
int kube_selector_parse(const char *s, struct kube_selector *out, pr_error **err);
int kube_selector_from_object(yajl_val sel, const char *ctx, struct kube_selector *out,
                              pr_error **err);
/* labels: an object of string values (metadata.labels), or NULL for none. */
bool kube_selector_matches(const struct kube_selector *s, yajl_val labels);
void kube_selector_clear(struct kube_selector *s);

#endif
