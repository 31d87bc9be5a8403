#!/usr/bin/env bash
# bench/asr-streams.sh — how many concurrent real-time recognition streams
# the embedded recogniser sustains on this machine's cores, against the
# raw PocketSphinx decoder (pocketsphinx_batch) on the same audio with the
# same model files, measured in the same run (see "Concurrent streams" in
# bench/README.md).
#
#   contactd: `asr-eval --streams` plays the utterances on 1, 2, 4, …
#             concurrent streams, each paced in real time in 20 ms frames
#             with 1 s gaps, through the production stream (VAD,
#             speculative decoding, the decoder pool), and reports per step
#             final-result latency after the end-of-speech silence, audio
#             dropped and the process's CPU. A step passes with p95 <= 300 ms
#             and nothing dropped; the ramp stops after two failing steps.
#   raw:      `nproc` pocketsphinx_batch processes at once, each decoding
#             every utterance (as whole files, after they end): CPU per
#             second of speech, and each utterance's decode time, which is
#             the final latency a decoder started at the end of speech
#             would give at that load.
#
# Both are turned into streams per machine the same way: cores /
# (CPU per speech second × share of stream time that is speech).
# Bounded: every process has a timeout, the steps are a fixed list.
# Needs bin/contactd, flite, sox, pocketsphinx_batch (Debian pocketsphinx,
# installed when run as root). Knobs: ASRS_STEPS (1,2,4,8,12,16,24),
# ASRS_SECONDS audio per stream per step (30), ASRS_VOICE (flite:slt, see
# deploy/asr/make-indomain.sh), ASRS_SET extra asr-eval --set options
# (space-separated KEY=VALUE), BENCH_KEEP=1 keeps the temp dir. About
# 6 minutes with the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${CONTACTD_BIN:-$ROOT/bin/contactd}
HMM=/usr/share/pocketsphinx/model/en-us/en-us
STEPS=${ASRS_STEPS:-1,2,4,8,12,16,24}
SECONDS_PER=${ASRS_SECONDS:-30}
VOICE=${ASRS_VOICE:-flite:slt}
NCPU=$(nproc)
log() { printf '[asr-streams %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() {
	log "FAIL: $*"
	FAILED=1
	exit 1
}
FAILED=0
[[ -x $BIN ]] || die "$BIN missing: make build"
{ "$BIN" asr-eval -h 2>&1 || true; } | grep -q -- -streams || die "this contactd's asr-eval has no --streams"
for t in sox python3 /usr/bin/time timeout; do
	command -v "$t" >/dev/null || die "$t missing"
done
if ! command -v pocketsphinx_batch >/dev/null; then
	[[ $(id -u) == 0 ]] || die "pocketsphinx_batch missing: apt-get install pocketsphinx"
	log "installing pocketsphinx (for pocketsphinx_batch)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pocketsphinx >/dev/null
fi
W=$(mktemp -d /tmp/contactd-asrs.XXXXXX)
trap '[[ ${BENCH_KEEP:-} == 1 || $FAILED == 1 ]] && log "kept $W" || rm -rf "$W"' EXIT

# The audio: every in-domain phrasing (dev and test halves; speed only,
# nothing is scored or tuned here).
deploy/asr/make-indomain.sh "$W/set" "$VOICE" >/dev/null 2>"$W/set.log" || die "make-indomain: $(tail -3 "$W/set.log")"
cat "$W/set/dev.list" "$W/set/test.list" >"$W/all.list"
mkdir -p "$W/raw"
while IFS=$'\t' read -r f _; do
	b=$(basename "$f" .wav)
	sox "$f" -t raw "$W/raw/$b.raw"
	echo "$b"
done <"$W/all.list" >"$W/raw/ctl"
NUTT=$(wc -l <"$W/raw/ctl")

