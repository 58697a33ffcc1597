#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# The cluster DNS (dnsmasq, supervised by podrun while a Service exists): pods resolve SVC,
# SVC.NS and SVC.NS.svc.cluster.local to the clusterIP and reach the service by name; headless
# services answer their ready pods' addresses (and StatefulSet-style HOSTNAME.SUBDOMAIN names);
# ExternalName is a CNAME; SRV records for named ports; other names go to the node's resolver
# (a dnsmasq of the test's on the node's loopback, never a real address); dnsmasq killed comes
# back; the last Service deleted stops it and leaves nothing.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  command -v dnsmasq >/dev/null || skip "needs Debian's dnsmasq-base"
  pods_setup
  D=$BATS_TEST_TMPDIR
  in_node ip link set lo up
  # The node's resolver: answers upstream.test names only.
  in_node dnsmasq --conf-file=/dev/null --no-resolv --no-hosts --listen-address=127.0.0.2 \
    --bind-interfaces --port=53 --pid-file="$D/upstream.pid" --host-record=db.upstream.test,192.0.2.8
  echo "nameserver 127.0.0.2" > "$D/resolv.conf"
  PRN_EXTRA=(--resolv-conf "$D/resolv.conf")
}

teardown() {
  pods_teardown
  [ -f "$D/upstream.pid" ] && kill "$(cat "$D/upstream.pid")" 2>/dev/null || true
}

# web_deployment NAME REPLICAS: busybox httpd on 80 answering its pod's name, app=NAME, ready
# while /tmp/ready exists.
web_deployment() {
  cat > "$D/$1.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $1
  labels:
    app: $1
spec:
  replicas: $2
  selector:
    matchLabels:
      app: $1
  template:
    metadata:
      labels:
        app: $1
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: app
        image: busybox
        command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && touch /tmp/ready && exec httpd -f -p 80 -h /www"]
        ports:
        - name: http
          containerPort: 80
        readinessProbe:
          exec:
            command: ["cat", "/tmp/ready"]
          periodSeconds: 1
          failureThreshold: 1
YAML
  run prn apply -f "$D/$1.yaml"
  [ "$status" -eq 0 ]
}

client_pod() {
  cat > "$D/client.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
YAML
  run prn apply -f "$D/client.yaml"
  [ "$status" -eq 0 ]
  wait_running client
}

# Note: busybox-static's getaddrinfo cannot use DNS (a static glibc: the image's nsswitch.conf
# says "hosts: files", and "dns" would dlopen a module), so pods resolve with busybox's
# nslookup, which has a resolver of its own reading the pod's resolv.conf, and fetch from the
# address it got. Its search list applies to names without a dot only.
# lookup NAME [TYPE]: the addresses (or records) the client pod's resolver gets, sorted.
lookup() {
  { pexec client app nslookup ${2:+-type=$2} "$1" 2>&1 || true; } | awk '/^Address: / { print $2 } /canonical name|service =/ { print }' | sort -u
}


# ptr IP: the names the client pod's resolver gets for IP (a reverse lookup), sorted.
ptr() {
  { pexec client app nslookup "$1" 2>&1 || true; } | awk '/name = / { print $NF }' | sort -u
}

# resolves NAME ANSWER: the client pod's lookup of NAME gives ANSWER.
resolves() {
  [ "$(lookup "$1")" = "$2" ]
}

# unresolved NAME: the client pod's lookup of NAME gives no address.
unresolved() {
  [ -z "$(lookup "$1")" ]
}

# dns_gone PID: the cluster DNS (dnsmasq PID) stopped, and its files went.
dns_gone() {
  alive "$1" && return 1
  [ ! -e "$ROOTS/run/dns" ] || return 1
  pgrep -f -- "--conf-file=$ROOTS/run/dns/dnsmasq.conf" >/dev/null && return 1
  return 0
}

dnsmasq_pid() {
  cat "$ROOTS/run/dns/dnsmasq.pid" 2>/dev/null
}

new_dnsmasq() {
  local p
  p=$(dnsmasq_pid) && [ -n "$p" ] && [ "$p" != "$1" ] && alive "$p"
}

