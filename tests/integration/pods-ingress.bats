#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Ingress (networking.k8s.io/v1) with podrun's controller: nginx configured from the Ingresses
# of class podrun, started with the first and stopped with the last (nothing left in the run
# root), reloaded without dropping a request in flight, restarted when it died; two hosts and a
# path routed to different services over HTTP and HTTPS (a certificate made here); another
# class ignored; bad objects refused with clear errors.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  command -v nginx > /dev/null || skip "needs nginx (scripts/install-deps.sh installs nginx-light)"
  pods_setup
  D=$BATS_TEST_TMPDIR
  in_node ip link set lo up
  # A default route, as a node has: nginx's connections to a clusterIP are routed before the
  # services' DNAT sends them to a pod (a veth pair of the node's own, gone with it).
  in_node ip link add prdef0 type veth peer name prdef1
  in_node ip link set prdef1 up
  in_node ip addr add 10.127.0.1/24 dev prdef0
  in_node ip link set prdef0 up
  in_node ip route add default via 10.127.0.2
}

teardown() {
  local p
  # The Ingresses go first, or the pods' teardown (its deletes sync the services, which
  # supervise the proxy) would start nginx again; then the proxy, which would outlive the
  # node's network namespace.
  rm -rf "$ROOTS/lib/objects/ingresses"
  for p in $(pgrep -f -- "nginx: master process .*-p $ROOTS/run/ingress/" 2>/dev/null); do
    kill -TERM "$p" 2>/dev/null || true
  done
  for ((p = 0; p < 50; p++)); do
    pgrep -f -- "-p $ROOTS/run/ingress/" > /dev/null 2>&1 || break
    sleep 0.1
  done
  pods_teardown
  run pgrep -f -- "-p $ROOTS/run/ingress/"
  [ "$status" -eq 1 ] || { echo "nginx left: $output" >&2; return 1; }
}

# web NAME LABEL: busybox httpd on 80 answering its name at /, /api/ and /apix/, and a 200 KB
# file /big.
web() {
  cat > "$D/$1.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $1
  labels:
    app: $2
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "mkdir -p /www/api /www/apix && for d in /www /www/api /www/apix; do echo $1 > \$d/index.html; done && dd if=/dev/zero of=/www/big bs=1k count=200 2>/dev/null && exec httpd -f -p 80 -h /www"]
YAML
  run prn apply -f "$D/$1.yaml"
  [ "$status" -eq 0 ]
}

# tls_secret NAME: a kubernetes.io/tls Secret with a self-signed certificate for a.example and
# b.example (its certificate in $D/ca.pem).
tls_secret() {
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/key.pem" -out "$D/ca.pem" -days 2 \
    -subj /CN=a.example -addext 'subjectAltName=DNS:a.example,DNS:b.example' 2> /dev/null
  cat > "$D/secret.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: $1
type: kubernetes.io/tls
data:
  tls.crt: $(base64 -w0 "$D/ca.pem")
  tls.key: $(base64 -w0 "$D/key.pem")
YAML
  run prn apply -f "$D/secret.yaml"
  [ "$status" -eq 0 ]
}

services() {
  cat > "$D/svc.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: svc-a
spec:
  selector: {app: a}
  ports:
  - {name: http, port: 80, targetPort: 80}
---
apiVersion: v1
kind: Service
metadata:
  name: svc-b
spec:
  selector: {app: b}
  ports:
  - {port: 8080, targetPort: 80}
YAML
  run prn apply -f "$D/svc.yaml"
  [ "$status" -eq 0 ]
}

# ingress [EXTRA-HOST]: a.example (/ to svc-a by port name, /api to svc-b), b.example (/ to
# svc-b by port number), TLS for both; EXTRA-HOST routes to svc-a too.
ingress() {
  cat > "$D/ing.yaml" <<YAML
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  ingressClassName: podrun
  tls:
  - hosts: [a.example, b.example]
    secretName: web-tls
  rules:
  - host: a.example
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: svc-a, port: {name: http}}
      - path: /api
        pathType: Prefix
        backend:
          service: {name: svc-b, port: {number: 8080}}
  - host: b.example
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: svc-b, port: {number: 8080}}
YAML
  if [ -n "${1:-}" ]; then
    cat >> "$D/ing.yaml" <<YAML
  - host: $1
    http:
      paths:
      - path: /
        pathType: ImplementationSpecific
        backend:
          service: {name: svc-a, port: {number: 80}}