# The domain LM alone (the demo config blends in the general model): the
# raw decoder is given the LM contactd generates, which a blend is not.
SET=(--set general_words=0)
for kv in ${ASRS_SET:-}; do SET+=(--set "$kv"); done
# One asr-eval per step (its CPU is counted over the step only, not the
# model loading), so that one step over the criterion does not end the
# ramp: it stops after two failing steps in a row.
log "contactd: asr-eval --streams N for N in $STEPS (${SECONDS_PER} s of audio per stream per step)"
: >"$W/streams.out"
fails=0
for n in ${STEPS//,/ }; do
	timeout $((2 * SECONDS_PER + 120)) "$BIN" asr-eval --data-dir "$W/data" "${SET[@]}" \
		--list "$W/all.list" --streams "$n" --stream-seconds "$SECONDS_PER" >"$W/streams.$n.out" 2>"$W/streams.err" ||
		die "asr-eval --streams $n: $(tail -3 "$W/streams.err")"
	grep '^STREAMS=' "$W/streams.$n.out" | tee -a "$W/streams.out" >&2
	if grep -q 'OK=true' "$W/streams.$n.out"; then fails=0; else fails=$((fails + 1)); fi
	((fails < 2)) || break
done

# The raw decoder: the domain LM and dictionary contactd generated (the
# "sphinx: ready" log line names the LM), contactd's decoder options.
LM=$(sed -n 's/.*sphinx: ready.* lm=\([^ ]*\).*/\1/p' "$W/streams.err" | head -n1)
[[ -f $LM && -f ${LM%.lm}.dict ]] || die "no LM/dictionary from asr-eval's log (lm option? raw needs the generated LM)"
# The general blend is an interpolation pocketsphinx_batch cannot load: the
# raw decoder would decode with less, so refuse rather than compare.
grep -q 'sphinx: ready.* general_words=0 ' "$W/streams.err" || die "general_words is on: the raw decoder cannot decode the same blend"
log "raw: $NCPU x pocketsphinx_batch, $NUTT utterances each"
pids=()
for ((i = 1; i <= NCPU; i++)); do
	/usr/bin/time -f '%e %U %S' -o "$W/batch.$i.time" timeout 600 pocketsphinx_batch -hmm "$HMM" -lm "$LM" -dict "${LM%.lm}.dict" \
		-dither yes -seed 1 -maxhmmpf 3000 -maxwpf 10 -samprate 16000 \
		-adcin yes -cepdir "$W/raw" -cepext .raw -ctl "$W/raw/ctl" -hyp "$W/batch.$i.hyp" >"$W/batch.$i.log" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || die "pocketsphinx_batch failed: $(tail -3 "$W"/batch.*.log)"; done

python3 - "$W" "$NCPU" <<'EOF'
import glob, math, re, sys
w, ncpu = sys.argv[1], int(sys.argv[2])
steps, best = [], None
for line in open(w + "/streams.out"):
    if line.startswith("STREAMS="):
        kv = dict(p.split("=", 1) for p in line.split())
        steps.append(kv)
if not steps:
    sys.exit("no STREAMS= lines")
ok = [s for s in steps if s["OK"] == "true"]
ref = ok[-1] if ok else steps[0]
# raw: per utterance "ID: S seconds speech, C seconds CPU, W seconds wall"
speech = cpu = 0.0
walls = []
for f in glob.glob(w + "/batch.*.log"):
    for m in re.finditer(r"batch\.c\(\d+\): \S+: ([0-9.]+) seconds speech, ([0-9.]+) seconds CPU, ([0-9.]+) seconds wall", open(f).read()):
        speech += float(m.group(1)); walls.append(float(m.group(3)) * 1000)
pcpu = 0.0
for f in glob.glob(w + "/batch.*.time"):
    e, u, s = open(f).read().split()[-3:]
    pcpu += float(u) + float(s)
walls.sort()
pct = lambda p: walls[min(len(walls) - 1, math.ceil(p * len(walls)) - 1)]
duty = float(ref["DUTY"])
c_rtf, r_rtf = float(ref["CPU_RTF"]), pcpu / speech
cap = lambda rtf: ncpu / (rtf * duty)
print()
print("== Concurrent real-time streams on %d cores: contactd asr-eval --streams vs %d x pocketsphinx_batch (same audio, HMM, LM, dict)" % (ncpu, ncpu))
print("stream duty (speech / stream time) %.3f; contactd figures from its largest passing step (%s streams)%s" % (
    duty, ref["STREAMS"], "" if ok else " -- NO STEP PASSED, first step shown"))
print("%-40s %12s %12s %8s" % ("", "contactd", "raw-sphinx", "ratio"))
row = lambda name, a, b, fmt="%.4f": print("%-40s %12s %12s %8s" % (name, fmt % a, fmt % b, "%.2f" % (a / b) if b else ""))
row("CPU s per speech s (process, all in)", c_rtf, r_rtf)
row("streams on %d cores by CPU" % ncpu, cap(c_rtf), cap(r_rtf), "%.1f")
print("%-40s %12s %12s" % ("streams measured (p95<=300 ms, no drops)", max([int(s["STREAMS"]) for s in ok], default=0), "n/a"))
print("%-40s %12s %12s" % ("final latency p50/p95 ms", "%s/%s" % (ref["LAT_P50"], ref["LAT_P95"]), "%.0f/%.0f" % (pct(0.5), pct(0.95))))
print("%-40s %12s %12s" % ("dropped samples/utterances", ref["DROPPED"], "n/a"))
print("raw latency = each utterance's decode wall time with %d decoders busy (a decode started at the end of speech);" % ncpu)
print("contactd latency = from the end-of-speech silence to the Final, speculative decoding on.")
print()
print("contactd steps:")
for s in steps:
    print("  streams=%-4s lat p50/p95/max=%s/%s/%s ms dropped=%s cpu_rtf=%s spec hits/misses=%s write_late_max=%s ms ok=%s" % (
        s["STREAMS"], s["LAT_P50"], s["LAT_P95"], s["LAT_MAX"], s["DROPPED"], s["CPU_RTF"], s["SPEC"], s["WRITE_LATE_MAX"], s["OK"]))
EOF
