#!/usr/bin/env bash
# deploy/asr/make-indomain.sh [OUTDIR [VOICE]] — the wideband in-domain set.
#
# Renders the held-out caller phrasings of ivr/testdata/eval.tsv (not the
# intents' training examples, which build the domain language model) at
# 16 kHz, and splits them by a hash of the text into OUTDIR/dev.list (tune
# here) and OUTDIR/test.list (report here, never tune), in asr-eval's
# format. The split depends on the text only, so every voice has the same
# one. VOICE:
#   espeak        espeak-ng en-us (default; formant synthesis, the least
#                 human-like: the worst case)
#   flite:NAME    flite (Debian package flite) voice NAME: kal16 (male
#                 US, diphone), rms (male US), awb (male Scottish), slt
#                 (female US); the last three are statistical voices
#                 trained on CMU ARCTIC recordings of those speakers
# Deterministic: no dither, fixed voice.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-.}
VOICE=${2:-espeak}
case $VOICE in
espeak) command -v espeak-ng >/dev/null || { echo "make-indomain: espeak-ng missing" >&2; exit 1; } ;;
flite:kal16 | flite:rms | flite:awb | flite:slt | flite:kal)
	command -v flite >/dev/null || { echo "make-indomain: flite missing (apt-get install flite)" >&2; exit 1; } ;;
*) echo "make-indomain: unknown voice $VOICE (espeak, flite:kal16|rms|awb|slt)" >&2; exit 2 ;;
esac
mkdir -p "$OUT/wav"
: >"$OUT/dev.list"
: >"$OUT/test.list"
i=0
while IFS=$'\t' read -r _ text; do
	[[ -n $text ]] || continue
	i=$((i + 1))
	id=$(printf 'ind%03d' "$i")
	if [[ $VOICE == espeak ]]; then
		timeout 20 espeak-ng -v en-us -w "$OUT/wav/$id.raw.wav" "$text"
	else
		timeout 20 flite -voice "${VOICE#flite:}" -t "$text" -o "$OUT/wav/$id.raw.wav"
	fi
	sox -D -V1 "$OUT/wav/$id.raw.wav" -r 16000 -c 1 -b 16 -e signed-integer "$OUT/wav/$id.wav"
	rm -f "$OUT/wav/$id.raw.wav"
	h=$(printf '%s' "$text" | md5sum | cut -c1-2)
	if ((16#$h < 128)); then set=test; else set=dev; fi
	printf '%s\t%s\n' "$OUT/wav/$id.wav" "$text" >>"$OUT/$set.list"
done <"$ROOT/ivr/testdata/eval.tsv"
echo "make-indomain ($VOICE): $(wc -l <"$OUT/dev.list") dev, $(wc -l <"$OUT/test.list") test utterances" >&2
