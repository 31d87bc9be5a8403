#!/usr/bin/env bash
# bench/run.sh — contactd's speed benchmarks, each against a peer measured
# in the same run (see bench/README.md for how to read the output).
#
#   1. SIP call set-up under load: SIPp's UAC scenario against
#      `contactd serve` and against SIPp's own UAS, same parameters.
#   2. Speech recognition: `contactd asr-eval` against Debian's raw
#      PocketSphinx decoder (pocketsphinx_batch) on the same espeak-ng
#      utterances with the same acoustic model, dictionary and LM.
#
# Everything runs on 127.0.0.1, every loop and process is bounded in count
# and time, and the temp dir is removed at the end (BENCH_KEEP=1 keeps it).
# Needs bin/contactd (make bench builds it), sipp, espeak-ng, sox, python3,
# curl; installs pocketsphinx_batch (Debian package pocketsphinx) as root.
#
# Knobs (environment): BENCH_RATE calls/s (50), BENCH_CALLS (1000),
# BENCH_LIMIT concurrent calls (200), BENCH_HOLD_MS call length (2000),
# BENCH_UTTS utterances (20), BENCH_ROUNDS ASR rounds (3).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/bin/contactd
RATE=${BENCH_RATE:-50}
CALLS=${BENCH_CALLS:-1000}
LIMIT=${BENCH_LIMIT:-200}
HOLD=${BENCH_HOLD_MS:-2000}
UTTS=${BENCH_UTTS:-20}
HMM=/usr/share/pocketsphinx/model/en-us/en-us

BENCH_NAME=bench
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

[[ -x $BIN ]] || die "$BIN missing: run 'make bench' (or 'make build' first)"
for t in sipp espeak-ng sox python3 curl timeout /usr/bin/time; do
	command -v "$t" >/dev/null || die "$t not found (Debian: apt-get install sip-tester espeak-ng sox python3 curl time)"
done
if ! command -v pocketsphinx_batch >/dev/null; then
	if [[ $(id -u) == 0 ]]; then
		log "installing pocketsphinx (for pocketsphinx_batch)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pocketsphinx >/dev/null
	else
		die "pocketsphinx_batch not found: apt-get install pocketsphinx"
	fi
fi

bench_workdir bench

# run_uac NAME TARGET: SIPp's built-in UAC scenario against TARGET with the
# bench parameters; its files land in $WORK/sipp-NAME. Prints key=value stats.
run_uac() {
	local dir=$WORK/sipp-$1 rc=0
	mkdir -p "$dir"
	(cd "$dir" && timeout 120 sipp -sn uac -s support -i 127.0.0.1 \
		-p "$(free_port)" -mp "$(free_port)" \
		-r "$RATE" -m "$CALLS" -l "$LIMIT" -d "$HOLD" \
		-timeout 60s -timeout_error -recv_timeout 10s -nostdin \
		-trace_stat -stf stat.csv -fd 1 -trace_msg \
		-trace_err -error_file errors.log \
		-trace_screen -screen_file screen.txt \
		"$2" >stdout.txt 2>&1) || rc=$?
	echo "rc=$rc"
	python3 "$ROOT/bench/sipp_stats.py" "$dir"
}

# get KEY FILE: the value of a key=value line.
get() { sed -n "s/^$1=//p" "$2" | head -n1; }

# cpu_ticks PID: user+system CPU of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
TICK=$(getconf CLK_TCK)
# per_call T0 T1: CPU milliseconds per call between two cpu_ticks readings.
per_call() { awk -v a="$1" -v b="$2" -v t="$TICK" -v n="$CALLS" 'BEGIN {printf "%.2f", (b - a) * 1000 / t / n}'; }

ratio() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print('%.2f' % (a / b) if b > 0 else 'n/a')" "$1" "$2"; }

# ---------------------------------------------------------------- 1. SIP ----
log "1/2 SIP call set-up: $CALLS calls at $RATE/s, ≤$LIMIT at once, ${HOLD} ms each"

# The peer: SIPp's UAS answers every INVITE at once (180, 200).
UAS_PORT=$(free_port)
mkdir -p "$WORK/uas"
(cd "$WORK/uas" && exec timeout 150 sipp -sn uas -i 127.0.0.1 -p "$UAS_PORT" \
	-mp "$(free_port)" -nostdin >stdout.txt 2>&1) &
