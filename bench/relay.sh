#!/usr/bin/env bash
# bench/relay.sh — bridged G.711 calls with recording: contactd against
# rtpengine's userspace relay carrying the same streams in the same run,
# plus a direct loopback baseline (see bench/README.md, sections 3 and 4).
#
#   contactd:  callers INVITE contactd; its IVR sends them straight to a
#              queue; N agents registered as SIP phones (digest auth) are
#              rung and answer; contactd bridges, records (stereo WAV) and
#              runs its media path, with speech recognition off (asr none).
#   rtpengine: the same calls set up through its ng protocol, no kernel
#              module (--table=-1), recording every call (pcap).
#   direct:    both ends send straight to each other (latency baseline).
#
# bench/cmd/rtpload plays both ends of every call (20 ms PCMU both ways)
# and measures: relay CPU (/proc/<pid>/stat), RSS, packets relayed per
# second, loss (sequence gaps at the receiver) and the latency of tone
# bursts from sender to far end. It ramps through BENCH_RELAY_STEPS.
#
# Everything runs on 127.0.0.1, every process has a timeout, and the temp
# dir is removed at the end (BENCH_KEEP=1 keeps it). Needs bin/contactd
# (make bench builds it), go, rtpengine (Debian rtpengine-daemon, installed
# as root when missing), python3, curl.
#
# Knobs (environment): BENCH_RELAY_STEPS concurrent calls per step
# (100,250,500,1000), BENCH_RELAY_WINDOW measurement per step (15s),
# BENCH_RELAY_WARMUP (3s), BENCH_RELAY_RATE calls set up per second (100),
# BENCH_RELAY_PEERS which relays to run (contactd,rtpengine,direct),
# BENCH_RELAY_PROFILE a directory for contactd's CPU profile of each step's
# window and its heap at the end (cpu-N.pprof, heap-N.pprof; off when unset).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${CONTACTD_BIN:-$ROOT/bin/contactd}
STEPS=${BENCH_RELAY_STEPS:-100,250,500,1000}
WINDOW=${BENCH_RELAY_WINDOW:-15s}
WARMUP=${BENCH_RELAY_WARMUP:-3s}
RATE=${BENCH_RELAY_RATE:-100}
PEERS=${BENCH_RELAY_PEERS:-contactd,rtpengine,direct}
MAXN=${STEPS##*,}

BENCH_NAME=relay
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
has_peer() { [[ ,$PEERS, == *,$1,* ]]; }

if has_peer contactd; then
	[[ -x $BIN ]] || die "$BIN missing: run 'make bench' (or 'make build' first)"
fi
for t in go python3 curl timeout; do
	command -v "$t" >/dev/null || die "$t not found"
done
if has_peer rtpengine && ! command -v rtpengine >/dev/null; then
	if [[ $(id -u) == 0 ]]; then
		log "installing rtpengine-daemon"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rtpengine-daemon >/dev/null
		# Debian starts the service; this bench runs its own.
		systemctl disable --now rtpengine-daemon >/dev/null 2>&1 || true
	else
		die "rtpengine not found: apt-get install rtpengine-daemon"
	fi
fi

bench_workdir relay

# The load tool's run time: per step set-up, warm-up, window, tear-down and
# settling, with room to spare.
secs() { python3 -c "import sys,re; s=sys.argv[1]; print(float(re.sub('s$','',s)))" "$1"; }
NSTEPS=$(tr ',' '\n' <<<"$STEPS" | wc -l)
TOOL_LIMIT=$(python3 -c "print(int(120 + $NSTEPS * (60 + $(secs "$WINDOW") + $(secs "$WARMUP")) + 2 * $MAXN / $RATE))")

log "building bench/cmd/rtpload"
go build -o "$WORK/rtpload" ./bench/cmd/rtpload
RTPLOAD=(timeout "$TOOL_LIMIT" "$WORK/rtpload" -steps "$STEPS" -window "$WINDOW" -warmup "$WARMUP" -rate "$RATE")
log "steps $STEPS calls, window $WINDOW each, on $(nproc) CPUs; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# ------------------------------------------------------------- contactd ----
if has_peer contactd; then
	HTTP_PORT=$(free_port)
	SIP_PORT=$(free_port)
	mkdir -p "$WORK/data"
	# The demo config with: speech recognition off (asr none), an IVR that
	# queues at once without a prompt, no wrap-up, a call cap above the
	# load, recording on, no trunks (their DIDs name entries of the demo
	# flow; inbound is open on loopback). rtpload creates the agents
	# through the admin API.
	"$WORK/rtpload" -make-config "$ROOT/config/demo.yaml" -config-dir "$WORK" -steps "$STEPS" ||
		die "could not write the bench config"
	ADMIN_PASS=relay-bench-$RANDOM$RANDOM
	CONTACTD_CONFIG=$WORK/config.yaml \
		CONTACTD_HTTP_ADDR=127.0.0.1:$HTTP_PORT \
		CONTACTD_SIP_ADDR=127.0.0.1:$SIP_PORT \
		CONTACTD_DATA_DIR=$WORK/data \
		CONTACTD_ADMIN_PASSWORD=$ADMIN_PASS \
		CONTACTD_LOG_LEVEL=warn \
		timeout $((TOOL_LIMIT + 400)) "$BIN" serve >"$WORK/server.log" 2>&1 &
	SRV_PID=$!
	PIDS+=("$SRV_PID")
	wait_http "http://127.0.0.1:$HTTP_PORT/healthz" 90 "$SRV_PID" ||
		die "contactd not healthy after 90 s: $(tail -20 "$WORK/server.log")"
	SRV_CHILD=$(pgrep -P "$SRV_PID" | head -n1 || true)
	SRV_CHILD=${SRV_CHILD:-$SRV_PID}
	log "contactd pid $SRV_CHILD: sip 127.0.0.1:$SIP_PORT; creating $MAXN agents (bcrypt: about a minute for 1000)"
	PROF=()
	if [[ -n ${BENCH_RELAY_PROFILE:-} ]]; then
		mkdir -p "$BENCH_RELAY_PROFILE"
		PROF=(-profile-dir "$BENCH_RELAY_PROFILE")
	fi
	"${RTPLOAD[@]}" "${PROF[@]}" -relay contactd -pid "$SRV_CHILD" -sip "127.0.0.1:$SIP_PORT" \
		-http "http://127.0.0.1:$HTTP_PORT" -admin-pass "$ADMIN_PASS" -agents "$MAXN" \
		>"$WORK/contactd.out" 2>"$WORK/contactd.err" ||
		die "rtpload against contactd failed: $(tail -5 "$WORK/contactd.err")"
	HEALTH=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$HTTP_PORT/healthz" || echo none)
	HWM=$(awk '/^VmHWM/{print $2}' "/proc/$SRV_CHILD/status" 2>/dev/null || echo 0)
	kill -TERM "$SRV_CHILD" 2>/dev/null || true
	wait "$SRV_PID" 2>/dev/null || true
	PIDS=()
	RECS=$(find "$WORK/data" -name '*.wav' | wc -l)
	REC_MB=$(du -sm "$WORK/data" | cut -f1)
	ERRS=$(grep -c 'level=ERROR\|"level":"ERROR"' "$WORK/server.log" || true)
	echo "contactd_after health=$HEALTH vmhwm_mib=$((HWM / 1024)) recordings=$RECS data_mib=$REC_MB error_lines=$ERRS" >>"$WORK/contactd.out"
	log "contactd done: $RECS recordings, /healthz $HEALTH, $ERRS ERROR lines"
fi

# ------------------------------------------------------------ rtpengine ----
if has_peer rtpengine; then
	NG_PORT=$(free_port)
	mkdir -p "$WORK/rtpengine"
	# Userspace only (no kernel table, no iptables), RTP ports outside the
	# kernel's ephemeral range (the load tool's sockets are there) and
	# contactd's, pcap recording of every call.
	timeout $((TOOL_LIMIT + 60)) rtpengine --config-file=none --table=-1 --foreground --log-stderr \
		--log-level=4 --interface=127.0.0.1 --listen-ng="127.0.0.1:$NG_PORT" \
		--port-min=10000 --port-max=19999 --pidfile="$WORK/rtpengine/pid" \
		--recording-dir="$WORK/rtpengine/rec" --recording-method=pcap \
		>"$WORK/rtpengine/log" 2>&1 &
	RE_PID=$!
	PIDS+=("$RE_PID")
	for _ in $(seq 50); do [[ -s $WORK/rtpengine/pid ]] && break; sleep 0.1; done
	[[ -s $WORK/rtpengine/pid ]] || die "rtpengine did not start: $(tail -5 "$WORK/rtpengine/log")"
	RE_CHILD=$(cat "$WORK/rtpengine/pid")
	log "rtpengine pid $RE_CHILD: ng 127.0.0.1:$NG_PORT"
	"${RTPLOAD[@]}" -relay rtpengine -pid "$RE_CHILD" -ng "127.0.0.1:$NG_PORT" \
		>"$WORK/rtpengine.out" 2>"$WORK/rtpengine.err" ||
		die "rtpload against rtpengine failed: $(tail -5 "$WORK/rtpengine.err")"
	kill -TERM "$RE_CHILD" 2>/dev/null || true
	wait "$RE_PID" 2>/dev/null || true
	PIDS=()
	PCAPS=$(find "$WORK/rtpengine/rec" -name '*.pcap' | wc -l)
	echo "rtpengine_after recordings=$PCAPS data_mib=$(du -sm "$WORK/rtpengine/rec" | cut -f1)" >>"$WORK/rtpengine.out"
	log "rtpengine done: $PCAPS pcap recordings"
fi

# --------------------------------------------------------------- direct ----
if has_peer direct; then
	log "direct loopback baseline"
	timeout "$TOOL_LIMIT" "$WORK/rtpload" -relay direct -steps "$STEPS" -window 5s -warmup 1s -rate 1000 \
		>"$WORK/direct.out" 2>"$WORK/direct.err" ||
		die "rtpload direct failed: $(tail -5 "$WORK/direct.err")"
fi

echo
python3 "$ROOT/bench/relay_report.py" "$WORK"
