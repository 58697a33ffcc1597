/* SPDX-License-Identifier: Apache-2.0 */
/* The CNI plugin protocol (spec 1.1.0, also 0.3.0 .. 1.0.0): environment, network
 * configuration, results in every supported version, errors with the spec's codes, and
 * delegation to another plugin found in CNI_PATH. Shared by podrun-bridge and podrun-ipam. */
#ifndef PODRUN_CNI_H
#define PODRUN_CNI_H

#include "error.h"
#include "ipaddr.h"
#include "json.h"

#include <stdbool.h>
#include <stddef.h>

/* Well-known error codes (SPEC.md "Well-known Error Codes"); 100+ are ours. */
enum {
    CNI_ERR_INCOMPATIBLE_VERSION = 1,
    CNI_ERR_UNSUPPORTED_FIELD = 2,
    CNI_ERR_UNKNOWN_CONTAINER = 3,
    CNI_ERR_INVALID_ENV = 4,
    CNI_ERR_IO = 5,
    CNI_ERR_DECODE = 6,
    CNI_ERR_INVALID_CONFIG = 7,
    CNI_ERR_TRY_AGAIN_LATER = 11,
    CNI_ERR_NOT_AVAILABLE = 50,
    CNI_ERR_LIMITED_CONNECTIVITY = 51,
    CNI_ERR_CHECK_FAILED = 100,   /* CHECK found the attachment differs from prevResult */
    CNI_ERR_ADDRESS_IN_USE = 101, /* a requested IP belongs to another attachment */
    CNI_ERR_INTERFACE_EXISTS = 102,
    /* ADD of a (container id, ifname) attached in another network namespace: refused, as
     * host-local refuses a duplicate allocation. */
    CNI_ERR_DUPLICATE_ATTACHMENT = 103,
    CNI_ERR_INTERNAL = 999, /* what the reference plugins report for anything else */
};

/* Like pr_err, and records code as the CNI error code of this invocation (the first one set
 * wins: a plugin runs one command and exits, so the code lives beside the pr_error). */
