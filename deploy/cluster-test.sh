#!/usr/bin/env bash
# cluster-test.sh — three contactd nodes on one Postgres behind Kamailio
# (SIP) and HAProxy (HTTP), SIPp callers and simulated softphone agents (cluster/agentsim: WebRTC
# with pion, the events WebSocket, the REST API), one node killed with
# SIGKILL mid-run. Everything on loopback addresses 127.0.0.8–13; every
# process runs under timeout; the whole run is bounded by
# CLUSTER_TEST_TIMEOUT (default 280 s). Not part of make test: it needs
# kamailio and haproxy (deploy/deps.sh cluster).
#
# Asserts:
#   1. calls spread across all three nodes (calls.node);
#   2. no call offered to two agents at once, no agent offered two calls at
#      once (the offer log, ordered under the call's row lock), and no call
#      answered by two agents (agentsim);
#   3. every call that ended has its ticket (calls ended as "node lost"
#      by the survivors have none: their transcript died with the node);
#   4. the killed node is declared dead and its live calls ended as node
#      lost, none left open; restarted (as systemd would), it rejoins and
#      its outbox writes the tickets of calls that ended just before the
#      kill;
#   5. surviving queues drain: nothing waits in acd_queue, no survivor
#      call is left open, and calls kept being answered after the kill;
#   6. the agents whose socket was on the killed node reconnected to
#      another node and answered calls there;
#   7. a headless Chromium agent, on the agent page through HAProxy
#      (deploy/haproxy/haproxy.cfg), answered calls of several nodes: its
#      peer connection reached "connected" and the caller's audio arrived
#      (media straight to the call's node). Its events socket was on the
#      killed node (the test steers it there with HAProxy's runtime API);
#      when that node died the page reconnected through HAProxy to another
#      node (HAProxy's log shows the socket on both) and answered calls
#      after the kill;
#   8. a baresip desk phone registered through Kamailio answered calls
#      (those of other nodes are rung through the front).
#   9. Kamailio's OPTIONS probes marked the killed node down;
#  10. fencing: node3 reaches Postgres through a TCP proxy (HAProxy in TCP
#      mode). At the end the proxy drops the link: within node3's lease
#      (2 s) /healthz and OPTIONS answer 503, Kamailio's probes mark it
#      down, and it does not dispatch; the link returns before dead-after
#      (6 s here): node3 serves again by itself, still "up", and Kamailio
#      marks it up.
# The last line is a one-line summary: "cluster-test: PASS …" or
# "cluster-test: FAIL …".
#
# Settings (environment): CLUSTER_CALLS (36), CLUSTER_RATE calls/s (1),
# CLUSTER_AGENTS (6: the demo's four and more on the general queue),
# CLUSTER_KILL_AFTER seconds after the first call (14), CLUSTER_TALK
# agent talk time (3s), CLUSTER_KEEP=1 keeps the work dir.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
total=${CLUSTER_TEST_TIMEOUT:-280}
calls=${CLUSTER_CALLS:-36}
rate=${CLUSTER_RATE:-1}
kill_after=${CLUSTER_KILL_AFTER:-14}
n_agents=${CLUSTER_AGENTS:-6}
talk=${CLUSTER_TALK:-3s}
start=$(date +%s)
work=$(mktemp -d /tmp/contactd-cluster.XXXXXX)
failures=()
pids=()
db_name=""
base_url=""