YAML
  fi
  run prn apply -f "$D/ing.yaml"
}

# get HOST PATH [SCHEME]: the body nginx returns for HOST's PATH on the node.
get() {
  local port=80
  [ "${3:-http}" = https ] && port=443
  in_node curl -s --max-time 5 --cacert "$D/ca.pem" --resolve "$1:$port:127.0.0.1" "${3:-http}://$1$2"
}

# body_is HOST PATH WANT: nginx answers WANT (a reload's new workers take a moment).
body_is() {
  [ "$(get "$1" "$2")" = "$3" ]
}

https_ok() {
  [ "$(get a.example / https)" = web-a ]
}

master() {
  cat "$ROOTS/run/ingress/nginx.pid"
}

@test "ingress: two hosts and a path to different services over HTTP and HTTPS; get/describe/-o json; another class ignored; a reload keeps a request in flight; restarted when it died; gone with the last Ingress" {
  web web-a a
  web web-b b
  tls_secret web-tls
  wait_running web-a
  wait_running web-b
  # After the pods run: the services' endpoints are refreshed by applies (no controller loop).
  services
  ingress
  [ "$status" -eq 0 ]
  [ "$output" = 'ingress.networking.k8s.io/web created' ]
  [ -s "$ROOTS/run/ingress/nginx.pid" ]
  wait_for body_is a.example / web-a
  [ "$(get a.example /api/)" = web-b ]
  # Prefix is element-wise: /apix is not under /api.
  [ "$(get a.example /apix/)" = web-a ]
  [ "$(get b.example /)" = web-b ]
  [ "$(get a.example / https)" = web-a ]
  [ "$(get b.example /api/ https)" = web-b ]
  # A new certificate in the Secret: nginx reloads and serves it (curl trusts only the new one).
  pid=$(master)
  tls_secret web-tls
  [ "$output" = 'secret/web-tls configured' ]
  wait_for https_ok
  [ "$(master)" = "$pid" ]
  # No rule for the host, no default backend: 404.
  [ "$(in_node curl -s -o /dev/null -w '%{http_code}' -H 'Host: c.example' http://127.0.0.1/)" = 404 ]
  run prn get ingress
  [ "$status" -eq 0 ]
  [[ ${lines[0]} =~ ^NAME\ +CLASS\ +HOSTS\ +ADDRESS\ +PORTS\ +AGE$ ]]
  [[ ${lines[1]} =~ ^web\ +podrun\ +a\.example,b\.example\ +[0-9.]+\ +80,\ 443\ + ]]
  addr=$(prn get ing web -o json | jq -r '.status.loadBalancer.ingress[0].ip')
  [[ ${lines[1]} == *" $addr "* ]]
  run prn describe ingress web
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "Name:             web" ]
  [[ $output == *"Ingress Class:    podrun"* ]]
  [[ $output == *"TLS:"*"web-tls terminates a.example,b.example"* ]]
  [[ $output == *"a.example"*"/api"*"svc-b:8080 ("*":80)"* ]]
  # An Ingress of another class is not podrun's: no address, not routed.
  sed -e 's/name: web$/name: other/' -e 's/ingressClassName: podrun/ingressClassName: nginx/' \
    -e 's/b\.example/d.example/g' -e '/^  tls:/,/secretName/d' "$D/ing.yaml" > "$D/other.yaml"
  run prn apply -f "$D/other.yaml"
  [ "$status" -eq 0 ]
  [ "$(prn get ing other -o json | jq -c .status)" = '{"loadBalancer":{}}' ]
  [ "$(in_node curl -s -o /dev/null -w '%{http_code}' -H 'Host: d.example' http://127.0.0.1/)" = 404 ]
  # A reload (a new host) while a slow download runs: the download completes, the master stays.
  pid=$(master)
  in_node curl -s --max-time 20 --limit-rate 60k -H 'Host: a.example' -o "$D/big" http://127.0.0.1/big &
  dl=$!
  sleep 0.5
  ingress c.example
  [ "$status" -eq 0 ]
  [ "$output" = 'ingress.networking.k8s.io/web configured' ]
  wait_for body_is c.example / web-a
  wait "$dl"
  [ "$(stat -c %s "$D/big")" -eq 204800 ]
  [ "$(master)" = "$pid" ]
  # A configuration nginx refuses never replaces the running one.
  printf 'ingressHTTPSPort: 80\n' > "$ROOTS/lib/node.yaml"
  ingress
  [ "$status" -eq 1 ]
  [[ $output == *"the Ingress controller's new configuration fails nginx's test (the running one stays)"* ]]
  # (The controller loop, running while Services are stored, meets the same refusal.) A
  # reload that came just before may still have its old workers finishing.
  wait_for body_is c.example / web-a || {
    grep -E "SIGHUP|emerg|alert|crit" "$ROOTS/run/ingress/error.log" | tail
    false
  }
  [ "$(master)" = "$pid" ]
  rm "$ROOTS/lib/node.yaml"
  # nginx died: the next sync starts it again.
  kill -TERM "$pid"
  wait_for sh -c "! kill -0 $pid"
  run prn apply -f "$D/svc.yaml"
  [ "$status" -eq 0 ]
  [ "$(master)" != "$pid" ]
  wait_for get a.example /
  # The last Ingress of podrun's class goes: nginx stops, nothing of it is left.
  pid=$(master)
  run prn delete ingress web
  [ "$status" -eq 0 ]
  [ "$output" = 'ingress.networking.k8s.io "web" deleted' ]
  run kill -0 "$pid"
  [ "$status" -eq 1 ]
  [ ! -e "$ROOTS/run/ingress" ]
  run pgrep -f -- "-p $ROOTS/run/ingress/"
  [ "$status" -eq 1 ]
  prn delete ingress other
  prn delete svc svc-a svc-b
  prn delete pod web-a web-b
  in_node ip link del prdef0
  assert_no_pods
}

