#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# LoadBalancer services: a NodePort service plus an address from the node's loadBalancerPool
# that the node answers ARP for on its interface (MetalLB's layer-2 mode) and the services'
# table DNATs; reached from an outside client netns; <pending> without a pool; a requested
# address honoured or refused; the address gone with the service.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
  D=$BATS_TEST_TMPDIR
  CLIENT=""
}

teardown() {
  [ -z "${NODE_HTTPD:-}" ] || kill "$NODE_HTTPD" 2>/dev/null || true
  pods_teardown
}

# The client (pods_client 10.126.0): an outside machine on the node's network by a veth pair;
# no route to the pod network: only the pool address reaches the service.

web() {
  cat > "$D/$1.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $1
  labels:
    app: lbweb
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo $1 > /www/index.html && exec httpd -f -p 80 -h /www"]
YAML
  run prn apply -f "$D/$1.yaml"
  [ "$status" -eq 0 ]
}

# lb NAME [EXTRA-SPEC-LINE]
lb() {
  cat > "$D/$1.yaml" <<YAML
apiVersion: v1
kind: Service
metadata:
  name: $1
spec:
  type: LoadBalancer
  selector:
    app: lbweb
${2:+  $2
}  ports:
  - port: 8080
    targetPort: 80
YAML
  run prn apply -f "$D/$1.yaml"
}

lb_ip() {
  prn get svc "$1" -o json | jq -r '.status.loadBalancer.ingress[0].ip // "none"'
}

