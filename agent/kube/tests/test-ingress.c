/* SPDX-License-Identifier: Apache-2.0 */
/* Ingress and IngressClass (kube/ingress.c): the typed object, and the API server's refusals
 * with podrun's own for what nginx would read as syntax. */
#include "json.h"
#include "kube/kube.h"
#include "tests/lib/unit.h"
#include "util.h"

/* Decodes an object of kind with spec; NULL with *msg set when refused. */
static struct kube_object *decode(const char *kind, const char *spec, char **msg)
{
    _cleanup_free_ char *json =
        xasprintf("{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"%s\",\"metadata\":{"
                  "\"name\":\"i\"},\"spec\":%s}",
                  kind, spec);
    yajl_val v = NULL;
    struct kube_object *o = NULL;
    pr_error *err = NULL;
    if (json_parse(json, "t", &v, &err) < 0 || kube_object_decode(v, "i.yaml", &o, &err) < 0) {
        *msg = xstrdup(err->msg);
        pr_error_free(err);
        return NULL;
    }
    return o;
}

static void refused(const char *spec, const char *want)
{
    char *msg = NULL;
    struct kube_object *o = decode("Ingress", spec, &msg);
    CHECK(!o);
    if (o)
        kube_object_free(o);
    if (!msg || !strstr(msg, want))
        fprintf(stderr, "# want \"%s\" in \"%s\"\n", want, msg ? msg : "(none)");
    CHECK(msg && strstr(msg, want));
    free(msg);
}

#define BACKEND "\"backend\":{\"service\":{\"name\":\"s\",\"port\":{\"number\":80}}}"

static void test_ingress_decoded(void)
{
    char *msg = NULL;
    struct kube_object *o = decode(
        "Ingress",
        "{\"ingressClassName\":\"podrun\",\"tls\":[{\"hosts\":[\"a.example\"],\"secretName\":"
        "\"t\"}],\"rules\":[{\"host\":\"*.a.example\",\"http\":{\"paths\":[{\"path\":\"/x\","
        "\"pathType\":\"Prefix\"," BACKEND "},{\"pathType\":\"ImplementationSpecific\",\"backend\":"
        "{\"service\":{\"name\":\"s\",\"port\":{\"name\":\"http\"}}}}]}}]}",
        &msg);
    CHECK(o);
    if (!o) {
        fprintf(stderr, "# %s\n", msg);
        free(msg);
        return;
    }
    CHECK(o->kind == KUBE_INGRESS);
    CHECK_STR(o->meta.namespace_, "default");
    const struct kube_ingress_spec *s = &o->u.ingress;
    CHECK_STR(s->class_name, "podrun");
    CHECK(s->n_tls == 1 && s->n_rules == 1);
    CHECK_STR(s->rules[0].host, "*.a.example");
    CHECK(s->rules[0].http.n_paths == 2);
    CHECK(s->rules[0].http.paths[0].backend.service.port.number == 80);
    CHECK(s->rules[0].http.paths[1].path == NULL);
    CHECK_STR(s->rules[0].http.paths[1].backend.service.port.name, "http");
    kube_object_free(o);
    o = decode("IngressClass", "{\"controller\":\"podrun.io/ingress\"}", &msg);
    CHECK(o && o->kind == KUBE_INGRESSCLASS && o->meta.namespace_ == NULL);
    if (o)
        CHECK_STR(o->u.ingress_class.controller, "podrun.io/ingress");
    kube_object_free(o);
}

static void test_ingress_refusals(void)
{
    refused("{}", "spec: Invalid value: either `defaultBackend` or `rules` must be specified");
    refused("{\"defaultBackend\":{\"service\":{\"name\":\"s\",\"port\":{\"number\":0}}}}",
            "spec.defaultBackend.service.port: Invalid value: port name or number is required");
    refused("{\"defaultBackend\":{\"service\":{\"name\":\"s\",\"port\":{\"number\":65536}}}}",
            "spec.defaultBackend.service.port.number: Invalid value: 65536: must be between 1 "
            "and 65535, inclusive");
    refused("{\"defaultBackend\":{\"resource\":{\"kind\":\"X\",\"name\":\"x\"}}}",
            "resource: not supported by podrun");
    refused("{\"rules\":[{\"http\":{\"paths\":[{\"path\":\"x\",\"pathType\":\"Exact\"," BACKEND
            "}]}}]}",
            "spec.rules[0].http.paths[0].path: Invalid value: \"x\": must be an absolute path");
    refused("{\"rules\":[{\"http\":{\"paths\":[{\"path\":\"/a b\",\"pathType\":\"Exact\"," BACKEND
            "}]}}]}",
            "spec.rules[0].http.paths[0].path: Invalid value: \"/a b\"");
    refused("{\"rules\":[{\"http\":{\"paths\":[{\"path\":\"/\",\"pathType\":\"Regex\"," BACKEND
            "}]}}]}",
            "pathType: Unsupported value: \"Regex\"");
    refused("{\"rules\":[{\"host\":\"a.*.b\",\"http\":{\"paths\":[{\"path\":\"/\",\"pathType\":"
            "\"Exact\"," BACKEND "}]}}]}",
            "spec.rules[0].host: Invalid value: \"a.*.b\"");
    refused("{\"rules\":[{\"http\":{\"paths\":[]}}]}", "spec.rules[0].http.paths: Required value");
    refused("{\"tls\":[{\"hosts\":[\"a\"]}],\"defaultBackend\":{\"service\":{\"name\":\"s\","
            "\"port\":{\"number\":1}}}}",
            "spec.tls[0].secretName: Invalid value");
    char *msg = NULL;
    CHECK(!decode("IngressClass", "{\"controller\":\"nodomain\"}", &msg));
    CHECK(msg && strstr(msg, "spec.controller: Invalid value: \"nodomain\""));
    free(msg);
}

int main(void)
{
    RUN(test_ingress_decoded);
    RUN(test_ingress_refusals);
    UNIT_DONE();
}
