#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Services on the node: the seed's myapp-service (ClusterIP 8081 -> 80) and myapp-service-np
# (NodePort 32002) reached from the node, from pods, from a client network namespace wired to
# the node, balanced across ready endpoints only, hairpin; bad services refused with nothing
# left; podrun's table `ip podrun_services` gone with the last service, others' untouched.

load ../lib/helpers
load ../lib/pods-helpers

setup() {
  pods_setup
  D=$BATS_TEST_TMPDIR
  in_node ip link set lo up
  CLIENT=""
}

teardown() {
  pods_teardown
}

# web NAME [LABEL]: a busybox httpd on port 80 answering its name, labelled app=LABEL (myapp),
# ready while /tmp/ready exists.
web() {
  cat > "$D/$1.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $1
  labels:
    app: ${2:-myapp}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo $1 > /www/index.html && touch /tmp/ready && exec httpd -f -p 80 -h /www"]
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

peer() {
  cat > "$D/peer.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: peer
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: ["sleep", "3600"]
YAML
  run prn apply -f "$D/peer.yaml"
  [ "$status" -eq 0 ]
}

myapp_service() {
  cat > "$D/svc.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: myapp-service
spec:
  selector:
    app: myapp
  ports:
  - protocol: TCP
    port: 8081
    targetPort: 80
YAML
  run prn apply -f "$D/svc.yaml"
  [ "$status" -eq 0 ]
  [ "$output" = 'service/myapp-service created' ]
}

vip() {
  prn get svc "$@" -o json | jq -r .spec.clusterIP
}

# answers N CMD...: the distinct answers of N runs of CMD, sorted, one a line.
answers() {
  local n=$1 i
  shift
  for ((i = 0; i < n; i++)); do "$@" 2>/dev/null; echo; done | sed '/^$/d' | sort -u
}

@test "services: myapp-service (ClusterIP 8081 -> 80) from the node and from another pod, balanced across two endpoints, hairpin; the table goes with the last service, another table untouched" {
  pods_client 10.125.0 default-route
  in_node nft add table inet other
  in_node nft add chain inet other c '{ type filter hook input priority 0; }'
  in_node nft add rule inet other c tcp dport 1 counter
  before=$(in_node nft list table inet other)
  web web-a
  web web-b
  peer
  wait_running web-a
  wait_running web-b
  wait_running peer
  myapp_service
  run prn get svc
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "NAME            TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)    AGE" ]
  [[ ${lines[1]} =~ ^myapp-service\ +ClusterIP\ +10\.96\.0\.1\ +\<none\>\ +8081/TCP\ + ]]
  run prn get svc -o wide
  [[ ${lines[0]} == *"SELECTOR" ]]
  [[ ${lines[1]} == *" app=myapp" ]]
  ip_a=$(prn get pod web-a -o json | jq -r .status.podIP)
  ip_b=$(prn get pod web-b -o json | jq -r .status.podIP)
  run prn get endpoints
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "NAME            ENDPOINTS                       AGE" ] || [[ ${lines[0]} == "NAME "*"ENDPOINTS "*"AGE" ]]
  [[ ${lines[1]} == "myapp-service "* ]]
  [[ ${lines[1]} == *"$ip_a:80"* && ${lines[1]} == *"$ip_b:80"* ]]
  run prn get endpointslices
  [ "$status" -eq 0 ]
  [[ ${lines[1]} =~ ^myapp-service-podrun\ +IPv4\ +80\ + ]]
  run in_node nft list tables
  [[ $output == *"table ip podrun_services"* ]]
  v=$(vip myapp-service)
  # From the node: both endpoints answer.
  wait_for in_node curl -s --max-time 2 -o /dev/null "http://$v:8081/"
  [ "$(answers 30 in_node curl -s --max-time 2 "http://$v:8081/")" = "$(printf 'web-a\nweb-b')" ]
  # From another pod.
  [ "$(answers 30 pexec peer app timeout 3 wget -q -O- "http://$v:8081/")" = "$(printf 'web-a\nweb-b')" ]
  # Hairpin: a pod through its own service, whichever endpoint answers.
  for i in 1 2 3 4 5 6; do
    run pexec web-a app timeout 3 wget -q -O- "http://$v:8081/"
    [ "$status" -eq 0 ]
    [[ $output == web-a || $output == web-b ]]
  done
  # describe: kubectl's layout, the ready endpoints.
  run prn describe svc myapp-service
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "Name:                     myapp-service" ]
  [[ $output == *"Selector:                 app=myapp"* ]]
  [[ $output == *"IP:                       $v"* ]]
  [[ $output == *"Port:                     <unset>  8081/TCP"* ]]
  [[ $output == *"TargetPort:               80/TCP"* ]]
  [[ $output == *"Endpoints:                "*"$ip_a:80"* && $output == *"$ip_b:80"* ]]
  # sessionAffinity ClientIP: one client keeps its endpoint; each endpoint has its set of
  # clients in the table.
  sed -e 's/name: myapp-service/name: sticky/' -e 's/port: 8081/port: 8085/' \
    -e 's/^spec:/spec:\n  sessionAffinity: ClientIP/' "$D/svc.yaml" > "$D/sticky.yaml"
  run prn apply -f "$D/sticky.yaml"
  [ "$status" -eq 0 ]
  [ "$(prn get svc sticky -o json | jq -c .spec.sessionAffinityConfig)" = '{"clientIP":{"timeoutSeconds":10800}}' ]
  vs=$(vip sticky)
  run answers 12 in_node curl -s --max-time 2 "http://$vs:8085/"
  [ "$output" = web-a ] || [ "$output" = web-b ]
  [ "$(in_node nft list sets | grep -c 'set aff-')" -eq 2 ]
  run prn delete svc sticky
  [ "$status" -eq 0 ]
  [ "$(in_node nft list sets | grep -c 'set aff-')" -eq 0 ]
  # Re-applying changes nothing: the same address.
  run prn apply -f "$D/svc.yaml"
  [ "$output" = 'service/myapp-service unchanged' ]
  [ "$(vip myapp-service)" = "$v" ]
  # A deleted endpoint pod leaves the service.
  run prn delete pod web-b
  [ "$status" -eq 0 ]
  # (Not through the data path: removing a bridge port may change the bridge's MAC address,
  # which the remaining pods learn only when their neighbour entry expires.)
  run prn get endpoints myapp-service
  [[ ${lines[1]} == "myapp-service "*"$ip_a:80 "* && ${lines[1]} != *"$ip_b"* ]]
  run in_node nft list table ip podrun_services
  [[ $output == *"dnat to $ip_a:80"* && $output != *"$ip_b"* ]]
  run prn delete svc myapp-service
  [ "$status" -eq 0 ]
  [ "$output" = 'service "myapp-service" deleted' ]
  run in_node nft list tables
  [[ $output != *"podrun_services"* ]]
  [ "$(in_node nft list table inet other)" = "$before" ]
  [ ! -e "$ROOTS/run/services-nft.json" ]
  in_node nft delete table inet other
  prn delete pod web-a
  prn delete pod peer
  pods_drop_client
  assert_no_pods
}