@test "loadbalancer: an address from the pool, answered on the node's network for an outside client; a requested address; the address gone with the service" {
  mkdir -p "$ROOTS/lib"
  printf 'loadBalancerPool: ["10.126.0.240-10.126.0.241"]\n' > "$ROOTS/lib/node.yaml"
  pods_client 10.126.0
  web web-a
  wait_running web-a
  lb lb1
  [ "$status" -eq 0 ]
  [ "$output" = 'service/lb1 created' ]
  [ "$(lb_ip lb1)" = 10.126.0.240 ]
  run prn get svc lb1
  [[ ${lines[1]} =~ ^lb1\ +LoadBalancer\ +10\.96\.[0-9.]+\ +10\.126\.0\.240\ +8080:3[0-9]+/TCP\ + ]]
  [ "$(prn get svc lb1 -o json | jq -c '[.status.loadBalancer.ingress, .spec.externalTrafficPolicy, .spec.allocateLoadBalancerNodePorts]')" = '[[{"ip":"10.126.0.240","ipMode":"VIP"}],"Cluster",true]' ]
  run prn describe svc lb1
  [[ $output == *"LoadBalancer Ingress:     10.126.0.240 (VIP)"* ]]
  # The node holds the address on the interface of its subnet, so it answers ARP for it.
  run in_node ip -4 -o addr show dev prnode0
  [[ $output == *"inet 10.126.0.240/32"* ]]
  wait_for in_client curl -s --max-time 2 -o /dev/null http://10.126.0.240:8080/
  [ "$(in_client curl -s --max-time 2 http://10.126.0.240:8080/)" = web-a ]
  in_client ip neigh show 10.126.0.240 | grep -q lladdr
  # The nodePort too, on the node's address.
  np=$(prn get svc lb1 -o json | jq -r '.spec.ports[0].nodePort')
  [ "$(in_client curl -s --max-time 2 "http://10.126.0.1:$np/")" = web-a ]
  # A requested address: honoured when in the pool and free, refused when taken or outside.
  lb lb2 "loadBalancerIP: 10.126.0.240"
  [ "$status" -eq 1 ]
  [[ $output == *'The Service "lb2" is invalid: spec.loadBalancerIP: Invalid value: "10.126.0.240": already allocated'* ]]
  lb lb2 "loadBalancerIP: 10.126.0.9"
  [ "$status" -eq 1 ]
  [[ $output == *'spec.loadBalancerIP: Invalid value: "10.126.0.9": not in the node'"'"'s loadBalancerPool'* ]]
  [ ! -e "$ROOTS/lib/objects/services/default/lb2.json" ]
  lb lb2 "loadBalancerIP: 10.126.0.241"
  [ "$status" -eq 0 ]
  [ "$(lb_ip lb2)" = 10.126.0.241 ]
  wait_for in_client curl -s --max-time 2 -o /dev/null http://10.126.0.241:8080/
  # The pool is full: the next one waits, as on a cluster without a load balancer.
  lb lb3
  [ "$status" -eq 0 ]
  [ "$(lb_ip lb3)" = none ]
  run prn get svc lb3
  [[ ${lines[1]} =~ ^lb3\ +LoadBalancer\ +[0-9.]+\ +\<pending\>\ + ]]
  # A deleted service frees its address: the node stops answering, the next apply gets it.
  run prn delete svc lb1
  [ "$status" -eq 0 ]
  run in_node ip -4 -o addr show dev prnode0
  [[ $output != *"10.126.0.240"* ]]
  run prn apply -f "$D/lb3.yaml"
  [ "$status" -eq 0 ]
  [ "$(lb_ip lb3)" = 10.126.0.240 ]
  # An address someone else put there is not podrun's to remove.
  in_node ip addr add 10.126.0.241/32 dev lo
  run prn delete svc lb2 lb3
  [ "$status" -eq 0 ]
  run in_node ip -4 -o addr show
  [[ $output != *"10.126.0.240"* ]]
  [[ $output == *"lo    inet 10.126.0.241/32"* ]]
  in_node ip addr del 10.126.0.241/32 dev lo
  [ ! -e "$ROOTS/run/lb-addrs.json" ]
  # Without a ready endpoint the pool address refuses connections at once, as a clusterIP does,
  # even with a listener of the node's own on that port.
  sed -e 's/name: lb3/name: lbnone/' -e 's/app: lbweb/app: none/' "$D/lb3.yaml" > "$D/lbnone.yaml"
  run prn apply -f "$D/lbnone.yaml"
  [ "$status" -eq 0 ]
  [ "$(lb_ip lbnone)" = 10.126.0.240 ]
  echo node > "$D/index.html"
  # nsenter, not in_node (a function): $! is then httpd itself, which the kill below stops.
  nsenter --net="/run/netns/$NODE" busybox httpd -f -p 8080 -h "$D" 3>&- &
  NODE_HTTPD=$!
  wait_for in_node curl -s --max-time 2 -o /dev/null http://127.0.0.1:8080/
  run in_client curl -s --max-time 2 http://10.126.0.240:8080/
  [ "$status" -eq 7 ]
  kill "$NODE_HTTPD"
  wait "$NODE_HTTPD" || true
  NODE_HTTPD=""
  run prn delete svc lbnone
  [ "$status" -eq 0 ]
  run in_node nft list tables
  [[ $output != *"podrun_services"* ]]
  prn delete pod web-a
  pods_drop_client
  assert_no_pods
}

@test "loadbalancer: without a pool EXTERNAL-IP stays <pending>; a requested address is refused; Local gets a healthCheckNodePort" {
  lb lbp
  [ "$status" -eq 0 ]
  run prn get svc lbp
  [[ ${lines[1]} =~ ^lbp\ +LoadBalancer\ +10\.96\.[0-9.]+\ +\<pending\>\ +8080:3[0-9]+/TCP\ + ]]
  [ "$(prn get svc lbp -o json | jq -c .status)" = '{"loadBalancer":{}}' ]
  lb lbq "loadBalancerIP: 10.1.2.3"
  [ "$status" -eq 1 ]
  [[ $output == *'spec.loadBalancerIP: Invalid value: "10.1.2.3": not in the node'"'"'s loadBalancerPool (none is set)'* ]]
  # Local: a healthCheckNodePort from the node-port range, as the API server gives it; one
  # asked for that another service holds as a nodePort is refused.
  lb lbq "externalTrafficPolicy: Local"
  [ "$status" -eq 0 ]
  hc=$(prn get svc lbq -o json | jq -r .spec.healthCheckNodePort)
  [ "$hc" -ge 30000 ] && [ "$hc" -le 32767 ]
  [ "$hc" -ne "$(prn get svc lbq -o json | jq -r '.spec.ports[0].nodePort')" ]
  run prn get svc lbq -o yaml
  [[ $output == *"healthCheckNodePort: $hc"* ]]
  [[ $output == *"externalTrafficPolicy: Local"* ]]
  run prn describe svc lbq
  [[ $output =~ External\ Traffic\ Policy:\ +Local.*HealthCheck\ NodePort:\ +$hc ]]
  np=$(prn get svc lbp -o json | jq -r '.spec.ports[0].nodePort')
  lb lbr "externalTrafficPolicy: Local
  healthCheckNodePort: $np"
  [ "$status" -eq 1 ]
  [[ $output == *"spec.healthCheckNodePort: Invalid value: $np: provided port is already allocated (by service \"default/lbp\")"* ]]
  # A requested one is kept out of the service's own nodePort allocation (the next free port,
  # which the allocation would otherwise take).
  want=$((hc + 1))
  lb lbs "externalTrafficPolicy: Local
  healthCheckNodePort: $want"
  [ "$status" -eq 0 ]
  [ "$(prn get svc lbs -o json | jq -r .spec.healthCheckNodePort)" -eq "$want" ]
  [ "$(prn get svc lbs -o json | jq -r '.spec.ports[0].nodePort')" -ne "$want" ]
  run prn delete svc lbs
  [ "$status" -eq 0 ]
  lb lbr "externalTrafficPolicy: Nearby"
  [ "$status" -eq 1 ]
  [[ $output == *'spec.externalTrafficPolicy: Unsupported value: "Nearby": supported values: "Cluster", "Local"'* ]]
  run prn delete svc lbq
  [ "$status" -eq 0 ]
  printf 'loadBalancerPool: ["10.0.0.1/40"]\n' > "$ROOTS/lib/node.yaml"
  lb lbq
  [ "$status" -eq 1 ]
  [[ $output == *'loadBalancerPool[0]: "10.0.0.1/40": not an IPv4 CIDR'* ]]
  rm "$ROOTS/lib/node.yaml"
  run prn delete svc lbp
  [ "$status" -eq 0 ]
  run in_node nft list tables
  [[ $output != *"podrun_services"* ]]
}

@test "loadbalancer: externalTrafficPolicy Local keeps the outside client's address on the pool address; Cluster masquerades it to the node's" {
  mkdir -p "$ROOTS/lib"
  printf 'loadBalancerPool: ["10.126.0.240-10.126.0.241"]\n' > "$ROOTS/lib/node.yaml"
  pods_client 10.126.0
  cat > "$D/who.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: who
  labels:
    app: lbweb
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "mkdir -p /www/cgi-bin && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $REMOTE_ADDR\\n' > /www/cgi-bin/ip && chmod +x /www/cgi-bin/ip && exec httpd -f -p 80 -h /www"]
YAML
  run prn apply -f "$D/who.yaml"
  [ "$status" -eq 0 ]
  wait_running who
  lb lbl "externalTrafficPolicy: Local"
  [ "$status" -eq 0 ]
  [ "$(lb_ip lbl)" = 10.126.0.240 ]
  wait_for in_client curl -s --max-time 2 -o /dev/null http://10.126.0.240:8080/cgi-bin/ip
  # busybox httpd gives REMOTE_ADDR as [::ffff:A.B.C.D].
  [ "$(in_client curl -s --max-time 2 http://10.126.0.240:8080/cgi-bin/ip)" = '[::ffff:10.126.0.2]' ]
  gw=$(pexec who app ip route | awk '/^default/ {print $3}')
  [ -n "$gw" ]
  lb lbl
  [ "$status" -eq 0 ]
  [ "$output" = 'service/lbl configured' ]
  [ "$(prn get svc lbl -o json | jq -c '[.spec.externalTrafficPolicy, .spec.healthCheckNodePort]')" = '["Cluster",null]' ]
  [ "$(in_client curl -s --max-time 2 http://10.126.0.240:8080/cgi-bin/ip)" = "[::ffff:$gw]" ]
  run prn delete svc lbl
  [ "$status" -eq 0 ]
  run in_node nft list tables
  [[ $output != *"podrun_services"* ]]
  prn delete pod who
  pods_drop_client
  assert_no_pods
}