# bad FILE-TEXT MESSAGE: applying fails with exit 1 and MESSAGE; nothing stored, no proxy.
bad() {
  printf '%s\n' "$1" > "$D/bad.yaml"
  run prn apply -f "$D/bad.yaml"
  [ "$status" -eq 1 ] || { echo "$output"; return 1; }
  [[ $output == *"$2"* ]] || { echo "got: $output"; return 1; }
  [ -z "$(ls "$ROOTS/lib/objects/ingresses/default" 2>/dev/null)" ]
  [ ! -e "$ROOTS/run/ingress" ]
}

@test "ingress: bad Ingresses and TLS Secrets are refused with clear errors, leaving nothing" {
  tls_secret web-tls
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/other-key.pem" -out "$D/other.pem" \
    -days 2 -subj /CN=x 2> /dev/null
  sec='apiVersion: v1
kind: Secret
metadata:
  name: bad
type: kubernetes.io/tls'
  bad "$sec
stringData:
  tls.crt: hello
  tls.key: hello" 'Secret "bad" is invalid (type kubernetes.io/tls): tls.crt: not a PEM certificate'
  bad "$sec
data:
  tls.crt: $(base64 -w0 "$D/ca.pem")
  tls.key: $(base64 -w0 "$D/other-key.pem")" 'tls.key: not the private key of the certificate in tls.crt'
  bad "$sec
data:
  tls.crt: $(base64 -w0 "$D/ca.pem")" 'data[tls.key]: Required value'
  [ ! -e "$ROOTS/lib/objects/secrets/default/bad.json" ]
  head='apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: bad
spec:
  ingressClassName: podrun'
  path='  rules:
  - http:
      paths:
      - path: /
        pathType: Prefix
        backend:'
  bad "$head
$path
          service: {name: s, port: {number: 70000}}" 'spec.rules[0].http.paths[0].backend.service.port.number: Invalid value: 70000: must be between 1 and 65535, inclusive'
  bad "$head
$path
          service: {name: s, port: {name: http, number: 80}}" 'cannot set both port name & port number'
  bad "$head
  rules:
  - http:
      paths:
      - path: /
        backend:
          service: {name: s, port: {number: 80}}" 'spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified'
  bad "$head
$path
          service: {name: s, port: {number: 80}}
  - host: 10.0.0.1
    http:
      paths:
      - {path: /, pathType: Exact, backend: {service: {name: s, port: {number: 80}}}}" 'spec.rules[1].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address'
  bad "$head
  rules:
  - http:
      paths:
      - path: /a;b
        pathType: Prefix
        backend:
          service: {name: s, port: {number: 80}}" 'spec.rules[0].http.paths[0].path: Invalid value: "/a;b"'
  bad "$head
  tls:
  - secretName: nothere
$path
          service: {name: s, port: {number: 80}}" 'The Ingress "bad" is invalid: spec.tls[0].secretName: secrets "nothere" not found'
  bad "$head" 'spec: Invalid value: either `defaultBackend` or `rules` must be specified'
}

