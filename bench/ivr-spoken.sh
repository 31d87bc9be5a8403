#!/usr/bin/env bash
# bench/ivr-spoken.sh — spoken calls end to end (issue 5's goals): the
# held-out caller phrasings of ivr/testdata/eval.tsv (the test half of the
# MD5 split deploy/asr/make-indomain.sh uses; never tuned on), spoken by
# flite voices (kal16, slt, rms, awb in turn; espeak with
# IVR_VOICES=espeak), call contactd over Opus (wideband; IVR_CODEC=PCMU
# for narrowband) with the embedded recogniser. Prints, per call, the
# queue it should land in and the one it did, then the share that landed
# right and the turn latency (end of the caller's speech to the next
# prompt starting, p50/p95). Goals: >= 90 % right; p50 <= 400 ms, p95 <=
# 800 ms. IVR_ASR_OPTIONS sets the recogniser's options (YAML flow-map
# entries, e.g. 'general_words: "20000"'). Not part of make test. Loopback only; every process has a
# timeout; the temp dir goes unless BENCH_KEEP=1 or it failed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${CONTACTD_BIN:-$ROOT/bin/contactd}
VOICES=${IVR_VOICES:-flite:kal16,flite:slt,flite:rms,flite:awb}
CODEC=${IVR_CODEC:-opus}
PAR=${IVR_PARALLEL:-2}
log() { printf '[ivr-spoken %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
[[ -x $BIN ]] || { log "$BIN missing: run 'make build' first"; exit 1; }
for t in flite espeak-ng sox python3 curl timeout go md5sum; do
	command -v "$t" >/dev/null || { log "$t not found (Debian: apt-get install flite espeak-ng sox python3 curl)"; exit 1; }
done
WORK=$(mktemp -d /tmp/contactd-ivr.XXXXXX)
PID=
FAILED=0
cleanup() {
	local rc=$?
	((rc == 0)) || FAILED=1
	[[ -n $PID ]] && { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
	if [[ ${BENCH_KEEP:-} == 1 || $FAILED == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# The calls: the test half of the split, voices in turn.
IFS=, read -r -a voices <<<"$VOICES"
mkdir -p "$WORK/wav"
: >"$WORK/calls.tsv"
i=0 n=0
while IFS=$'\t' read -r intent text; do
	[[ -n $text ]] || continue
	i=$((i + 1))
	h=$(printf '%s' "$text" | md5sum | cut -c1-2)
	((16#$h < 128)) || continue # dev half: not used here
	v=${voices[$((n % ${#voices[@]}))]}
	n=$((n + 1))
	raw="$WORK/wav/$i.raw.wav"
	if [[ $v == espeak ]]; then
		timeout 20 espeak-ng -v en-us -w "$raw" "$text"
	else
		timeout 20 flite -voice "${v#flite:}" -t "$text" -o "$raw"
	fi
	sox -D -V1 "$raw" -r 16000 -c 1 -b 16 -e signed-integer "$WORK/wav/$i.wav"
	rm -f "$raw"
	printf '%s\t%s\n' "$WORK/wav/$i.wav" "$intent" >>"$WORK/calls.tsv"
done <"$ROOT/ivr/testdata/eval.tsv"
log "$n held-out calls in voices $VOICES over $CODEC"

free_port() {
	python3 -c 'import socket
for _ in range(100):
    t=socket.socket(); t.bind(("127.0.0.1",0)); p=t.getsockname()[1]
    u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
    try: u.bind(("127.0.0.1",p))
    except OSError: t.close(); continue
    t.close(); u.close(); print(p); break'
}
HTTP_PORT=$(free_port)
SIP_PORT=$(free_port)
PASS=ivr-admin-$$-$RANDOM
mkdir -p "$WORK/data"
# IVR_ASR_OPTIONS: the recogniser's options as YAML flow-map entries, e.g.
# 'general_words: "20000"' (the blend with the general LM) or
# 'speculate_ms: "0"' (no speculation, hence no tentative turn ends).
CONFIG=
if [[ -n ${IVR_ASR_OPTIONS:-} ]]; then
	CONFIG=$WORK/config.yaml
	# In place of the demo's own options (the general-model blend).
	python3 -c 'import sys; y = open(sys.argv[1]).read(); o = "  options:\n    general_words: \"20000\"\n"; assert o in y, "no asr options in the demo config"; print(y.replace(o, "", 1), end="")' "$ROOT/config/demo.yaml" |
		sed "s|^  provider: sphinx\$|  provider: sphinx\n  options: {$IVR_ASR_OPTIONS}|" >"$CONFIG"
	grep -q "options: {$IVR_ASR_OPTIONS}" "$CONFIG" || { log "could not set the asr options in $CONFIG"; exit 1; }
	log "asr options: $IVR_ASR_OPTIONS"
fi
CONTACTD_HTTP_ADDR=127.0.0.1:$HTTP_PORT CONTACTD_SIP_ADDR=127.0.0.1:$SIP_PORT CONTACTD_DATA_DIR=$WORK/data \
	CONTACTD_ADMIN_PASSWORD=$PASS CONTACTD_DATABASE_URL= CONTACTD_CONFIG=$CONFIG \
	timeout 900 "$BIN" serve >"$WORK/contactd.log" 2>&1 &
PID=$!
for _ in $(seq 1 600); do
	curl -fs "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null 2>&1 && break
	kill -0 "$PID" 2>/dev/null || { log "contactd exited: $(tail -5 "$WORK/contactd.log")"; exit 1; }
	sleep 0.2
done
TOKEN=$(curl -fs -X POST "http://127.0.0.1:$HTTP_PORT/api/v1/auth/login" -H 'Content-Type: application/json' \
	-d "{\"username\":\"admin\",\"password\":\"$PASS\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
log "contactd up (load $(cut -d' ' -f1-3 /proc/loadavg)); calling"
timeout 900 go run ./bench/cmd/ivrcalls -sip "127.0.0.1:$SIP_PORT" -http "http://127.0.0.1:$HTTP_PORT" -token "$TOKEN" \
	-list "$WORK/calls.tsv" -codec "$CODEC" -parallel "$PAR" | tee "$WORK/result.txt"
log "done (load $(cut -d' ' -f1-3 /proc/loadavg))"