@test "services: myapp-service-np (NodePort 32002) from a client netns on the node's address and from a pod; a named targetPort" {
  pods_client 10.125.0 default-route
  web web-a
  peer
  wait_running web-a
  wait_running peer
  cat > "$D/np.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: myapp-service-np
spec:
  type: NodePort
  selector:
    app: myapp
  ports:
  - port: 8082
    targetPort: http
    nodePort: 32002
YAML
  run prn apply -f "$D/np.yaml"
  [ "$status" -eq 0 ]
  run prn get svc myapp-service-np
  [[ ${lines[1]} =~ ^myapp-service-np\ +NodePort\ +10\.96\.0\.[0-9]+\ +\<none\>\ +8082:32002/TCP\ + ]]
  wait_for in_client curl -s --max-time 2 -o /dev/null http://10.125.0.1:32002/
  [ "$(in_client curl -s --max-time 2 http://10.125.0.1:32002/)" = web-a ]
  [ "$(pexec peer app timeout 3 wget -q -O- http://10.125.0.1:32002/)" = web-a ]
  # Hairpin through the node port too.
  [ "$(pexec web-a app timeout 3 wget -q -O- http://10.125.0.1:32002/)" = web-a ]
  # The clusterIP of the same service, on its port.
  v=$(vip myapp-service-np)
  [ "$(in_node curl -s --max-time 2 "http://$v:8082/")" = web-a ]
  # Not on loopback (kube-proxy's nftables mode does not forward 127.0.0.1 either).
  run in_node curl -s --max-time 2 http://127.0.0.1:32002/
  [ "$status" -eq 7 ]
  # An allocated nodePort, from the range.
  sed -e 's/myapp-service-np/np2/' -e '/nodePort:/d' "$D/np.yaml" > "$D/np2.yaml"
  run prn apply -f "$D/np2.yaml"
  [ "$status" -eq 0 ]
  np=$(prn get svc np2 -o json | jq -r '.spec.ports[0].nodePort')
  [ "$np" -ge 30000 ] && [ "$np" -le 32767 ] && [ "$np" -ne 32002 ]
  [ "$(in_client curl -s --max-time 2 "http://10.125.0.1:$np/")" = web-a ]
  # expose: kubectl's object, selecting the pod by its labels.
  run prn expose pod web-a --port=8090 --target-port=80 --type=NodePort --name=web-np
  [ "$status" -eq 0 ]
  [ "$output" = 'service/web-np exposed' ]
  run prn get svc web-np -o json
  [ "$(jq -c .spec.selector <<<"$output")" = '{"app":"myapp"}' ]
  [ "$(jq -c '.spec.ports[0] | [.port, .targetPort, .protocol]' <<<"$output")" = '[8090,80,"TCP"]' ]
  np=$(jq -r '.spec.ports[0].nodePort' <<<"$output")
  [ "$(in_client curl -s --max-time 2 "http://10.125.0.1:$np/")" = web-a ]
  run prn expose pod peer --port=80
  [ "$status" -eq 1 ]
  [[ $output == *'the pod "peer" has no labels'* ]]
  run prn get svc peer
  [ "$status" -eq 1 ]
  prn delete svc myapp-service-np np2 web-np
  run in_node nft list tables
  [[ $output != *"podrun_services"* ]]
  prn delete pod web-a
  prn delete pod peer
  pods_drop_client
  assert_no_pods
}

# seen: the address the pod who sees for a request from the client to nodePort 32003 (busybox
# httpd gives REMOTE_ADDR as [::ffff:A.B.C.D]).
seen() {
  in_client curl -s --max-time 2 http://10.125.0.1:32003/cgi-bin/ip | sed 's/^\[::ffff:\(.*\)\]$/\1/'
}

@test "services: externalTrafficPolicy Local keeps the outside client's address on a NodePort; Cluster masquerades it to the node's" {
  pods_client 10.125.0 default-route
  cat > "$D/who.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: who
  labels:
    app: who
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
  cat > "$D/np.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: who
spec:
  type: NodePort
  externalTrafficPolicy: Local
  selector:
    app: who
  ports:
  - port: 8083
    targetPort: 80
    nodePort: 32003
YAML
  run prn apply -f "$D/np.yaml"
  [ "$status" -eq 0 ]
  run prn get svc who -o json
  [ "$(jq -c '[.spec.externalTrafficPolicy, .spec.healthCheckNodePort]' <<<"$output")" = '["Local",null]' ]
  wait_for in_client curl -s --max-time 2 -o /dev/null http://10.125.0.1:32003/cgi-bin/ip
  [ "$(seen)" = 10.125.0.2 ]
  # The node's own traffic is masqueraded under Local too (kube-proxy's "masquerade local
  # traffic"): the pod sees the node's address on its network, its gateway.
  gw=$(pexec who app ip route | awk '/^default/ {print $3}')
  [ -n "$gw" ]
  [ "$(in_node curl -s --max-time 2 http://10.125.0.1:32003/cgi-bin/ip)" = "[::ffff:$gw]" ]
  run in_node nft list chain ip podrun_services mark-for-masquerade
  [[ $output == *'meta mark set meta mark | 0x00004000'* ]]
  # Cluster (the default): the client is seen as the node too.
  sed -i '/externalTrafficPolicy/d' "$D/np.yaml"
  run prn apply -f "$D/np.yaml"
  [ "$status" -eq 0 ]
  [ "$output" = 'service/who configured' ]
  [ "$(prn get svc who -o json | jq -r .spec.externalTrafficPolicy)" = Cluster ]
  [ "$(seen)" = "$gw" ]
  # And back: the port's chains are replaced, the client's address is kept again.
  sed -i 's/^  type: NodePort/  type: NodePort\n  externalTrafficPolicy: Local/' "$D/np.yaml"
  run prn apply -f "$D/np.yaml"
  [ "$status" -eq 0 ]
  [ "$(seen)" = 10.125.0.2 ]
  prn delete svc who
  run in_node nft list tables
  [[ $output != *"podrun_services"* ]]
  prn delete pod who
  pods_drop_client
  assert_no_pods
}

@test "services: a pod that turns unready leaves the endpoints and the data path (the controller loop follows it), and comes back when ready" {
  pods_client 10.125.0 default-route
  web web-a
  web web-b
  wait_running web-a
  wait_running web-b
  myapp_service
  v=$(vip myapp-service)
  wait_for in_node curl -s --max-time 2 -o /dev/null "http://$v:8081/"
  [ "$(answers 30 in_node curl -s --max-time 2 "http://$v:8081/")" = "$(printf 'web-a\nweb-b')" ]
  # The rule of web-a's endpoint, which stays: the refresh must leave it as it is.
  ip_a=$(prn get pod web-a -o json | jq -r .status.podIP)
  handle() { in_node nft -a list table ip podrun_services | grep "dnat to $ip_a:80" | sed 's/.*# handle //'; }
  h_a=$(handle)
  [ -n "$h_a" ]
  # The controller loop runs while a Service is stored, and follows readiness: no apply.
  [ -n "$(controllers_pid)" ] || { cat "$ROOTS/run/controllers.log"; ps -ef | grep -c podrun-loop; false; }
  ip_b=$(prn get pod web-b -o json | jq -r .status.podIP)
  pexec web-b app rm /tmp/ready
  wait_running web-b 0/1
  wait_for bash -c "! grep -q '$ip_b' <(nsenter --net=/run/netns/$NODE nft list table ip podrun_services)"
  run prn get endpoints myapp-service
  [[ ${lines[1]} != *"$ip_b"* ]]
  run in_node nft list table ip podrun_services
  [[ $output != *"$ip_b"* ]]
  [ "$(answers 20 in_node curl -s --max-time 2 "http://$v:8081/")" = web-a ]
  [ "$(handle)" = "$h_a" ]
  pexec web-b app touch /tmp/ready
  wait_running web-b 1/1
  wait_for bash -c "nsenter --net=/run/netns/$NODE nft list table ip podrun_services | grep -q '$ip_b'"
  run prn get endpoints myapp-service
  [[ ${lines[1]} == *"$ip_b:80"* ]]
  [ "$(answers 30 in_node curl -s --max-time 2 "http://$v:8081/")" = "$(printf 'web-a\nweb-b')" ]
  # With no record of what the table holds (a run root wiped), the next sync rebuilds it whole
  # rather than adding the same rules again.
  rm "$ROOTS/run/services-nft.json"
  run prn apply -f "$D/svc.yaml"
  [ "$status" -eq 0 ]
  [ "$(in_node nft list table ip podrun_services | grep -c 'jump ep-')" -eq 2 ]
  [ -s "$ROOTS/run/services-nft.json" ]
  prn delete svc myapp-service
  # The last Service gone, the loop has nothing left to follow and exits.
  for _ in $(seq 100); do [ -n "$(controllers_pid)" ] || break; sleep 0.1; done
  [ -z "$(controllers_pid)" ]
  prn delete pod web-a web-b
  pods_drop_client
  assert_no_pods
}

# bad FILE-TEXT MESSAGE: applying the service fails with exit 1 and MESSAGE, storing nothing.
bad() {
  printf '%s\n' "$1" > "$D/bad.yaml"
  run prn apply -f "$D/bad.yaml"
  [ "$status" -eq 1 ] || { echo "$output"; return 1; }
  [[ $output == *"$2"* ]] || { echo "got: $output"; return 1; }
  [ ! -e "$ROOTS/lib/objects/services/default/bad.json" ]
}

@test "services: bad services are refused as the API server refuses them, with nothing left" {
  head='apiVersion: v1
kind: Service
metadata:
  name: bad
spec:'
  bad "$head
  ports:
  - port: 70000" 'spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive'
  bad "$head
  ports:
  - {name: a, port: 80}
  - {name: a, port: 81}" 'spec.ports[1].name: Duplicate value: "a"'
  bad "$head
  ports:
  - {port: 80}
  - {port: 81}" 'spec.ports[0].name: Required value'
  bad "$head
  type: NodePort
  ports:
  - {port: 80, nodePort: 40000}" 'spec.ports[0].nodePort: Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767'
  bad "$head
  type: NodePort
  ports:
  - {name: a, port: 80, nodePort: 31000}
  - {name: b, port: 81, nodePort: 31000}" 'spec.ports[1].nodePort: Duplicate value: 31000'
  bad "$head
  ports:
  - {port: 80, nodePort: 31000}" "spec.ports[0].nodePort: Forbidden: may not be used when \`type\` is 'ClusterIP'"
  bad "$head
  clusterIP: 10.0.0.5
  ports:
  - {port: 80}" 'failed to allocate IP 10.0.0.5: the provided IP (10.0.0.5) is not in the valid range. The range of valid IPs is 10.96.0.0/12'
  bad "$head
  loadBalancerIP: 10.0.0.9
  ports:
  - {port: 80}" "spec.loadBalancerIP: Forbidden: may only be used when \`type\` is 'LoadBalancer'"
  bad "$head
  type: ExternalName
  externalName: Example_org" 'spec.externalName: Invalid value: "Example_org": a lowercase RFC 1123 subdomain'
  bad "$head
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 0}}
  ports:
  - {port: 80}" 'spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: must be greater than 0'
  bad "$head
  ports:
  - {port: 80, protocol: SCTP}" 'spec.ports[0].protocol: "SCTP"'
  bad "$head
  ports:
  - {port: 80, bogus: 1}" 'spec.ports[0].bogus: unknown field'
  # Nothing was made: no object, no table.
  [ -z "$(ls "$ROOTS/lib/objects/services/default" 2>/dev/null)" ]
  run in_node nft list tables
  [[ $output != *"podrun_services"* ]]
  # Taken: a requested address and a nodePort another service holds.
  cat > "$D/one.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: one
spec:
  type: NodePort
  clusterIP: 10.96.0.10
  selector: {app: x}
  ports:
  - {port: 80, nodePort: 32002}
YAML
  run prn apply -f "$D/one.yaml"
  [ "$status" -eq 0 ]
  bad "$head
  clusterIP: 10.96.0.10
  ports:
  - {port: 80}" 'failed to allocate IP 10.96.0.10: provided IP is already allocated'
  bad "$head
  type: NodePort
  ports:
  - {port: 80, nodePort: 32002}" 'spec.ports[0].nodePort: Invalid value: 32002: provided port is already allocated (by service "default/one")'
  # The clusterIP of a service does not change.
  sed 's/10.96.0.10/10.96.0.11/' "$D/one.yaml" > "$D/one2.yaml"
  run prn apply -f "$D/one2.yaml"
  [ "$status" -eq 1 ]
  [[ $output == *'spec.clusterIPs[0]: Invalid value: "10.96.0.11": may not change once set'* ]]
  [ "$(vip one)" = 10.96.0.10 ]
  # Its ports are free again once it is deleted.
  run prn delete svc one
  [ "$status" -eq 0 ]
  run in_node nft list tables
  [[ $output != *"podrun_services"* ]]
  sed 's/name: one/name: two/' "$D/one.yaml" > "$D/two.yaml"
  run prn apply -f "$D/two.yaml"
  [ "$status" -eq 0 ]
  prn delete svc two
}

@test "services: the service range is settable; a service without pods has no endpoints" {
  PRN_EXTRA=(--service-cluster-ip-range 10.200.0.0/24)
  cat > "$D/s.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: lonely
spec:
  selector: {app: nobody}
  ports:
  - {port: 80}
YAML
  run prn apply -f "$D/s.yaml"
  [ "$status" -eq 0 ]
  [ "$(vip lonely)" = 10.200.0.1 ]
  run prn get endpoints lonely
  [[ ${lines[1]} =~ ^lonely\ +\<none\>\ + ]]
  # No ready endpoint: a connection is refused at once (ICMP port unreachable from podrun's
  # reject chain) rather than sent on to wherever the node routes the address.
  in_node ip link add prdummy type bridge
  in_node ip addr add 10.126.0.1/24 dev prdummy
  in_node ip link set prdummy up
  in_node ip route add default dev prdummy
  run in_node curl -s --max-time 2 http://10.200.0.1:80/
  [ "$status" -eq 7 ]
  run in_node nft list chain ip podrun_services reject-chain
  [[ $output == *"counter packets 1 "*"reject"* ]]
  # UDP ports get their own map element.
  cat > "$D/dns.yaml" <<'YAML'
apiVersion: v1
kind: Namespace
metadata:
  name: team
---
apiVersion: v1
kind: Service
metadata:
  name: dns
  namespace: team
spec:
  type: NodePort
  selector: {app: dns}
  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
YAML
  run prn apply -f "$D/dns.yaml"
  [ "$status" -eq 0 ]
  [ "$(vip dns -n team)" = 10.200.0.2 ]
  run in_node nft list map ip podrun_services service-ips
  [[ $output == *"10.200.0.2 . udp . 53 : jump svc-"* ]]
  [[ $output == *"10.200.0.2 . tcp . 53 : jump svc-"* ]]
  run prn get svc -A
  [[ $output == *"team        dns"*"53:3"*"/UDP,53:3"*"/TCP"* ]]
  run prn delete svc lonely
  [ "$status" -eq 0 ]
  run in_node nft list map ip podrun_services service-ips
  [[ $output != *"10.200.0.1"* ]]
  # A namespace goes with its services, and the table with the last one.
  run prn delete namespace team
  [ "$status" -eq 0 ]
  [ ! -e "$ROOTS/lib/objects/services/team/dns.json" ]
  run in_node nft list tables
  [[ $output != *"podrun_services"* ]]
}

@test "services: internalTrafficPolicy Local sends the clusterIP's traffic to this node's endpoints only (a pod's, or a slice endpoint naming this node), shown in -o yaml; Cluster to all; a bad value refused" {
  pods_client 10.125.0 default-route
  web web-a
  web web-b
  wait_running web-a
  wait_running web-b
  ip_a=$(prn get pod web-a -o json | jq -r .status.podIP)
  ip_b=$(prn get pod web-b -o json | jq -r .status.podIP)
  node=$(prn get pod web-a -o json | jq -r .spec.nodeName)
  [ -n "$node" ] && [ "$node" != null ]
  # A service with a selector: its pods are all this node's, so Local reaches both.
  cat > "$D/local.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: local
spec:
  internalTrafficPolicy: Local
  selector:
    app: myapp
  ports:
  - {port: 8081, targetPort: 80}
YAML
  run prn apply -f "$D/local.yaml"
  [ "$status" -eq 0 ]
  run prn get svc local -o yaml
  [[ $output == *"internalTrafficPolicy: Local"* ]]
  v=$(vip local)
  wait_for in_node curl -s --max-time 2 -o /dev/null "http://$v:8081/"
  [ "$(answers 30 in_node curl -s --max-time 2 "http://$v:8081/")" = "$(printf 'web-a\nweb-b')" ]
  # A service without a selector whose slice names web-a on this node and web-b on another:
  # Local keeps web-a alone, Cluster both.
  man() {
    cat > "$D/man.yaml" <<YAML
apiVersion: v1
kind: Service
metadata:
  name: man
spec:
  internalTrafficPolicy: $1
  ports:
  - {port: 8082}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: man-1
  labels:
    kubernetes.io/service-name: man
addressType: IPv4
ports:
- {port: 80}
endpoints:
- addresses: ["$ip_a"]
  nodeName: $node
- addresses: ["$ip_b"]
  nodeName: elsewhere
YAML
    run prn apply -f "$D/man.yaml"
    [ "$status" -eq 0 ]
  }
  man Local
  vm=$(vip man)
  wait_for in_node curl -s --max-time 2 -o /dev/null "http://$vm:8082/"
  [ "$(answers 20 in_node curl -s --max-time 2 "http://$vm:8082/")" = web-a ]
  run prn get svc man -o yaml
  [[ $output == *"internalTrafficPolicy: Local"* ]]
  man Cluster
  [ "$(answers 30 in_node curl -s --max-time 2 "http://$vm:8082/")" = "$(printf 'web-a\nweb-b')" ]
  sed -i 's/internalTrafficPolicy: Local/internalTrafficPolicy: Sideways/' "$D/local.yaml"
  run prn apply -f "$D/local.yaml"
  [ "$status" -eq 1 ]
  [[ $output == *'spec.internalTrafficPolicy: Unsupported value: "Sideways": supported values: "Cluster", "Local"'* ]]
  run prn get svc local -o yaml
  [[ $output == *"internalTrafficPolicy: Local"* ]]
  prn delete svc local man
  prn delete endpointslice man-1
  run in_node nft list tables
  [[ $output != *"podrun_services"* ]]
  prn delete pod web-a web-b
  pods_drop_client
  assert_no_pods
}
