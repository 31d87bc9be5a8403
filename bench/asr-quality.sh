#!/usr/bin/env bash
# bench/asr-quality.sh — the embedded recogniser's accuracy and latency on
# the sets of deploy/asr (see "Speech recognition quality" in
# bench/README.md). Needs bin/contactd, asterisk-core-sounds-en-wav and
# asterisk-core-sounds-en, espeak-ng, flite, sox (deploy/deps.sh bench).
# About 40 minutes on 2 shared cores: the latency passes run in real time
# (ASRQ_LATENCY=0 skips them; ASRQ_GENERAL=1 adds the general-LM-only
# rows). Every WER is on a held-out half: the Asterisk held-out prompts
# and the test half of the in-domain phrasings, wideband and through
# G.711 (narrowband).
# BENCH_KEEP=1 keeps the temp dir; ASRQ_WORK=DIR works in DIR instead
# (kept, its sets reused); CONTACTD_BIN picks another binary.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${CONTACTD_BIN:-$ROOT/bin/contactd}
log() { printf '[asr-quality %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
[[ -x $BIN ]] || { log "FAIL: $BIN missing: make build"; exit 1; }
{ "$BIN" asr-eval -h 2>&1 || true; } | grep -q -- -set || { log "FAIL: this contactd's asr-eval has no --set"; exit 1; }
command -v flite >/dev/null || { log "FAIL: flite missing (deploy/deps.sh bench)"; exit 1; }
VOICES=(espeak flite:kal16 flite:rms flite:awb flite:slt)
if [[ -n ${ASRQ_WORK:-} ]]; then
	# A work dir of an earlier run: its sets are reused, and it is kept.
	W=$ASRQ_WORK
	mkdir -p "$W"
else
	W=$(mktemp -d /tmp/contactd-asrq.XXXXXX)
	trap '[[ ${BENCH_KEEP:-} == 1 ]] && log "kept $W" || rm -rf "$W"' EXIT
fi
[[ -s $W/nb/heldout.list ]] || deploy/asr/make-lists.sh "$W/nb"
for v in "${VOICES[@]}"; do
	[[ -s $W/wb-${v#flite:}/test.list ]] || deploy/asr/make-indomain.sh "$W/wb-${v#flite:}" "$v"
done
cut -f2 "$W/nb/adapt.list" >"$W/adapt-phrases.txt"
LAT=(--latency)
[[ ${ASRQ_LATENCY:-1} == 0 ]] && LAT=()
# run NAME LIST ARGS...: asr-eval on the demo config with one decoder per
# pool; prints NAME and its summary lines.
run() {
	local name=$1 list=$2
	shift 2
	local out=$W/$(printf '%s' "$name" | tr -c 'A-Za-z0-9' _)
	# general_words=0 unless the row says otherwise: the demo config blends.
	nice -n 10 timeout 3600 "$BIN" asr-eval --data-dir "$W/data" --set decoders=1 --set narrowband_decoders=1 \
		--set general_words=0 --list "$list" "$@" >"$out.out" 2>"$out.err" ||
		{ log "FAIL: $name: $(tail -3 "$out.err")"; exit 1; }
	printf '%-40s %s\n' "$name" "$(grep -E '^(OOV|CPU_RTF|LAT_P50|WER)=' "$out.out" | sed 's/ (.*)//' | paste -sd' ')"
}
# The hot phrases: the dev half's caller phrasings, as an operator would add
# phrasings heard on their lines (the test half is never used for this).
HOT=$(cut -f2 "$W/wb-espeak/dev.list" | paste -sd'|')
BLEND=(--set general_words=20000)
log "narrowband: held-out Asterisk prompts through G.711 µ-law"
echo "== narrowband held-out ($(wc -l <"$W/nb/heldout.list") prompts; LM: IVR phrases + KB + adaptation texts)"
NB=("$W/nb/heldout.list" --narrowband --phrases "$W/adapt-phrases.txt")
run "stock model, domain LM" "${NB[@]}" --set narrowband_mllr=none
run "MLLR, domain LM (built-in default)" "${NB[@]}" "${LAT[@]}"
run "stock model, blend" "${NB[@]}" --set narrowband_mllr=none "${BLEND[@]}"
run "MLLR, blend" "${NB[@]}" "${BLEND[@]}"
if [[ ${ASRQ_GENERAL:-} == 1 ]]; then
	run "stock model, general LM" "$W/nb/heldout.list" --narrowband --lm general --set narrowband_mllr=none
	run "MLLR, general LM" "$W/nb/heldout.list" --narrowband --lm general
fi
log "wideband: ivr/testdata/eval.tsv in espeak-ng and flite voices"
echo "== in-domain test half ($(wc -l <"$W/wb-espeak/test.list") utterances per voice; LM: IVR phrases + KB; hot: the dev half's phrasings)"
for band in wideband narrowband; do
	B=()
	[[ $band == narrowband ]] && B=(--narrowband)
	for v in "${VOICES[@]}"; do
		v=${v#flite:}
		L=()
		[[ $v == slt || $v == espeak ]] && L=("${LAT[@]}")
		run "$band $v, domain LM (default)" "$W/wb-$v/test.list" "${B[@]}" "${L[@]}"
		run "$band $v, hot phrases" "$W/wb-$v/test.list" "${B[@]}" --set "hot_phrases=$HOT"
		run "$band $v, blend" "$W/wb-$v/test.list" "${B[@]}" "${BLEND[@]}"
		run "$band $v, blend + hot phrases" "$W/wb-$v/test.list" "${B[@]}" "${BLEND[@]}" --set "hot_phrases=$HOT"
	done
done
