#!/usr/bin/env bash
# bench/setup-rate.sh — how many calls a second contactd sets up, against
# SIPp's own UAS on the same machine in the same run (bench/README.md §1b).
#
# SIPp's UAC scenario places calls at a fixed rate for BENCH_RATE_SECS
# (5 s) per step, hanging each up as soon as it is answered, at each rate
# of BENCH_RATES (100,200,400,600,800,1200,1600 calls/s), first against `sipp -sn uas`,
# then against `contactd serve` (the demo config with speech recognition
# off: every call still goes through the IVR's start, the recorder, the
# call record, its ticket and QA evaluation). A step is kept up when every
# call succeeded, none failed, at most 1 % of the calls needed a
# retransmission and the step took at most 3 s longer than planned (SIPp
# did not fall behind). The script prints, per peer and step, the
# calls answered per second, failures, retransmissions and the INVITE→200
# p50/p99, then the highest rate each kept up and the ratio
# contactd / SIPp (goal ≥ 0.5).
#
# Everything runs on 127.0.0.1; each SIPp run and the server have a
# timeout; the temp dir is removed at the end (BENCH_KEEP=1 keeps it).
# Needs bin/contactd (make build), sipp, python3, curl.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${CONTACTD_BIN:-$ROOT/bin/contactd}
RATES=${BENCH_RATES:-100,200,400,600,800,1200,1600}
STEP=${BENCH_RATE_SECS:-5}

BENCH_NAME=setup-rate
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

[[ -x $BIN ]] || die "$BIN missing: run 'make build' first"
for t in sipp python3 curl timeout; do
	command -v "$t" >/dev/null || die "$t not found (Debian: apt-get install sip-tester python3 curl)"
done
bench_workdir setup-rate

# step PEER TARGET RATE: one SIPp UAC run; prints key=value stats.
step() {
	local dir=$WORK/$1-$3 rc=0 n=$(($3 * STEP))
	mkdir -p "$dir"
	local t0=$SECONDS
	(cd "$dir" && timeout $((STEP * 4 + 60)) sipp -sn uac -s support -i 127.0.0.1 \
		-p "$(free_port)" -mp "$(free_port)" \
		-r "$3" -m "$n" -l $((n + 10)) -d 0 \
		-timeout $((STEP * 3 + 30))s -timeout_error -recv_timeout 10s -nostdin \
		-trace_stat -stf stat.csv -fd 1 -trace_msg \
		-trace_err -error_file errors.log \
		"$2" >stdout.txt 2>&1) || rc=$?
	echo "rc=$rc"
	echo "wall_s=$((SECONDS - t0))"
	echo "wanted=$n"
	python3 "$ROOT/bench/sipp_stats.py" "$dir"
}

