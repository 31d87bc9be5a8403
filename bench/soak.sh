#!/usr/bin/env bash
# bench/soak.sh — a bounded soak: SIPp keeps SOAK_CALLS calls up at once
# against `contactd serve` for SOAK_SECONDS, every call sending audio
# (PCMU) for SOAK_HOLD seconds and then hanging up, its place taken by a
# new one. Every SOAK_INTERVAL seconds the script samples the server's
# resident memory and open files (/proc) and its goroutines and Go heap
# (/metrics). After the warm-up they must stay flat: it prints the samples,
# the slope per minute of each against its limit, and whether they came
# back down once the calls were over, and exits 1 when something grows
# (see bench/README.md, "Soak").
#
# The server runs the demo config with speech recognition off (asr
# none: the IVR takes keys), recording every call, SQLite in a fresh data
# dir. Everything runs on 127.0.0.1, every process has a timeout, and the
# temp dir is removed at the end (kept on failure or with BENCH_KEEP=1).
# Needs bin/contactd (make build), sipp (sip-tester), sox, python3, curl.
#
# Knobs (environment): SOAK_CALLS concurrent calls (50), SOAK_SECONDS
# (120), SOAK_HOLD call length in seconds (20), SOAK_INTERVAL (10),
# SOAK_WARMUP seconds not judged (60: three generations of calls); the
# limits on the slope per minute after the warm-up: SOAK_MAX_HEAP_MIB
# (live Go heap; 2 MiB or 5 % of the mean), SOAK_MAX_RSS_MIB (12 MiB or
# 15 % of the mean: RSS follows the collector's cycles, ±5 MiB from one
# sample to the next, so over two minutes it is the coarser check),
# SOAK_MAX_GOROUTINES and SOAK_MAX_FDS (2 % of the mean).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${CONTACTD_BIN:-$ROOT/bin/contactd}
CALLS=${SOAK_CALLS:-50}
SECS=${SOAK_SECONDS:-120}
HOLD=${SOAK_HOLD:-20}
EVERY=${SOAK_INTERVAL:-10}
WARMUP=${SOAK_WARMUP:-60}
TOKEN=soak-metrics-token
ADMIN_PASS=soak-admin-$$-$RANDOM

BENCH_NAME=soak
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

[[ -x $BIN ]] || die "$BIN missing: run 'make build' first"
for t in sipp sox python3 curl timeout; do
	command -v "$t" >/dev/null || die "$t not found (Debian: apt-get install sip-tester sox python3 curl)"
done
((CALLS > 0 && SECS >= 2 * EVERY && HOLD > 0 && EVERY > 0)) || die "bad settings: SOAK_CALLS=$CALLS SOAK_SECONDS=$SECS SOAK_HOLD=$HOLD SOAK_INTERVAL=$EVERY"
((SECS - WARMUP >= 3 * EVERY)) || die "SOAK_SECONDS - SOAK_WARMUP must leave at least three samples"

bench_workdir soak

# --------------------------------------------------------------- server ----
HTTP_PORT=$(free_port)
SIP_PORT=$(free_port)
mkdir -p "$WORK/data"
python3 - "$ROOT/config/demo.yaml" "$WORK/config.yaml" "$CALLS" "$TOKEN" <<'EOF'
import sys
src, dst, calls, token = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
y = open(src).read()
for old, new in {
    "asr:\n  provider: sphinx": "asr:\n  provider: none",  # DTMF-only IVR
    "max_calls: 200": "max_calls: %d" % max(200, 2 * calls),
}.items():
    if old not in y:
        sys.exit("demo config lacks %r" % old)
    y = y.replace(old, new, 1)
y += "\nmetrics: {token: %s}\n" % token
open(dst, "w").write(y)
EOF
LIMIT=$((SECS + 3 * HOLD + 120))
CONTACTD_CONFIG=$WORK/config.yaml \
	CONTACTD_HTTP_ADDR=127.0.0.1:$HTTP_PORT \
	CONTACTD_SIP_ADDR=127.0.0.1:$SIP_PORT \
	CONTACTD_DATA_DIR=$WORK/data \
	CONTACTD_LOG_LEVEL=warn \
	CONTACTD_ADMIN_PASSWORD=$ADMIN_PASS \
	timeout "$LIMIT" "$BIN" serve >"$WORK/server.log" 2>&1 &
SRV_PID=$!
PIDS+=("$SRV_PID")
deadline=$((SECONDS + 90))
until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$HTTP_PORT/healthz" 2>/dev/null; do
	((SECONDS < deadline)) && kill -0 "$SRV_PID" 2>/dev/null || die "contactd not healthy: $(tail -20 "$WORK/server.log")"
	sleep 0.3
