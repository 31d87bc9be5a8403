#!/usr/bin/env bash
# bench/asr-quality.sh — the embedded recogniser's accuracy and latency on
# the sets of deploy/asr (see "3. Speech recognition quality" in
# bench/README.md). Needs bin/contactd, asterisk-core-sounds-en-wav,
# espeak-ng, sox. About 10 minutes on 2 cores (the latency passes run in
# real time; ASRQ_GENERAL=1 adds the general-LM rows, 7 more minutes).
# BENCH_KEEP=1 keeps the temp dir; CONTACTD_BIN picks another binary.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${CONTACTD_BIN:-$ROOT/bin/contactd}
log() { printf '[asr-quality %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
[[ -x $BIN ]] || { log "FAIL: $BIN missing: make build"; exit 1; }
{ "$BIN" asr-eval -h 2>&1 || true; } | grep -q -- -narrowband || { log "FAIL: this contactd's asr-eval has no --narrowband"; exit 1; }
W=$(mktemp -d /tmp/contactd-asrq.XXXXXX)
trap '[[ ${BENCH_KEEP:-} == 1 ]] && log "kept $W" || rm -rf "$W"' EXIT
deploy/asr/make-lists.sh "$W/nb"
deploy/asr/make-indomain.sh "$W/wb"
cut -f2 "$W/nb/adapt.list" >"$W/adapt-phrases.txt"
# cfg OPTS...: the demo config with these sphinx options, one decoder each.
cfg() {
	local f=$W/cfg-$1.yaml
	shift
	python3 - "$ROOT/config/demo.yaml" "$@" >"$f" <<'PY'
import sys
s = open(sys.argv[1]).read()
opts = dict(a.split("=", 1) for a in sys.argv[2:])
opts.setdefault("decoders", "1"); opts.setdefault("narrowband_decoders", "1")
block = "asr:\n  provider: sphinx\n  options:\n" + "".join('    "%s": "%s"\n' % kv for kv in opts.items())
print(s.replace("asr:\n  provider: sphinx\n", block), end="")
PY
	echo "$f"
}
# run NAME CONFIG LIST ARGS...: asr-eval; prints NAME and its summary lines.
run() {
	local name=$1 c=$2 list=$3
	shift 3
	nice -n 10 timeout 1800 "$BIN" asr-eval --config "$c" --data-dir "$W/data" --list "$list" "$@" >"$W/$name.out" 2>"$W/$name.err" ||
		{ log "FAIL: $name: $(tail -3 "$W/$name.err")"; exit 1; }
	printf '%-34s %s\n' "$name" "$(grep -E '^(OOV|LAT_P50|WER)=' "$W/$name.out" | sed 's/ (.*)//' | paste -sd' ')"
}
STOCK=$(cfg stock narrowband_mllr=none)
SHIP=$(cfg shipped)
log "narrowband: held-out Asterisk prompts through G.711 µ-law"
echo "== narrowband held-out ($(wc -l <"$W/nb/heldout.list") prompts; LM: IVR phrases + adaptation texts)"
run "stock model" "$STOCK" "$W/nb/heldout.list" --narrowband --phrases "$W/adapt-phrases.txt"
run "MLLR (shipped)" "$SHIP" "$W/nb/heldout.list" --narrowband --phrases "$W/adapt-phrases.txt" --latency
if [[ ${ASRQ_GENERAL:-} == 1 ]]; then
	run "stock model, general LM" "$STOCK" "$W/nb/heldout.list" --narrowband --lm general
	run "MLLR (shipped), general LM" "$SHIP" "$W/nb/heldout.list" --narrowband --lm general
fi
log "wideband: espeak-ng renderings of ivr/testdata/eval.tsv"
echo "== wideband in-domain test ($(wc -l <"$W/wb/test.list") utterances; LM: IVR phrases)"
run "domain LM" "$SHIP" "$W/wb/test.list" --latency