UAS_PID=$!
PIDS+=("$UAS_PID")
sleep 0.5
kill -0 "$UAS_PID" 2>/dev/null || die "sipp uas did not start: $(tail -5 "$WORK/uas/stdout.txt")"
UAS_CHILD=$(pgrep -P "$UAS_PID" | head -n1 || true)
UAS_CHILD=${UAS_CHILD:-$UAS_PID}
log "sipp uas on 127.0.0.1:$UAS_PORT"
T0=$(cpu_ticks "$UAS_CHILD")
run_uac uas "127.0.0.1:$UAS_PORT" >"$WORK/uas.stats"
echo "cpu_ms_per_call=$(per_call "$T0" "$(cpu_ticks "$UAS_CHILD")")" >>"$WORK/uas.stats"
kill "$UAS_PID" 2>/dev/null || true
wait "$UAS_PID" 2>/dev/null || true
PIDS=()

# contactd with the demo config on free loopback ports and a fresh data dir.
HTTP_PORT=$(free_port)
SIP_PORT=$(free_port)
mkdir -p "$WORK/data"
cp "$ROOT/config/demo.yaml" "$WORK/config.yaml"
CONTACTD_CONFIG=$WORK/config.yaml \
	CONTACTD_HTTP_ADDR=127.0.0.1:$HTTP_PORT \
	CONTACTD_SIP_ADDR=127.0.0.1:$SIP_PORT \
	CONTACTD_DATA_DIR=$WORK/data \
	CONTACTD_LOG_LEVEL=warn \
	timeout 200 "$BIN" serve >"$WORK/server.log" 2>&1 &
SRV_PID=$!
PIDS+=("$SRV_PID")
START=$SECONDS
wait_http "http://127.0.0.1:$HTTP_PORT/healthz" 90 ||
	die "contactd not healthy after 90 s: $(tail -20 "$WORK/server.log")"
# timeout(1) runs contactd as its child; read the server's own memory.
SRV_CHILD=$(pgrep -P "$SRV_PID" | head -n1 || true)
SRV_CHILD=${SRV_CHILD:-$SRV_PID}
log "contactd ready in $((SECONDS - START)) s: sip=127.0.0.1:$SIP_PORT http=127.0.0.1:$HTTP_PORT pid=$SRV_CHILD"
RSS_IDLE=$(awk '/^VmRSS/{print $2}' "/proc/$SRV_CHILD/status")
T0=$(cpu_ticks "$SRV_CHILD")
run_uac contactd "127.0.0.1:$SIP_PORT" >"$WORK/contactd.stats"
echo "cpu_ms_per_call=$(per_call "$T0" "$(cpu_ticks "$SRV_CHILD")")" >>"$WORK/contactd.stats"
HEALTH=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$HTTP_PORT/healthz" || echo "none")
HWM=$(awk '/^VmHWM/{print $2}' "/proc/$SRV_CHILD/status" 2>/dev/null || echo 0)
RSS_END=$(awk '/^VmRSS/{print $2}' "/proc/$SRV_CHILD/status" 2>/dev/null || echo 0)
THREADS=$(awk '/^Threads/{print $2}' "/proc/$SRV_CHILD/status" 2>/dev/null || echo 0)
# Graceful stop: SIGTERM, then wait (bounded by shutdown_grace and timeout).
kill -TERM "$SRV_CHILD" 2>/dev/null || true
STOP=$SECONDS
wait "$SRV_PID" 2>/dev/null || true
PIDS=()
STOP_S=$((SECONDS - STOP))
# What the server kept of the calls: the call, its ticket and QA evaluation
# (read from the SQLite file once the server has stopped).
STORED=$(python3 - "$WORK/data/contactd.db" <<'EOF' 2>/dev/null || echo "calls=? tickets=? qa_evaluations=?"
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
print(" ".join("%s=%d" % (t, db.execute("select count(*) from " + t).fetchone()[0])
               for t in ("calls", "tickets", "qa_evaluations")))
EOF
)
SERVER_ERRORS=$(grep -c '"level":"ERROR"\|level=ERROR' "$WORK/server.log" || true)

# ---------------------------------------------------------------- 2. ASR ----
log "2/2 speech recognition: $UTTS espeak-ng utterances"
U=$WORK/utts
mkdir -p "$U"
# Every k-th intent example of the demo config, spread over all intents.
python3 - "$ROOT/config/demo.yaml" "$UTTS" >"$U/phrases.txt" <<'EOF'
import re, sys
ex, inside = [], False
for line in open(sys.argv[1]):
    if re.match(r"^\s+examples:\s*$", line):
        inside = True
        continue
    m = re.match(r"^\s+- (.+?)\s*$", line)
    if inside and m:
        ex.append(m.group(1).strip("'\""))
    elif line.strip() and not line.lstrip().startswith("#"):
        inside = False