@test "clusterdns: expose deployment myapp as myapp-service; a pod resolves SVC and the FQDN to its clusterIP and fetches from it; other names go upstream; dnsmasq killed comes back; the last service deleted leaves nothing" {
  web_deployment myapp 1
  run prn expose deployment myapp --port 8081 --target-port 80 --name myapp-service
  [ "$status" -eq 0 ]
  [ "$output" = "service/myapp-service exposed" ]
  run prn get svc myapp-service -o json
  [ "$status" -eq 0 ]
  [ "$(jq -c .spec.selector <<<"$output")" = '{"app":"myapp"}' ]
  [ "$(jq -c .metadata.labels <<<"$output")" = '{"app":"myapp"}' ]
  [ "$(jq -c '.spec.ports[0] | [.port, .targetPort, .protocol]' <<<"$output")" = '[8081,80,"TCP"]' ]
  vip=$(jq -r .spec.clusterIP <<<"$output")
  client_pod
  # The kubelet's resolv.conf with the cluster DNS: the pod network's gateway.
  run pexec client app cat /etc/resolv.conf
  [ "$output" = "search default.svc.cluster.local svc.cluster.local cluster.local
nameserver 10.88.0.1
options ndots:5" ]
  [ "$(lookup myapp-service)" = "$vip" ]
  [ "$(lookup myapp-service.default.svc.cluster.local)" = "$vip" ]
  # The cluster domain is answered locally: an unknown name in it is not asked upstream.
  [ -z "$(lookup nosuch.default.svc.cluster.local)" ]
  [ "$(lookup db.upstream.test)" = 192.0.2.8 ]
  wait_for pexec client app wget -qO- "http://$(lookup myapp-service):8081/"
  [[ "$(pexec client app wget -qO- "http://$(lookup myapp-service):8081/")" == myapp-* ]]

  # dnsmasq killed: the controller loop (a Deployment exists) starts it again.
  old=$(dnsmasq_pid)
  alive "$old"
  kill -9 "$old"
  wait_for new_dnsmasq "$old"
  [ "$(lookup myapp-service.default.svc.cluster.local)" = "$vip" ]

  # The last service goes, and its name: dnsmasq stays for the pods that use it.
  run prn delete svc myapp-service
  [ "$status" -eq 0 ]
  run in_node nft list table ip podrun_services
  [ "$status" -eq 1 ]
  wait_for unresolved myapp-service
  [ "$(lookup db.upstream.test)" = 192.0.2.8 ]
  # The last pod using it goes: dnsmasq stops and its files go.
  pid=$(dnsmasq_pid)
  alive "$pid"
  run prn delete deployment myapp
  [ "$status" -eq 0 ]
  run prn delete pod client
  [ "$status" -eq 0 ]
  wait_for dns_gone "$pid"
}

@test "clusterdns: a pod made before any Service gets the cluster DNS and resolves a Service made after it; other names go upstream; nothing is left when everything is deleted" {
  client_pod
  run pexec client app cat /etc/resolv.conf
  [ "$output" = "search default.svc.cluster.local svc.cluster.local cluster.local
nameserver 10.88.0.1
options ndots:5" ]
  pid=$(dnsmasq_pid)
  alive "$pid"
  [ "$(lookup db.upstream.test)" = 192.0.2.8 ]
  [ -z "$(lookup myapp-service)" ]
  web_deployment myapp 1
  run prn expose deployment myapp --port 8081 --target-port 80 --name myapp-service
  [ "$status" -eq 0 ]
  vip=$(prn get svc myapp-service -o json | jq -r .spec.clusterIP)
  wait_for resolves myapp-service "$vip"
  [ "$(lookup myapp-service.default.svc.cluster.local)" = "$vip" ]
  # The same dnsmasq: the services' names are files it re-reads.
  [ "$(dnsmasq_pid)" = "$pid" ]
  wait_for pexec client app wget -qO- "http://$vip:8081/"
  run prn delete svc myapp-service
  [ "$status" -eq 0 ]
  run prn delete deployment myapp
  [ "$status" -eq 0 ]
  alive "$pid"
  run prn delete pod client
  [ "$status" -eq 0 ]
  wait_for dns_gone "$pid"
  assert_no_pods
}

@test "clusterdns: a headless service answers its ready pods' addresses and hostname.subdomain names, and drops an unready one; one without ports too; SRV for named ports; PTR for clusterIPs and headless pods; ExternalName is a CNAME" {
  web_deployment hl 1
  cat > "$D/more.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: web-0
  labels:
    app: hl
spec:
  hostname: web-0
  subdomain: hl
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www"]
---
apiVersion: v1
kind: Service
metadata:
  name: hl
spec:
  clusterIP: None
  selector:
    app: hl
  ports:
  - name: http
    port: 80
---
apiVersion: v1
kind: Service
metadata:
  name: noports
spec:
  clusterIP: None
  selector:
    app: hl
---
apiVersion: v1
kind: Service
metadata:
  name: named
spec:
  selector:
    app: hl
  ports:
  - name: web
    port: 8081
    targetPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: ext
spec:
  type: ExternalName
  externalName: db.upstream.test
YAML
  run prn apply -f "$D/more.yaml"
  [ "$status" -eq 0 ]
  client_pod
  wait_running web-0
  dep=$(prn get pods -o json | jq -r '.items[].metadata.name | select(startswith("hl-"))')
  wait_running "$dep"
  ip0=$(jq -r .ip "$ROOTS/run/pods/$(pod_uid web-0)/pod.json")
  ip1=$(jq -r .ip "$ROOTS/run/pods/$(pod_uid "$dep")/pod.json")
  both=$(printf '%s\n' "$ip0" "$ip1" | sort)
  wait_for resolves hl "$both"
  [ "$(lookup hl.default.svc.cluster.local)" = "$both" ]
  [ "$(lookup web-0.hl.default.svc.cluster.local)" = "$ip0" ]
  run lookup _http._tcp.hl.default.svc.cluster.local srv
  [[ "$output" == *"service = 0 0 80 web-0.hl.default.svc.cluster.local"* ]]
  [[ "$output" == *"service = 0 0 80 ${ip1//./-}.hl.default.svc.cluster.local"* ]]
  run lookup _web._tcp.named.default.svc.cluster.local srv
  [[ "$output" == *"service = 0 0 8081 named.default.svc.cluster.local"* ]]
  # Reverse lookups as CoreDNS answers them: a clusterIP names its service, a headless
  # service's pod its hostname.subdomain or dashed-address name.
  vip=$(prn get svc named -o json | jq -r .spec.clusterIP)
  [ "$(ptr "$vip")" = named.default.svc.cluster.local ]
  [ "$(ptr "$ip0")" = web-0.hl.default.svc.cluster.local ]
  [ "$(ptr "$ip1")" = "${ip1//./-}.hl.default.svc.cluster.local" ]
  # A headless service without ports, accepted as the API server accepts it: its ready pods.
  [ "$(lookup noports)" = "$both" ]
  run prn get endpoints noports
  [ "$status" -eq 0 ]
  [ "$(awk 'NR == 2 { print $2 }' <<<"$output")" = "$(tr '\n' , <<<"$both" | sed 's/,$//')" ]
  # ExternalName: a CNAME to its name (dnsmasq does not chase it: the client asks for it).
  run prn get svc ext
  [ "$status" -eq 0 ]
  [ "$(awk 'NR == 2 { print $2, $3, $4, $5 }' <<<"$output")" = "ExternalName <none> db.upstream.test <none>" ]
  run lookup ext
  [[ "$output" == *"ext.default.svc.cluster.local	canonical name = db.upstream.test"* ]]

  # The deployment's pod turns unready: the controller loop drops it from the names.
  run pexec "$dep" app rm /tmp/ready
  [ "$status" -eq 0 ]
  wait_for resolves hl "$ip0"
  [ "$(lookup noports)" = "$ip0" ]
  run pexec "$dep" app touch /tmp/ready
  wait_for resolves hl "$both"
  run cat "$ROOTS/run/controllers.log"
  echo "$output"
  [[ "$output" != *"cluster DNS"* ]]
}

@test "clusterdns: bad ExternalName services and exposes are refused, with nothing made" {
  cat > "$D/bad.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: bad
spec:
  type: ExternalName
YAML
  run prn apply -f "$D/bad.yaml"
  [ "$status" -eq 1 ]
  [[ "$output" == *"spec.externalName: Required value"* ]]
  sed -i 's/type: ExternalName/externalName: db.example/' "$D/bad.yaml"
  printf '  ports:\n  - port: 80\n' >> "$D/bad.yaml"
  run prn apply -f "$D/bad.yaml"
  [ "$status" -eq 1 ]
  [[ "$output" == *'spec.externalName: Invalid value: "db.example": may only be set for ExternalName services'* ]]
  run prn expose deployment nosuch --port 80
  [ "$status" -eq 1 ]
  [[ "$output" == *nosuch*"not found"* ]]
  run prn expose replicaset x --port 80
  [ "$status" -eq 1 ]
  [[ "$output" == *"podrun exposes pods and deployments only so far"* ]]
  [ ! -e "$ROOTS/run/dns" ]
  [ -z "$(find "$ROOTS/lib/objects/services" -type f 2>/dev/null)" ]
}

@test "clusterdns: a service without a selector takes the addresses of its manual EndpointSlice: data path, DNS (headless too), get endpointslices; deleting the slice empties it; the cluster domain from node.yaml" {
  mkdir -p "$ROOTS/lib"
  echo "clusterDomain: cluster.test" > "$ROOTS/lib/node.yaml"
  cat > "$D/web.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: backend
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo backend > /www/index.html && exec httpd -f -p 8080 -h /www"]
YAML
  run prn apply -f "$D/web.yaml"
  [ "$status" -eq 0 ]
  wait_running backend
  ip=$(jq -r .ip "$ROOTS/run/pods/$(pod_uid backend)/pod.json")
  cat > "$D/manual.yaml" <<YAML
apiVersion: v1
kind: Service
metadata:
  name: manual
spec:
  ports:
  - name: web
    port: 8081
---
apiVersion: v1
kind: Service
metadata:
  name: manual-hl
spec:
  clusterIP: None
  ports:
  - name: web
    port: 8080
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: manual-1
  labels:
    kubernetes.io/service-name: manual
addressType: IPv4
ports:
- name: web
  protocol: TCP
  port: 8080
endpoints:
- addresses: ["$ip"]
  conditions:
    ready: true
- addresses: ["10.88.255.254"]
  conditions:
    ready: false
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: manual-hl-1
  labels:
    kubernetes.io/service-name: manual-hl
addressType: IPv4
ports:
- name: web
  port: 8080
endpoints:
- addresses: ["$ip"]
  hostname: db
YAML
  run prn apply -f "$D/manual.yaml"
  [ "$status" -eq 0 ]
  [ "${lines[2]}" = "endpointslice.discovery.k8s.io/manual-1 created" ]
  vip=$(prn get svc manual -o json | jq -r .spec.clusterIP)
  # The data path: only the ready address.
  run in_node nft list table ip podrun_services
  [[ "$output" == *"dnat to $ip:8080"* ]]
  [[ "$output" != *"10.88.255.254"* ]]
  client_pod
  [ "$(lookup manual)" = "$vip" ]
  [ "$(pexec client app wget -qO- "http://$vip:8081/")" = backend ]
  [ "$(lookup manual-hl)" = "$ip" ]
  [ "$(lookup db.manual-hl.default.svc.cluster.test)" = "$ip" ]
  [ -z "$(lookup manual.default.svc.cluster.local)" ]
  [ "$(pexec client app head -1 /etc/resolv.conf)" = "search default.svc.cluster.test svc.cluster.test cluster.test" ]
  run prn get endpointslices
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "NAME"*"ADDRESSTYPE"*"PORTS"*"ENDPOINTS"*"AGE" ]]
  [ "$(awk '$1 == "manual-1" { print $2, $3, $4 }' <<<"$output")" = "IPv4 8080 $ip,10.88.255.254" ]
  [ "$(awk '$1 == "manual-hl-1" { print $2, $3, $4 }' <<<"$output")" = "IPv4 8080 $ip" ]
  # No computed slice for a selectorless service.
  [[ "$output" != *manual-podrun* ]]
  run prn get endpoints manual
  [ "$(awk 'NR == 2 { print $2 }' <<<"$output")" = "$ip:8080" ]

  run prn delete endpointslice manual-1
  [ "$status" -eq 0 ]
  run in_node nft list table ip podrun_services
  [[ "$output" != *"dnat to $ip:8080"* ]]
  run pexec client app wget -qO- "http://$vip:8081/"
  [ "$status" -eq 1 ]
  run prn delete endpointslice manual-podrun
  [ "$status" -eq 1 ]
  [[ "$output" == *"podrun computes a service's endpoints"* ]]
}

@test "clusterdns: bad EndpointSlices are refused as the API server refuses them" {
  bad_slice() {
    printf 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: bad\n%s\n' "$1" > "$D/bad.yaml"
    run prn apply -f "$D/bad.yaml"
    [ "$status" -eq 1 ] || { echo "$output"; return 1; }
    [[ "$output" == *"$2"* ]] || { echo "got: $output"; return 1; }
    [ ! -e "$ROOTS/lib/objects/endpointslices/default/bad.json" ]
  }
  bad_slice 'endpoints: []' 'addressType: Required value'
  bad_slice 'addressType: IPv6' 'addressType: "IPv6": podrun serves IPv4 only so far'
  bad_slice 'addressType: IPv4
endpoints:
- addresses: []' 'endpoints[0].addresses: Required value'
  bad_slice 'addressType: IPv4
endpoints:
- addresses: ["300.1.1.1"]' 'endpoints[0].addresses[0]: Invalid value: must be a valid IPv4 address'
  bad_slice 'addressType: IPv4
ports:
- port: 70000' 'ports[0].port: Invalid value'
  bad_slice 'addressType: IPv4
ports:
- {name: a, port: 1}
- {name: a, port: 2}' 'ports[1].name: Duplicate value: "a"'
  bad_slice 'addressType: IPv4
endpoints:
- addresses: ["10.0.0.1"]
  color: blue' 'endpoints[0]: unknown field "color"'
}