@test "ingress: the default IngressClass of podrun's controller takes Ingresses without a class; another controller's class is ignored; a defaultBackend whose service is missing answers 503" {
  cat > "$D/classes.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: mine
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: podrun.io/ingress
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: theirs
spec:
  controller: example.com/ingress
YAML
  run prn apply -f "$D/classes.yaml"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 'ingressclass.networking.k8s.io/mine created' ]
  run prn get ingressclass
  [ "$status" -eq 0 ]
  [[ ${lines[0]} =~ ^NAME\ +CONTROLLER\ +PARAMETERS\ +AGE$ ]]
  [[ ${lines[1]} =~ ^mine\ +podrun\.io/ingress\ +\<none\>\ + ]]
  [[ ${lines[2]} =~ ^theirs\ +example\.com/ingress\ + ]]
  cat > "$D/theirs.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: theirs
spec:
  ingressClassName: theirs
  defaultBackend:
    service: {name: nothere, port: {number: 80}}
YAML
  run prn apply -f "$D/theirs.yaml"
  [ "$status" -eq 0 ]
  [ ! -e "$ROOTS/run/ingress" ]
  sed -e 's/name: theirs$/name: mine/' -e '/ingressClassName/d' "$D/theirs.yaml" > "$D/mine.yaml"
  run prn apply -f "$D/mine.yaml"
  [ "$status" -eq 0 ]
  [ -s "$ROOTS/run/ingress/nginx.pid" ]
  [ "$(prn get ing mine -o json | jq -c .status)" = '{"loadBalancer":{"ingress":[{"ip":"10.127.0.1"}]}}' ]
  [ "$(prn get ing theirs -o json | jq -c .status)" = '{"loadBalancer":{}}' ]
  run prn get ing mine
  [[ ${lines[1]} =~ ^mine\ +\<none\>\ +\*\ +10\.127\.0\.1\ +80\ + ]]
  wait_for in_node curl -s -o /dev/null http://127.0.0.1/
  [ "$(in_node curl -s -o /dev/null -w '%{http_code}' -H 'Host: any.example' http://127.0.0.1/x)" = 503 ]
  # The class is no longer the default: the Ingress without a class is not podrun's any more.
  sed -i 's/"true"/"false"/' "$D/classes.yaml"
  run prn apply -f "$D/classes.yaml"
  [ "$status" -eq 0 ]
  [ ! -e "$ROOTS/run/ingress" ]
  run prn delete ingress mine theirs
  [ "$status" -eq 0 ]
  run prn delete ingressclass mine theirs
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 'ingressclass.networking.k8s.io "mine" deleted' ]
}