say() { echo "cluster-test: $*" >&2; }
fail() { failures+=("$1"); say "FAIL: $1"; }
summary() {
  local took=$(( $(date +%s) - start ))
  if [ ${#failures[@]} -eq 0 ]; then
    echo "cluster-test: PASS ${took}s: ${summary_text:-}"
  else
    echo "cluster-test: FAIL ${took}s: ${#failures[@]} check(s) failed: ${failures[*]} | ${summary_text:-}"
  fi
}
cleanup() {
  # Each pid is a timeout wrapper (or the watchdog): end its child first.
  local kids=()
  for p in "${pids[@]}"; do kids+=($(pgrep -P "$p" 2>/dev/null)); done
  for p in "${kids[@]}" "${pids[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.5
  for p in "${kids[@]}" "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  if [ -n "$db_name" ] && [ -n "$base_url" ]; then
    psql "$base_url" -qAtc "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" >/dev/null 2>&1
  fi
  if [ ${#failures[@]} -eq 0 ] && [ "${CLUSTER_KEEP:-0}" != 1 ]; then rm -rf "$work"; else say "logs kept in $work"; fi
  summary
  [ ${#failures[@]} -eq 0 ] && exit 0 || exit 1
}
trap cleanup EXIT
trap 'fail "interrupted or timed out"; exit 1' INT TERM
( sleep "$total"; say "overall time limit ${total}s reached"; kill -TERM $$ ) 2>/dev/null &
watchdog=$!
pids+=("$watchdog")
left() { echo $(( total - ($(date +%s) - start) )); }

for cmd in kamailio haproxy sipp psql go python3 curl; do
  command -v "$cmd" >/dev/null || { fail "missing $cmd (deploy/deps.sh cluster)"; exit 1; }
done
[ -r /usr/share/sip-tester/dtmf_2833_0.pcap ] || { fail "missing SIPp's dtmf_2833_0.pcap (sip-tester)"; exit 1; }

# --- build ---
say "building"
(cd "$root" && timeout 240 go build -o "$work/contactd" ./cmd/contactd && timeout 120 go build -o "$work/agentsim" ./cluster/agentsim \
  && timeout 120 go build -o "$work/browseragent" ./cluster/browseragent) \
  || { fail "build"; exit 1; }

# --- Postgres: a database of its own ---
base_url=$(timeout 30 "$root/deploy/test-postgres.sh") || { fail "postgres not available"; exit 1; }
db_name="contactd_cluster_$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
psql "$base_url" -qAtc "CREATE DATABASE $db_name" || { fail "create database"; exit 1; }
db_url=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$base_url" "$db_name")
q() { psql "$db_url" -qAtc "$1"; }

# --- node configs: the demo, DTMF-only (no speech model: 2 cores), short
# waits, six agents on the general queue, each node its own RTP ports ---
for i in 1 2 3; do
  python3 - "$root/config/demo.yaml" "$work/node$i.yaml" "$i" "$n_agents" <<'PY'
import sys
src, dst, i, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
y = open(src).read()
def sub(old, new):
    global y
    if old not in y:
        sys.exit("demo config lacks %r" % old)
    y = y.replace(old, new, 1)
sub("rtp_port_min: 20000", "rtp_port_min: %d" % (30000 + 2000 * i))
sub("rtp_port_max: 29999", "rtp_port_max: %d" % (31999 + 2000 * i))
sub("  guard:\n    enabled: true", "  guard:\n    enabled: false")
sub("asr:\n  provider: sphinx", "asr:\n  provider: none")
sub("no_input_timeout: 8s", "no_input_timeout: 4s")
sub("wrap_up: 5s", "wrap_up: 1s")
sub("shutdown_grace: 10s", "shutdown_grace: 3s")
sub("{name: general, skill: general, sla_target: 30s, announce_every: 60s}", "{name: general, skill: general, sla_target: 30s, wrap_up: 1s}")
names = ["erin", "frank"] + ["agent%02d" % k for k in range(7, n + 1)]
names = names[:max(0, n - 4)] + ["browser1", "phone1"]  # the Chromium agent, the baresip desk phone
extra = "".join("  - username: %s\n    password: %s-demo\n    skills: {general: 5}\n" % (a, a) for a in names)
sub("agents:\n", "agents:\n" + extra)
open(dst, "w").write(y)
PY
  [ $? -eq 0 ] || { fail "node config"; exit 1; }
done

# --- node3's link to Postgres goes through a TCP proxy (HAProxy in TCP
# mode), which the fencing check at the end cuts ---
pg_addr=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print("%s:%d" % (p.hostname, p.port or 5432))' "$db_url")
cat >"$work/dblink.cfg" <<EOF
global
    maxconn 500
    stats socket $work/dblink.sock mode 600 level admin
defaults
    mode tcp
    timeout connect 2s
    timeout client 1h
    timeout server 1h
frontend pg
    bind 127.0.0.10:25432
    default_backend pg
backend pg
    server pg $pg_addr
EOF
timeout -s KILL "$(left)" haproxy -db -f "$work/dblink.cfg" >"$work/dblink.log" 2>&1 &
pids+=("$!")
db_url_link=$(python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(netloc=p.netloc.rsplit("@",1)[0]+"@127.0.0.10:25432")))' "$db_url")
# sock sends one command to an HAProxy runtime API socket.
sock() {
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall((sys.argv[2]+"\n").encode()); print(s.recv(65536).decode(), end="")' "$1" "$2"
}
for _ in $(seq 1 50); do [ -S "$work/dblink.sock" ] && break; sleep 0.1; done

# --- three nodes: dead after 6 s; node3 (behind the cuttable link) fences
# itself after 2 s without renewing its heartbeat ---
start_node() {
  local i=$1 url=$db_url lease=""
  [ "$i" = 3 ] && { url=$db_url_link; lease=2s; }
  mkdir -p "$work/node$i"
  CONTACTD_CLUSTER=1 CONTACTD_NODE_ID="node$i" CONTACTD_NODE_URL="http://127.0.0.1$i:28080" \
  CONTACTD_HTTP_ADDR="127.0.0.1$i:28080" CONTACTD_SIP_ADDR="127.0.0.1$i:25060" \
  CONTACTD_CLUSTER_DEAD_AFTER=6s CONTACTD_CLUSTER_LEASE="$lease" \
  CONTACTD_DATA_DIR="$work/node$i" CONTACTD_DATABASE_URL="$url" CONTACTD_CONFIG="$work/node$i.yaml" \
  CONTACTD_ADMIN_PASSWORD=admin-cluster-test \
    timeout -s KILL "$(left)" "$work/contactd" serve >>"$work/node$i.log" 2>&1 &
  node_pid[$i]=$!
  pids+=("$!")
}
declare -a node_pid
say "starting node1 (first: the ACD dispatcher), then node2 and node3"
start_node 1
for _ in $(seq 1 150); do curl -fsS "http://127.0.0.11:28080/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
start_node 2
start_node 3
for i in 1 2 3; do
  ok=0
  for _ in $(seq 1 150); do curl -fsS "http://127.0.0.1$i:28080/healthz" >/dev/null 2>&1 && { ok=1; break; }; sleep 0.2; done
  [ $ok = 1 ] || { fail "node$i did not become healthy (see $work/node$i.log)"; exit 1; }
done
dispatcher=$(grep -l "now the ACD dispatcher" "$work"/node*.log | head -n1 | sed 's/.*node\([0-9]\).log/\1/')
say "nodes up; dispatcher is node${dispatcher:-?}; nodes table: $(q "SELECT string_agg(id||'='||status, ' ' ORDER BY id) FROM nodes")"

# --- Kamailio in front ---
mkdir -p "$work/kam"
for i in 1 2 3; do echo "1 sip:127.0.0.1$i:25060 0 0"; done >"$work/dispatcher.list"
timeout -s KILL "$(left)" kamailio -f "$root/deploy/kamailio/kamailio.cfg" -DD -E -m 64 -M 8 -Y "$work/kam" -w "$work/kam" \
  -A 'LISTEN=udp:127.0.0.10:25060' -A "DSLIST=\"$work/dispatcher.list\"" -A DS_PING=1 -A FR_TIMER=2000 \
  >"$work/kamailio.log" 2>&1 &
pids+=("$!")
sleep 3
kill -0 "${pids[-1]}" 2>/dev/null || { fail "kamailio did not start (see $work/kamailio.log)"; exit 1; }

# --- HAProxy in front of the nodes' HTTP, for the browser agent ---
lb=127.0.0.10:28080
LB_BIND=$lb NODE1=127.0.0.11:28080 NODE2=127.0.0.12:28080 NODE3=127.0.0.13:28080 HAPROXY_STATS="$work/haproxy.sock" \
  timeout -s KILL "$(left)" haproxy -db -f "$root/deploy/haproxy/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
pids+=("$!")
# lbcmd sends one command to HAProxy's runtime API.
lbcmd() {
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall((sys.argv[2]+"\n").encode()); print(s.recv(65536).decode(), end="")' \
    "$work/haproxy.sock" "$1"
}
lb_ok=0
for _ in $(seq 1 50); do curl -fsS "http://$lb/healthz" >/dev/null 2>&1 && { lb_ok=1; break; }; sleep 0.2; done
[ $lb_ok = 1 ] || { fail "haproxy did not pass requests to the nodes (see $work/haproxy.log)"; exit 1; }

# --- a desk phone (baresip) registering through Kamailio as agent phone1:
# the REGISTER lands on one node; calls of the others ring it through the
# front. It answers by itself and plays a tone; the caller hangs up. ---
have_phone=0
phone_node=""
if command -v baresip >/dev/null; then
  mkdir -p "$work/phone"
  python3 - "$work/phone/mic.wav" <<'PY'
import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb"); w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b"".join(struct.pack("<h", int(9000 * math.sin(2 * math.pi * 700 * i / 8000))) for i in range(8000 * 60)))
PY
  cat >"$work/phone/config" <<EOF
sip_listen 127.0.0.8:25062
audio_source aufile,$work/phone/mic.wav
audio_player aufile,$work/phone/heard.wav
module_path /usr/lib/baresip/modules
module stdio.so
module aufile.so
module g711.so
module_app menu.so
module_app account.so
answermode auto
EOF
  echo "<sip:phone1@127.0.0.10:25060>;auth_pass=phone1-demo;regint=60;answermode=auto" >"$work/phone/accounts"
  timeout -s KILL "$(left)" baresip -f "$work/phone" </dev/null >"$work/phone.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 50); do
    [ "$(q "SELECT count(*) FROM acd_phones WHERE username='phone1'")" -ge 1 ] && { have_phone=1; break; }
    sleep 0.2
  done
  if [ $have_phone = 1 ]; then
    phone_node=$(q "SELECT node FROM acd_phones WHERE username='phone1'")
    ptok=$(curl -fsS -X POST "http://127.0.0.11:28080/api/v1/auth/login" -d '{"username":"phone1","password":"phone1-demo"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    curl -fsS -X POST -H "Authorization: Bearer $ptok" "http://127.0.0.11:28080/api/v1/agents/phone1/state" -d '{"state":"available"}' >/dev/null \
      || fail "phone1 could not go available"
    say "desk phone phone1 registered on $phone_node through Kamailio, available"
  else
    fail "the baresip phone did not register (see $work/phone.log)"
  fi
fi

# --- agents: two per node, each keeps its socket on its first node until
# that node dies ---
nodes="http://127.0.0.11:28080,http://127.0.0.12:28080,http://127.0.0.13:28080"
agents=$(python3 -c '
import sys
n = int(sys.argv[1])
names = ["alice", "bob", "carol", "dave", "erin", "frank"] + ["agent%02d" % k for k in range(7, n + 1)]
print(",".join("%s:%s-demo" % (a, a) for a in names[:n]))' "$n_agents")
sipp_time=$(( calls / rate + 75 ))
timeout -s KILL $(( sipp_time + 30 )) "$work/agentsim" -nodes "$nodes" -agents "$agents" -talk "$talk" \
  -duration "$(( sipp_time + 5 ))s" >"$work/agents.json" 2>"$work/agents.log" &
agents_pid=$!
pids+=("$agents_pid")
# One more agent in a real headless Chromium, through HAProxy. Its page
# and events socket are steered to the node that will be killed (the
# others drain in HAProxy while it logs in); then HAProxy spreads its
# requests over every node again. The calls it answers are mostly other
# nodes' (media straight to them).
victim=${dispatcher:-1}
for i in 1 2 3; do [ "$i" = "$victim" ] || lbcmd "set server nodes/node$i state drain" >/dev/null; done
timeout -s KILL $(( sipp_time + 30 )) "$work/browseragent" -node "http://$lb" -user browser1 -password browser1-demo \
  -talk "$talk" -duration "$(( sipp_time + 5 ))s" >"$work/browser.json" 2>"$work/browser.log" &
browser_pid=$!
pids+=("$browser_pid")
for _ in $(seq 1 100); do grep -q "available on" "$work/browser.log" 2>/dev/null && break; sleep 0.2; done
grep -q "available on" "$work/browser.log" || fail "the Chromium agent did not log in (see $work/browser.log)"
for i in 1 2 3; do lbcmd "set server nodes/node$i state ready" >/dev/null; done
say "Chromium agent logged in through HAProxy; its events socket is on node$victim"

# --- callers ---
say "SIPp: $calls calls at $rate/s through Kamailio; node$dispatcher (the dispatcher) is killed ${kill_after}s in"
(cd "$work" && timeout -s KILL "$sipp_time" sipp 127.0.0.10:25060 -sf "$root/deploy/cluster/caller.xml" \
  -i 127.0.0.9 -p 25061 -mi 127.0.0.9 -mp 26000 -m "$calls" -r "$rate" -l 40 -nostdin \
  -trace_stat -stf stat.csv -trace_err -timeout "$(( sipp_time - 10 ))s" >sipp.out 2>&1) &
sipp_pid=$!
pids+=("$sipp_pid")
sleep "$kill_after"
answered_before=$(q "SELECT count(*) FROM calls WHERE answered_at IS NOT NULL")
live_on_victim=$(q "SELECT count(*) FROM calls WHERE node='node$victim' AND ended_at IS NULL")
# node_pid is the timeout wrapper; its child is contactd itself.
victim_pid=$(pgrep -P "${node_pid[$victim]}" | head -n1)
kill -9 "${victim_pid:-${node_pid[$victim]}}"
killed_at=$(date +%s)
say "killed node$victim (SIGKILL) with $live_on_victim live call(s) on it; $answered_before call(s) answered so far"
# A new dispatcher within seconds.
new_disp=""
for _ in $(seq 1 50); do
  new_disp=$(grep -l "now the ACD dispatcher" $(ls "$work"/node*.log | grep -v "node$victim.log") 2>/dev/null | head -n1 | sed 's/.*node\([0-9]\).log/\1/')
  [ -n "$new_disp" ] && break
  sleep 0.2
done
[ -n "$new_disp" ] && say "node$new_disp took over dispatching after $(( $(date +%s) - killed_at ))s" || fail "no node took over dispatching"

# The survivors declare it dead; then it comes back, as systemd would
# restart it: its outbox finishes the post-call work of the calls that
# ended just before the kill, and it takes calls again.
dead_after=""
for _ in $(seq 1 60); do
  [ "$(q "SELECT status FROM nodes WHERE id='node$victim'")" = dead ] && { dead_after=$(( $(date +%s) - killed_at )); break; }
  sleep 0.25
done
[ -n "$dead_after" ] && say "node$victim declared dead after ${dead_after}s" || fail "node$victim not declared dead within 15s"
start_node "$victim"
rejoined=0
for _ in $(seq 1 150); do curl -fsS "http://127.0.0.1$victim:28080/healthz" >/dev/null 2>&1 && { rejoined=1; break; }; sleep 0.2; done
[ $rejoined = 1 ] && say "node$victim restarted and rejoined" || fail "node$victim did not come back"

wait "$sipp_pid"; sipp_rc=$?
sipp_ok=$(tail -n1 "$work/stat.csv" 2>/dev/null | cut -d';' -f16)
sipp_failed=$(tail -n1 "$work/stat.csv" 2>/dev/null | cut -d';' -f18)
say "SIPp done (exit $sipp_rc): ${sipp_ok:-?} successful, ${sipp_failed:-?} failed calls"
sleep 5 # the last calls' agents hang up
# SIGTERM: agentsim sets its agents offline and prints its report.
kill -TERM "$(pgrep -P "$agents_pid" | head -n1)" "$(pgrep -P "$browser_pid" | head -n1)" 2>/dev/null
for _ in $(seq 1 100); do kill -0 "$agents_pid" 2>/dev/null || kill -0 "$browser_pid" 2>/dev/null || break; sleep 0.2; done

# Post-call work (tickets) finishes on the survivors.
for _ in $(seq 1 75); do
  open=$(q "SELECT count(*) FROM calls WHERE ended_at IS NULL")
  [ "$open" = 0 ] && break
  sleep 0.4
done
sleep 2

# CPU each contactd used (user+system, from /proc), for the capacity notes.
cpu=""
for i in 1 2 3; do
  p=$(pgrep -P "${node_pid[$i]}" 2>/dev/null | head -n1)
  [ -n "$p" ] && [ -r "/proc/$p/stat" ] || continue
  t=$(awk '{print $14 + $15}' "/proc/$p/stat")
  cpu="$cpu node$i:$(( t * 1000 / $(getconf CLK_TCK) ))ms"
done
say "CPU used by the surviving nodes:$cpu"

# --- assertions ---
per_node=$(q "SELECT string_agg(node||':'||n, ' ' ORDER BY node) FROM (SELECT node, count(*) n FROM calls GROUP BY node) s")
nodes_used=$(q "SELECT count(DISTINCT node) FROM calls WHERE node <> ''")
[ "$nodes_used" = 3 ] || fail "calls did not spread over 3 nodes ($per_node)"

stats=$(cat "$work/agents.json" 2>/dev/null)
[ -n "$stats" ] || fail "agentsim gave no report (see $work/agents.log)"
read -r offers answers twice reconn after heard silent < <(python3 -c '
import json,sys
s=json.loads(sys.argv[1] or "{}")
print(s.get("offers",0), s.get("answers",0), len(s.get("answered_twice") or []),
      s.get("reconnects",0), s.get("answers_after_reconnect",0), s.get("calls_with_audio_from_owner",0), s.get("calls_without_audio",0))' "$stats")
[ "${twice:-1}" = 0 ] || fail "$twice call(s) answered by two agents"
# The offer log orders every offer and its end by a sequence drawn under
# the call's row lock: two offers of one call (or to one agent) whose
# intervals overlap would be a double offer.
overlap_sql="SELECT count(*) FROM acd_offer_log a JOIN acd_offer_log b ON a.%s = b.%s AND a.id < b.id
  WHERE a.offered_seq < coalesce(b.ended_seq, 9223372036854775807) AND b.offered_seq < coalesce(a.ended_seq, 9223372036854775807)"
overlaps=$(q "$(printf "$overlap_sql" call_id call_id)")
agent_overlaps=$(q "$(printf "$overlap_sql" agent agent)")
logged=$(q "SELECT count(*) FROM acd_offer_log")
[ "$overlaps" = 0 ] || fail "$overlaps pair(s) of offers of one call standing at once"
[ "$agent_overlaps" = 0 ] || fail "$agent_overlaps pair(s) of offers to one agent standing at once"
[ "$logged" -ge "${answers:-0}" ] && [ "$logged" -ge 1 ] || fail "offer log has $logged offers for ${answers:-0} answers"

no_ticket=$(q "SELECT count(*) FROM calls c WHERE c.ended_at IS NOT NULL AND c.disposition NOT LIKE 'node lost%' AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.call_id = c.id)")
[ "$no_ticket" = 0 ] || fail "$no_ticket ended call(s) without a ticket: $(q "SELECT string_agg(id||' '||disposition, '; ') FROM calls c WHERE c.ended_at IS NOT NULL AND c.disposition NOT LIKE 'node lost%' AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.call_id = c.id)")"

lost=$(q "SELECT count(*) FROM calls WHERE node='node$victim' AND disposition LIKE 'node lost%'")
victim_open=$(q "SELECT count(*) FROM calls WHERE node='node$victim' AND ended_at IS NULL")
[ "$victim_open" = 0 ] || fail "$victim_open call(s) of the dead node left open"
[ "$live_on_victim" = 0 ] || [ "$lost" -ge 1 ] || fail "the dead node had live calls but none was marked node lost"
victim_status=$(q "SELECT status FROM nodes WHERE id='node$victim'")
[ "$victim_status" = up ] || fail "node$victim is '$victim_status' after its restart, not up"
calls_after_rejoin=$(q "SELECT count(*) FROM calls WHERE node='node$victim' AND started_at > to_timestamp($killed_at)")

waiting=$(q "SELECT count(*) FROM acd_queue")
[ "$waiting" = 0 ] || fail "$waiting call(s) still waiting in the queue"
survivor_open=$(q "SELECT count(*) FROM calls WHERE node<>'node$victim' AND ended_at IS NULL")
[ "$survivor_open" = 0 ] || fail "$survivor_open survivor call(s) still open"
answered_after=$(q "SELECT count(*) FROM calls WHERE answered_at > to_timestamp($killed_at)")
[ "$answered_after" -ge 1 ] || fail "no call answered after the kill"
answered=$(q "SELECT count(*) FROM calls WHERE answered_at IS NOT NULL")
tickets=$(q "SELECT count(*) FROM tickets")
[ "${reconn:-0}" -ge 1 ] && [ "${after:-0}" -ge 1 ] || fail "agents of the dead node did not reconnect and answer elsewhere (reconnects=${reconn:-0}, answers after=${after:-0})"
[ "${heard:-0}" -ge 1 ] || fail "no agent heard audio from the call's node"

# The Chromium agent: its calls connected with audio, from several nodes;
# its socket moved off the killed node through HAProxy, and it answered
# calls after the kill.
read -r b_calls b_connected b_after b_recon b_reloads b_ids b_bad < <(python3 -c '
import json,sys
try: r=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
except Exception: r={}
cs=r.get("calls") or []
ok=[c for c in cs if c.get("connected") and c.get("inbound_packets",0) > 50]
bad=[c for c in cs if c not in ok]
after=[c for c in ok if c.get("answered_at",0) > int(sys.argv[2])]
q=lambda l: ",".join("'"'"'%s'"'"'" % c["call_id"] for c in l) or "'"'"'none'"'"'"
print(len(cs), len(ok), len(after), r.get("reconnects",0), r.get("reloads",0), q(ok), q(bad))' "$work/browser.json" "$killed_at")
b_nodes=$(q "SELECT count(DISTINCT node) FROM calls WHERE id IN (${b_ids:-'none'})")
# A call that failed is excused only if it was the killed node's.
b_bad_survivor=$(q "SELECT count(*) FROM calls WHERE id IN (${b_bad:-'none'}) AND node <> 'node$victim'")
[ "${b_calls:-0}" -ge 1 ] || fail "the Chromium agent answered no call (see $work/browser.log)"
[ "${b_bad_survivor:-0}" = 0 ] || fail "the Chromium agent: ${b_bad_survivor} call(s) of surviving nodes without connection or audio"
[ "${b_nodes:-0}" -ge 2 ] || fail "the Chromium agent took calls of ${b_nodes:-0} node(s) with audio, want several"
[ "${b_recon:-0}" -ge 1 ] || fail "the Chromium agent's events socket never reconnected"
[ "${b_after:-0}" -ge 1 ] || fail "the Chromium agent answered no call after its node was killed"
# HAProxy logged the page's events socket on the killed node, then on
# another one (a socket is logged when it closes).
lb_sock_victim=$(grep -c "nodes/node$victim 101 .* GET /api/v1/events" "$work/haproxy.log")
lb_sock_other=$(grep "nodes/node[0-9] 101 .* GET /api/v1/events" "$work/haproxy.log" | grep -vc "nodes/node$victim ")
[ "${lb_sock_victim:-0}" -ge 1 ] || fail "HAProxy never had the Chromium agent's events socket on node$victim (see $work/haproxy.log)"
[ "${lb_sock_other:-0}" -ge 1 ] || fail "the Chromium agent's events socket did not move to another node through HAProxy (see $work/haproxy.log)"

# The desk phone took calls; those of another node than its registration
# were rung through the front.
phone_calls=$(q "SELECT count(*) FROM calls WHERE agent='phone1'")
phone_remote=$(q "SELECT count(*) FROM calls WHERE agent='phone1' AND node <> '${phone_node:-}'")
if [ $have_phone = 1 ]; then
  [ "$phone_calls" -ge 1 ] || fail "the desk phone answered no call (see $work/phone.log)"
fi

# Kamailio's probes saw the killed node go down.
kam_victim_down=$(grep -c "node sip:127.0.0.1$victim:25060 is down" "$work/kamailio.log")
[ "$kam_victim_down" -ge 1 ] || fail "Kamailio's OPTIONS probes never marked the killed node down (see $work/kamailio.log)"

# --- fencing: node3 loses its database (the TCP proxy stops passing and
# drops its connections). Within its 2 s lease it must refuse calls:
# /healthz and OPTIONS answer 503, Kamailio's probes mark it down, and it
# does not dispatch. The link comes back before the others may declare it
# dead (6 s): it serves again by itself, and Kamailio marks it up. ---
# options_code sends one OPTIONS over UDP and prints the status code.
options_code() {
  python3 - "$1" "$2" <<'PY'
import random, socket, sys
h, p = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.9", 0)); s.settimeout(3)
r = "%08x" % random.getrandbits(32); lp = s.getsockname()[1]
m = ("OPTIONS sip:%s:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.9:%d;branch=z9hG4bK%s\r\nMax-Forwards: 70\r\n"
     "From: <sip:probe@127.0.0.9>;tag=%s\r\nTo: <sip:%s:%d>\r\nCall-ID: %s@probe\r\nCSeq: 1 OPTIONS\r\n"
     "Content-Length: 0\r\n\r\n") % (h, p, lp, r, r, h, p, r)
s.sendto(m.encode(), (h, p))
try: print(s.recv(4096).split()[1].decode())
except Exception: print("none")
PY
}
ms_since() { python3 -c 'import sys,time; print(int((time.time()-float(sys.argv[1]))*1000))' "$1"; }
fence_ms="" down_ms="" back_ms="" fence_opt="" back_opt=""
healthy_opt=$(options_code 127.0.0.13 25060)
[ "$healthy_opt" = 200 ] || fail "node3 answers OPTIONS $healthy_opt before the cut, want 200"
kam_down_before=$(grep -c "node sip:127.0.0.13:25060 is down" "$work/kamailio.log")
disp_before=$(grep -c "now the ACD dispatcher" "$work/node3.log")
sock "$work/dblink.sock" "set server pg/pg state maint" >/dev/null
sock "$work/dblink.sock" "shutdown sessions server pg/pg" >/dev/null
cut_at=$(date +%s.%N)
for _ in $(seq 1 60); do
  code=$(curl -s -o "$work/fence-health.json" -w '%{http_code}' "http://127.0.0.13:28080/healthz")
  if [ "$code" = 503 ] && grep -q fenced "$work/fence-health.json"; then fence_ms=$(ms_since "$cut_at"); break; fi
  sleep 0.1
done
[ -n "$fence_ms" ] || fail "node3 did not fence itself within 6 s of losing its database (see $work/node3.log)"
fence_opt=$(options_code 127.0.0.13 25060)
[ "$fence_opt" = 503 ] || fail "fenced node3 answers OPTIONS $fence_opt, want 503"
for _ in $(seq 1 40); do
  [ "$(grep -c "node sip:127.0.0.13:25060 is down" "$work/kamailio.log")" -gt "$kam_down_before" ] && { down_ms=$(ms_since "$cut_at"); break; }
  sleep 0.1
done
[ -n "$down_ms" ] || fail "Kamailio's probes did not mark fenced node3 down"
if [ "$disp_before" -ge 1 ] && [ "$(grep -c "no longer the ACD dispatcher" "$work/node3.log")" -lt "$disp_before" ]; then
  fail "fenced node3 still dispatches"
fi
kam_up_before=$(grep -c "node sip:127.0.0.13:25060 is up" "$work/kamailio.log")
sock "$work/dblink.sock" "set server pg/pg state ready" >/dev/null
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.13:28080/healthz" >/dev/null 2>&1 && { back_ms=$(ms_since "$cut_at"); break; }
  sleep 0.1
done
[ -n "$back_ms" ] || fail "node3 did not serve again after its database came back (see $work/node3.log)"
back_opt=$(options_code 127.0.0.13 25060)
[ "$back_opt" = 200 ] || fail "node3 answers OPTIONS $back_opt after the link came back, want 200"
kam_up=0
for _ in $(seq 1 50); do
  [ "$(grep -c "node sip:127.0.0.13:25060 is up" "$work/kamailio.log")" -gt "$kam_up_before" ] && { kam_up=1; break; }
  sleep 0.1
done
[ $kam_up = 1 ] || fail "Kamailio did not mark node3 up again"
node3_status=$(q "SELECT status FROM nodes WHERE id='node3'")
[ "$node3_status" = up ] || fail "node3 is '$node3_status' after a short cut, want up (it recovers without a restart)"
say "fencing: node3 fenced ${fence_ms:-?} ms after its database link was cut (OPTIONS $fence_opt), Kamailio marked it down at ${down_ms:-?} ms; served again ${back_ms:-?} ms after the cut (OPTIONS $back_opt)"

total_calls=$(q "SELECT count(*) FROM calls")
peak=$(q "SELECT string_agg(node||':'||p, ' ' ORDER BY node) FROM (SELECT a.node, max((SELECT count(*) FROM calls b WHERE b.node = a.node
  AND b.started_at <= a.started_at AND coalesce(b.ended_at, now()) > a.started_at)) p FROM calls a GROUP BY a.node) s")
say "peak calls at once per node: $peak"
summary_text="agents=$n_agents calls=$total_calls [$per_node] peak_at_once=[$peak] answered=$answered (after kill: $answered_after) tickets=$tickets node_lost=$lost dead_after=${dead_after:-?}s rejoined_calls=$calls_after_rejoin offers=$offers answers=$answers offers_logged=$logged double_offers=$overlaps agents_reconnected=$reconn agent_audio_ok=$heard/$((heard + silent)) chromium_calls=${b_calls:-0}(nodes:${b_nodes:-0},audio_ok:${b_connected:-0},after_kill:${b_after:-0},ws_reconnects:${b_recon:-0},reloads:${b_reloads:-0},lb_sockets:node$victim=${lb_sock_victim:-0}/others=${lb_sock_other:-0}) phone_calls=${phone_calls:-0}(other_node:${phone_remote:-0}) waiting=$waiting sipp_ok=${sipp_ok:-?} sipp_failed=${sipp_failed:-?} new_dispatcher=node${new_disp:-none} kamailio_saw_kill=$kam_victim_down fence=[fenced_ms:${fence_ms:-none} options:${fence_opt:-?} kamailio_down_ms:${down_ms:-none} back_ms:${back_ms:-none} status:${node3_status:-?}]"
kill "$watchdog" 2>/dev/null