n = int(sys.argv[2])
step = max(1, len(ex) // n)
for p in ex[::step][:n]:
    print(p)
EOF
: >"$U/list.tsv"
: >"$U/ctl"
i=0
while IFS= read -r phrase && ((i < UTTS)); do
	i=$((i + 1))
	id=$(printf 'utt%02d' "$i")
	timeout 20 espeak-ng -v en-us -w "$U/$id.22k.wav" "$phrase"
	# -D: no dither. SoX dithers with a time-seeded generator by default,
	# which made the WER of the same phrases differ by ±1 % from run to run.
	sox -D "$U/$id.22k.wav" -r 16000 -c 1 -b 16 -e signed-integer "$U/$id.wav"
	sox "$U/$id.wav" -t raw "$U/$id.raw"
	printf '%s\t%s\n' "$U/$id.wav" "$phrase" >>"$U/list.tsv"
	echo "$id" >>"$U/ctl"
done <"$U/phrases.txt"
AUDIO_S=$(for f in "$U"/utt*[0-9].wav; do soxi -D "$f"; done | awk '{s += $1} END {printf "%.1f", s}')

# contactd's recogniser and the raw decoder, alternately, BENCH_ROUNDS
# times (3); the table shows the fastest round of each (least disturbed by
# whatever else the machine is doing) and says if a WER changed between
# rounds. asr-eval uses the server's data dir. It runs with the domain LM
# alone (--set general_words=0): the default blend with the general LM is
# an interpolation pocketsphinx_batch cannot load, so both decode with the
# same single LM file (bench/asr-streams.sh measures concurrent streams).
ROUNDS=${BENCH_ROUNDS:-3}
TFMT='wall=%e user=%U sys=%S maxrss_kb=%M'
for ((r = 1; r <= ROUNDS; r++)); do
	/usr/bin/time -f "$TFMT" -o "$WORK/asr-eval.$r.time" \
		timeout 120 "$BIN" asr-eval --config "$WORK/config.yaml" --data-dir "$WORK/data" --set general_words=0 \
		--list "$U/list.tsv" >"$WORK/asr-eval.$r.out" 2>"$WORK/asr-eval.$r.err" ||
		die "asr-eval failed: $(tail -5 "$WORK/asr-eval.$r.err")"
	sed -n 's/^WER=\([0-9.]*\) RTF=\([0-9.]*\)$/wer=\1\nrtf=\2/p' "$WORK/asr-eval.$r.out" >"$WORK/asr-eval.$r.kv"
	[[ -s $WORK/asr-eval.$r.kv ]] || die "asr-eval printed no WER/RTF line: $(tail -3 "$WORK/asr-eval.$r.out")"

	# The raw decoder on the same audio with contactd's model files and
	# decoder options (-dither yes -seed 1 -maxhmmpf 3000 -maxwpf 10, see
	# asr/sphinx/sphinx.go).
	LM=$(ls -t "$WORK"/data/domain-*.lm | head -n1)
	DICT=${LM%.lm}.dict
	[[ -f $DICT ]] || die "no dictionary next to $LM"
	/usr/bin/time -f "$TFMT" -o "$WORK/batch.$r.time" \
		timeout 120 pocketsphinx_batch -hmm "$HMM" -lm "$LM" -dict "$DICT" \
		-dither yes -seed 1 -maxhmmpf 3000 -maxwpf 10 -samprate 16000 \
		-adcin yes -cepdir "$U" -cepext .raw -ctl "$U/ctl" -hyp "$WORK/batch.$r.hyp" \
		>"$WORK/batch.$r.log" 2>&1 || die "pocketsphinx_batch failed: $(tail -5 "$WORK/batch.$r.log")"
	python3 "$ROOT/bench/wer.py" "$U/list.tsv" "$WORK/batch.$r.hyp" >"$WORK/batch.$r.kv" 2>"$WORK/batch.$r.utts"
	# batch.c's closing line: "TOTAL x seconds speech, y seconds CPU, z seconds wall"
	sed -n 's/.*batch.c.*TOTAL \([0-9.]*\) seconds speech, [0-9.]* seconds CPU, \([0-9.]*\) seconds wall.*/\1 \2/p' "$WORK/batch.$r.log" |
		tail -n1 | awk '{printf "rtf=%.4f\n", $2 / $1}' >>"$WORK/batch.$r.kv"
	for f in asr-eval batch; do
		sed 's/ /\n/g' "$WORK/$f.$r.time" >>"$WORK/$f.$r.kv"
		awk -F= '$1=="user"{u=$2} $1=="sys"{s=$2} END{printf "cpu=%.2f\n", u+s}' "$WORK/$f.$r.kv" >>"$WORK/$f.$r.kv"
	done
	log "round $r: contactd $(get rtf "$WORK/asr-eval.$r.kv" | tr -d '\n') raw $(get rtf "$WORK/batch.$r.kv" | tr -d '\n') (RTF)"
done
# best KIND KEY: the smallest value of KEY over the rounds.
best() { for ((r = 1; r <= ROUNDS; r++)); do get "$2" "$WORK/$1.$r.kv"; done | sort -g | head -n1; }
# wers KIND: the distinct WERs over the rounds.
wers() { for ((r = 1; r <= ROUNDS; r++)); do get wer "$WORK/$1.$r.kv"; done | sort -u | paste -sd/; }

# ---------------------------------------------------------------- report ----
C=$WORK/contactd.stats
P=$WORK/uas.stats
echo
echo "== 1. SIP call set-up: sipp -sn uac -r $RATE -m $CALLS -l $LIMIT -d $HOLD (127.0.0.1, UDP)"
printf '%-24s %12s %12s %10s\n' "" "contactd" "sipp-uas" "ratio"
row() { printf '%-24s %12s %12s %10s\n' "$1" "$(get "$2" "$C")" "$(get "$2" "$P")" "${3:-}"; }
row "sipp exit code" rc
row "calls created" created
row "successful calls" ok
row "failed calls" failed
row "retransmissions" retrans
row "INVITE->200 mean ms" mean_ms "$(ratio "$(get mean_ms "$C")" "$(get mean_ms "$P")")"
row "INVITE->200 p50 ms" p50_ms "$(ratio "$(get p50_ms "$C")" "$(get p50_ms "$P")")"
row "INVITE->200 p95 ms" p95_ms "$(ratio "$(get p95_ms "$C")" "$(get p95_ms "$P")")"
row "INVITE->200 p99 ms" p99_ms "$(ratio "$(get p99_ms "$C")" "$(get p99_ms "$P")")"
row "INVITE->200 max ms" max_ms
row "call length mean ms" call_len_mean_ms
row "CPU ms per call" cpu_ms_per_call "$(ratio "$(get cpu_ms_per_call "$C")" "$(get cpu_ms_per_call "$P")")"
echo "contactd after the run: /healthz=$HEALTH, VmHWM=$((HWM / 1024)) MiB (idle RSS before load $((RSS_IDLE / 1024)) MiB, after $((RSS_END / 1024)) MiB), threads=$THREADS"
echo "contactd stored: $STORED; SIGTERM->exit ${STOP_S} s; ERROR log lines: $SERVER_ERRORS"
echo
echo "== 2. Speech recognition: $UTTS espeak-ng utterances, ${AUDIO_S} s of 16 kHz audio, same HMM/LM/dict; best of $ROUNDS rounds"
printf '%-24s %12s %12s %10s\n' "" "contactd" "raw-sphinx" "ratio"
arow() { printf '%-24s %12s %12s %10s\n' "$1" "$2" "$3" "${4:-}"; }
arow "WER (every round)" "$(wers asr-eval)" "$(wers batch)"
arow "RTF (decode only)" "$(best asr-eval rtf)" "$(best batch rtf)" "$(ratio "$(best asr-eval rtf)" "$(best batch rtf)")"
arow "process wall s" "$(best asr-eval wall)" "$(best batch wall)" "$(ratio "$(best asr-eval wall)" "$(best batch wall)")"
arow "process CPU s (u+s)" "$(best asr-eval cpu)" "$(best batch cpu)" "$(ratio "$(best asr-eval cpu)" "$(best batch cpu)")"
arow "max RSS MiB" "$(($(best asr-eval maxrss_kb) / 1024))" "$(($(best batch maxrss_kb) / 1024))"
echo
if [[ $(get rc "$C") != 0 || $(get failed "$C") != 0 || $HEALTH != 200 ]]; then
	die "contactd had failed calls or was unhealthy after the load"
fi