int cni_err(pr_error **err, int code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int cni_error_code(void);
void cni_error_set_code(int code);
/* Overrides the code already set (a delegate's failure reported under another code). */
void cni_error_replace_code(int code);
/* Prints the spec's error object on stdout. */
void cni_print_error(const char *version, int code, const char *msg, const char *details);

typedef enum {
    CNI_CMD_NONE,
    CNI_CMD_ADD,
    CNI_CMD_DEL,
    CNI_CMD_CHECK,
    CNI_CMD_STATUS,
    CNI_CMD_GC,
    CNI_CMD_VERSION,
} cni_cmd;

typedef struct cni_env {
    cni_cmd cmd;
    const char *command, *container_id, *netns, *ifname, *args, *path;
} cni_env;

/* Reads and validates CNI_* for the command (code 4 naming the variable on failure). */
int cni_env_load(cni_env *env, pr_error **err);
/* Value of KEY in CNI_ARGS ("K=V;K2=V2"), freshly allocated, or NULL. */
char *cni_args_get(const char *args, const char *key);

extern const char *const cni_supported_versions[];
#define CNI_LATEST_VERSION "1.1.0"
/* Semantic version comparison of "X.Y.Z"; unparsable sorts first. */
int cni_version_cmp(const char *a, const char *b);
bool cni_version_supported(const char *v);
/* {"cniVersion":"1.1.0","supportedVersions":[...]} */
char *cni_version_json(void);

typedef struct cni_conf {
    yajl_val root;
    const char *version, *name, *type;
    yajl_val ipam, prev_result, runtime_config, args, dns;
} cni_conf;

/* Parses stdin's configuration: malformed JSON is code 6, a bad or missing field code 7, a
 * cniVersion we do not speak code 1; the command must exist in that version. */
int cni_conf_parse(const char *text, cni_cmd cmd, cni_conf *conf, pr_error **err);
void cni_conf_free(cni_conf *conf);

typedef struct cni_iface {
    char *name, *mac, *sandbox;
} cni_iface;

typedef struct cni_ipconf {
    cni_prefix addr;
    cni_ip gw; /* family 0: none */
    int iface; /* index into interfaces, -1: none */
} cni_ipconf;

typedef struct cni_route {
    cni_prefix dst;
    cni_ip gw;
} cni_route;

typedef struct cni_dns {
    char **nameservers, **search, **options;
    char *domain;
} cni_dns;

typedef struct cni_result {
    cni_iface *ifaces;
    size_t n_ifaces;
    cni_ipconf *ips;
    size_t n_ips;
    cni_route *routes;
    size_t n_routes;
    cni_dns dns;
} cni_result;

void cni_result_free(cni_result *r);
int cni_result_add_iface(cni_result *r, const char *name, const char *mac, const char *sandbox);
void cni_result_add_ip(cni_result *r, const cni_ipconf *ip);
void cni_result_add_route(cni_result *r, const cni_route *rt);
/* Reads a result of any supported version (0.3.x "version" fields are accepted). */
int cni_routes_parse(yajl_val arr, const char *ctx, cni_route **out, size_t *n, pr_error **err);
int cni_result_parse(yajl_val v, const char *ctx, cni_result *r, pr_error **err);
int cni_dns_parse(yajl_val v, const char *ctx, cni_dns *dns, pr_error **err);
void cni_dns_free(cni_dns *dns);
void cni_dns_copy(cni_dns *dst, const cni_dns *src);
bool cni_dns_empty(const cni_dns *dns);
/* Serialises r in the shape of spec version `version`. */
char *cni_result_json(const cni_result *r, const char *version);

/* Parses "cni.dev/valid-attachments" of a GC request into parallel vectors. */
int cni_valid_attachments(const cni_conf *conf, char ***ids, char ***ifnames, pr_error **err);

/* Finds `type` in the colon-separated CNI_PATH; freshly allocated path. */
int cni_find_plugin(const char *type, const char *cni_path, char **out, pr_error **err);
/* Runs plugin `path` with our environment (CNI_COMMAND replaced when command is not NULL)
 * and `input` on stdin. On success *out holds its stdout (may be empty). When the plugin
 * fails its error object's code and message become ours. */
int cni_exec_plugin(const char *path, const char *command, const char *input, size_t len,
                    char **out, pr_error **err);

/* Container ids are alphanumeric plus _ . - (spec "Parameters"), at most
 * CNI_CONTAINER_ID_MAX bytes, so that every name made from one (allocation records, nftables
 * comments) fits; interface names follow the kernel's rules. */
#define CNI_CONTAINER_ID_MAX 128
bool cni_valid_container_id(const char *id);
bool cni_valid_ifname(const char *name);

/* Serialises plugin runs on `name` within this network namespace: a bound abstract unix
 * socket, which leaves no file behind and goes away with a process that dies holding it.
 * Returns the fd holding the lock (close it to release); waits up to about 30 s. */
int cni_abstract_lock(const char *name, const char *what, pr_error **err);

/* Reads all of stdin. */
/* Limits on what a CNI caller hands a plugin (DESIGN.md, "Limits"). A network configuration is a
 * few kilobytes even with a prevResult; a nodes file of 1 MiB lists some ten thousand nodes; a
 * resolv.conf that glibc reads is at most a few hundred bytes of use. A delegate (IPAM plugin)
 * answers with a result no bigger than the configuration it was given. */
#define CNI_STDIN_MAX        ((size_t)1 << 20)
#define CNI_NODES_FILE_MAX   ((size_t)1 << 20)
#define CNI_RESOLV_CONF_MAX  ((size_t)64 << 10)
#define CNI_DELEGATE_OUT_MAX ((size_t)1 << 20)
int cni_read_stdin(char **out, size_t *len, pr_error **err);

/* A plugin's commands: each gets the environment, the parsed configuration and its raw text,
 * and sets *out to what goes on stdout (NULL for nothing). */
typedef int (*cni_handler)(const cni_env *env, const cni_conf *conf, const char *raw, size_t len,
                           char **out, pr_error **err);
typedef struct cni_plugin {
    const char *name;
    cni_handler add, del, check, status, gc;
} cni_plugin;

/* The whole protocol around the handlers: env, stdin, VERSION, errors as JSON on stdout. */
int cni_plugin_main(const cni_plugin *p, int argc, char **argv);
#endif