# run_peer NAME TARGET: every rate against one peer, into $WORK/NAME.stats.
run_peer() {
	local r
	: >"$WORK/$1.stats"
	for r in ${RATES//,/ }; do
		log "$1: $r calls/s for $STEP s"
		step "$1" "$2" "$r" | sed "s/^/$r./" >>"$WORK/$1.stats"
		if [[ $1 == contactd ]]; then
			# contactd does each call's post-call work (record, ticket,
			# evaluation) after the call, from its outbox: wait until it is
			# all stored before the next step, and say how long that took.
			echo "$r.drain_s=$(drain_outbox)" >>"$WORK/$1.stats"
		fi
		sleep 2 # let the peer settle before the next step
	done
}

# drain_outbox: seconds until contactd's outbox journal holds no pending
# post-call job (at most 120), or "timeout".
drain_outbox() {
	local t0=$SECONDS
	while ((SECONDS - t0 < 120)); do
		if [[ $(python3 - "$WORK/data/outbox/journal" <<'PY'
import json, sys
pending = set()
try:
    for line in open(sys.argv[1], "rb"):
        try:
            l = json.loads(line)
        except ValueError:
            continue
        (pending.discard if l.get("done") else pending.add)(l.get("id"))
except FileNotFoundError:
    pass
print(len(pending))
PY
		) == 0 ]]; then
			echo $((SECONDS - t0))
			return
		fi
		sleep 1
	done
	echo timeout
}

# -------------------------------------------------------------- SIPp UAS ----
UAS_PORT=$(free_port)
mkdir -p "$WORK/uas"
(cd "$WORK/uas" && exec timeout 900 sipp -sn uas -i 127.0.0.1 -p "$UAS_PORT" \
	-mp "$(free_port)" -nostdin >stdout.txt 2>&1) &
UAS_PID=$!
PIDS+=("$UAS_PID")
sleep 0.5
kill -0 "$UAS_PID" 2>/dev/null || die "sipp uas did not start: $(tail -5 "$WORK/uas/stdout.txt")"
run_peer sipp "127.0.0.1:$UAS_PORT"
kill "$UAS_PID" 2>/dev/null || true
wait "$UAS_PID" 2>/dev/null || true
PIDS=()

# -------------------------------------------------------------- contactd ----
HTTP_PORT=$(free_port)
SIP_PORT=$(free_port)
mkdir -p "$WORK/data"
python3 - "$ROOT/config/demo.yaml" "$WORK/config.yaml" <<'EOF'
import sys
y = open(sys.argv[1]).read()
for old, new in {
    "asr:\n  provider: sphinx": "asr:\n  provider: none",
    "max_calls: 200": "max_calls: 5000",
}.items():
    if old not in y:
        sys.exit("demo config lacks %r" % old)
    y = y.replace(old, new, 1)
open(sys.argv[2], "w").write(y)
EOF
CONTACTD_CONFIG=$WORK/config.yaml \
	CONTACTD_HTTP_ADDR=127.0.0.1:$HTTP_PORT \
	CONTACTD_SIP_ADDR=127.0.0.1:$SIP_PORT \
	CONTACTD_DATA_DIR=$WORK/data \
	CONTACTD_LOG_LEVEL=warn \
	timeout 900 "$BIN" serve >"$WORK/server.log" 2>&1 &
SRV_PID=$!
PIDS+=("$SRV_PID")
wait_http "http://127.0.0.1:$HTTP_PORT/healthz" 90 "$SRV_PID" ||
	die "contactd not healthy after 90 s: $(tail -20 "$WORK/server.log")"
run_peer contactd "127.0.0.1:$SIP_PORT"
HEALTH=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$HTTP_PORT/healthz" || echo none)
ERRORS=$(grep -c 'level=ERROR' "$WORK/server.log" || true)

# ---------------------------------------------------------------- report ----
python3 - "$WORK" "$RATES" "$STEP" "$HEALTH" "$ERRORS" <<'EOF'
import sys
work, rates, step, health, errors = sys.argv[1], [int(r) for r in sys.argv[2].split(",")], int(sys.argv[3]), sys.argv[4], sys.argv[5]

def load(peer):
    kv = {}
    for line in open("%s/%s.stats" % (work, peer)):
        k, _, v = line.strip().partition("=")
        kv[k] = v
    return kv

def num(kv, k, d=0.0):
    try:
        return float(kv.get(k, d))
    except ValueError:
        return d

peers = {p: load(p) for p in ("sipp", "contactd")}
print("== 1b. SIP call set-up rate: sipp -sn uac, calls hung up when answered, %d s per step (127.0.0.1, UDP)" % step)
print("%-8s %-9s %9s %8s %7s %8s %9s %9s %6s %9s" % ("rate/s", "peer", "answered", "per s", "failed", "retrans", "p50 ms", "p99 ms", "kept", "drain s"))
best = {}
for r in rates:
    for p, kv in peers.items():
        pre = "%d." % r
        ok = num(kv, pre + "ok")
        failed = num(kv, pre + "failed")
        wall = max(num(kv, pre + "wall_s"), 1)
        wanted = num(kv, pre + "wanted")
        retrans = num(kv, pre + "retrans")
        kept = ok == wanted and failed == 0 and retrans <= 0.01 * wanted and wall <= step + 3
        if kept:
            best[p] = max(best.get(p, 0), r)
        print("%-8d %-9s %9d %8.0f %7d %8d %9s %9s %6s %9s" % (r, p, ok, ok / wall, failed,
              num(kv, pre + "retrans"), kv.get(pre + "p50_ms", "-"), kv.get(pre + "p99_ms", "-"),
              "yes" if kept else "no", kv.get(pre + "drain_s", "")))
s, c = best.get("sipp", 0), best.get("contactd", 0)
print()
print("highest rate kept up: contactd %d/s, SIPp UAS %d/s, ratio %s (goal >= 0.5; the steps are %s)" % (
    c, s, "%.2f" % (c / s) if s else "n/a", ",".join(map(str, rates))))
print("contactd after the run: /healthz %s, ERROR log lines %s" % (health, errors))
print("drain s: after contactd's step, the seconds until every call's post-call work (record,")
print("ticket, evaluation; done by its workers from the outbox) was stored")
EOF