done
# timeout(1) runs contactd as its child: sample the server itself.
PID=$(pgrep -P "$SRV_PID" | head -n1 || true)
PID=${PID:-$SRV_PID}
log "contactd ready: sip=127.0.0.1:$SIP_PORT http=127.0.0.1:$HTTP_PORT pid=$PID"
ADMIN=$(curl -fsS --max-time 5 "http://127.0.0.1:$HTTP_PORT/api/v1/auth/login" \
	-d "{\"username\":\"admin\",\"password\":\"$ADMIN_PASS\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') ||
	die "admin login failed"

# sample T PHASE: one CSV line — seconds, phase, calls active, RSS MiB
# (/proc), Go heap in use after a GC MiB (pprof), goroutines (/metrics),
# open fds (/proc), threads.
sample() {
	local m heap rss fds thr
	m=$(curl -fsS --max-time 5 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HTTP_PORT/metrics") ||
		die "/metrics unreadable"
	# gc=1: the heap profile runs a collection first, so this is the live
	# heap, not wherever the collector's sawtooth happens to be.
	heap=$(curl -fsS --max-time 10 -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$HTTP_PORT/debug/pprof/heap?gc=1&debug=1" |
		awk '$2 == "HeapInuse" {print $4}') || die "/debug/pprof/heap unreadable"
	rss=$(awk '/^VmRSS/{print $2}' "/proc/$PID/status")
	thr=$(awk '/^Threads/{print $2}' "/proc/$PID/status")
	fds=$(find "/proc/$PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	awk -v t="$1" -v ph="$2" -v heap="$heap" -v rss="$rss" -v fds="$fds" -v thr="$thr" '
		$1 == "contactd_calls_active" {calls = $2}
		$1 == "go_goroutines" {g = $2}
		END {printf "%d,%s,%d,%.1f,%.1f,%d,%d,%d\n", t, ph, calls, rss / 1024, heap / 1048576, g, fds, thr}' <<<"$m"
}

# ----------------------------------------------------------------- load ----
# The callers: SIPp's UAC with an RTP stream (a 440 Hz tone, raw mu-law,
# looped) from the answer to the BYE.
sox -n -r 8000 -c 1 -t ul "$WORK/tone.ul" synth 2 sine 440 vol 0.3
cat >"$WORK/caller.xml" <<'EOF'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="contactd soak caller">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+1555[call_number]@[local_ip]:[local_port]>;tag=[pid]soak[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:soak@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=- 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [rtpstream_audio_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
      a=sendrecv
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+1555[call_number]@[local_ip]:[local_port]>;tag=[pid]soak[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:soak@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <nop><action><exec rtp_stream="tone.ul,-1,0"/></action></nop>
  <pause/>
  <nop><action><exec rtp_stream="pause"/></action></nop>
  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+1555[call_number]@[local_ip]:[local_port]>;tag=[pid]soak[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:soak@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true"/>
</scenario>
EOF

echo "t_s,phase,calls,rss_mib,heap_mib,goroutines,fds,threads" >"$WORK/samples.csv"
sample 0 idle >>"$WORK/samples.csv"
# Enough calls to keep CALLS up for SECS; SIPp then lets the last ones
# finish (about HOLD more seconds).
RATE=$(python3 -c "print(round($CALLS / $HOLD * 1.25, 2))")
TOTAL=$(((SECS * CALLS + HOLD - 1) / HOLD))
log "load: $CALLS calls at once for ${SECS} s, each ${HOLD} s (sipp -r $RATE -l $CALLS -m $TOTAL)"
(cd "$WORK" && exec timeout $((SECS + 2 * HOLD + 60)) sipp -sf caller.xml -s support -i 127.0.0.1 \
	-p "$(free_port)" -mi 127.0.0.1 -mp 40000 \
	-r "$RATE" -l "$CALLS" -m "$TOTAL" -d $((HOLD * 1000)) \
	-recv_timeout 20s -nostdin -trace_stat -stf stat.csv -fd "$EVERY" \
	-trace_err -error_file errors.log \
	"127.0.0.1:$SIP_PORT" >sipp.out 2>&1) &
SIPP_PID=$!
PIDS+=("$SIPP_PID")
START=$SECONDS
next=$EVERY
while ((next <= SECS)); do
	sleep $((START + next - SECONDS))
	kill -0 "$SIPP_PID" 2>/dev/null || die "sipp ended early: $(tail -5 "$WORK/sipp.out")"
	s=$(sample "$next" load)
	echo "$s" >>"$WORK/samples.csv"
	log "sample $s"
	next=$((next + EVERY))
done
SIPP_RC=0
wait "$SIPP_PID" || SIPP_RC=$?
# Once every call has ended (and its post-call work is done) the server
# should be back where it started.
deadline=$((SECONDS + 60))
while :; do
	s=$(sample $((SECONDS - START)) after)
	[[ $(cut -d, -f3 <<<"$s") == 0 ]] && break
	((SECONDS < deadline)) || die "calls still active 60 s after the load: $s"
	sleep 1
done
sleep 3
sample $((SECONDS - START)) after >>"$WORK/samples.csv"

# --------------------------------------------------------------- report ----
echo
echo "== soak: $CALLS calls at once for $SECS s, ${HOLD}-s calls (PCMU audio in, IVR prompts out, recorded), sampled every $EVERY s"
RC=0
python3 - "$WORK/samples.csv" "$WORK/stat.csv" "$WARMUP" "$SIPP_RC" <<'EOF' || RC=$?
import csv, os, sys

samples, stat, warmup, sipp_rc = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rows = list(csv.DictReader(open(samples)))
print("%6s %-6s %6s %9s %9s %11s %5s %8s" % ("t s", "phase", "calls", "RSS MiB", "heap MiB", "goroutines", "fds", "threads"))
for r in rows:
    print("%6s %-6s %6s %9s %9s %11s %5s %8s" % (r["t_s"], r["phase"], r["calls"], r["rss_mib"], r["heap_mib"],
                                                r["goroutines"], r["fds"], r["threads"]))

def env(name, default):
    return float(os.environ.get(name, default))

judged = [r for r in rows if r["phase"] == "load" and int(r["t_s"]) >= warmup]
t = [int(r["t_s"]) / 60 for r in judged]
calls = [int(r["calls"]) for r in judged]
mcalls = sum(calls) / len(calls)

def slope(key):  # least squares, per minute
    y = [float(r[key]) for r in judged]
    if key in ("goroutines", "fds"):
        # Each call holds a few of these: a sample taken while one call had
        # ended and the next not begun reads lower. Count every sample at
        # the mean number of calls (per-call cost from idle vs load).
        per_call = (sum(y) / len(y) - float(rows[0][key])) / mcalls if mcalls else 0
        y = [v - per_call * (c - mcalls) for v, c in zip(y, calls)]
    mt, my = sum(t) / len(t), sum(y) / len(y)
    den = sum((a - mt) ** 2 for a in t)
    return sum((a - mt) * (b - my) for a, b in zip(t, y)) / den, my

ok = True
print()
print("after the %d-s warm-up (%d samples):" % (warmup, len(judged)))
for key, label, limit in (
        ("heap_mib", "Go heap MiB", lambda m: env("SOAK_MAX_HEAP_MIB", 0) or max(2, 0.05 * m)),
        ("rss_mib", "RSS MiB", lambda m: env("SOAK_MAX_RSS_MIB", 0) or max(12, 0.15 * m)),
        ("goroutines", "goroutines", lambda m: env("SOAK_MAX_GOROUTINES", 0) or max(5, 0.02 * m)),
        ("fds", "open fds", lambda m: env("SOAK_MAX_FDS", 0) or max(3, 0.02 * m))):
    s, mean = slope(key)
    lim = limit(mean)
    flat = s <= lim
    ok &= flat
    print("  %-12s mean %9.1f  slope %+8.2f/min  limit %6.2f/min  %s" % (label, mean, s, lim, "flat" if flat else "GROWING"))

# Back to idle: goroutines and fds return to where they started.
idle, end = rows[0], rows[-1]
for key, slack in (("goroutines", 10), ("fds", 5)):
    back = int(end[key]) <= int(idle[key]) + slack
    ok &= back
    print("  %-12s idle before %5s, after %5s (slack %d)  %s" % (key, idle[key], end[key], slack, "back" if back else "LEAKED"))

st = list(csv.reader(open(stat), delimiter=";"))
head, last = st[0], st[-1]
v = dict(zip(head, last))
done, failed = int(v.get("SuccessfulCall(C)", 0)), int(v.get("FailedCall(C)", 0))
calls_ok = sipp_rc == 0 and failed == 0 and done > 0
ok &= calls_ok
print("  sipp: %d calls completed, %d failed, exit code %d  %s" % (done, failed, sipp_rc, "ok" if calls_ok else "FAILED CALLS"))
print("verdict: %s" % ("PASS: flat after warm-up" if ok else "FAIL"))
sys.exit(0 if ok else 1)
EOF
ERRORS=$(grep -c 'level=ERROR' "$WORK/server.log" || true)
echo "server log: $ERRORS ERROR lines"
if ((RC != 0)); then
	FAILED=1
	exit 1
fi
