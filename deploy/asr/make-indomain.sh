#!/usr/bin/env bash
# deploy/asr/make-indomain.sh [OUTDIR] — the wideband in-domain set.
#
# Renders the held-out caller phrasings of ivr/testdata/eval.tsv (not the
# intents' training examples, which build the domain language model) with
# espeak-ng en-us at 16 kHz, and splits them by a hash of the text into
# OUTDIR/dev.list (tune here) and OUTDIR/test.list (report here, never
# tune), in asr-eval's format. Deterministic: no dither, fixed voice.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-.}
mkdir -p "$OUT/wav"
: >"$OUT/dev.list"
: >"$OUT/test.list"
i=0
while IFS=$'\t' read -r _ text; do
	[[ -n $text ]] || continue
	i=$((i + 1))
	id=$(printf 'ind%03d' "$i")
	timeout 20 espeak-ng -v en-us -w "$OUT/wav/$id.22k.wav" "$text"
	sox -D -V1 "$OUT/wav/$id.22k.wav" -r 16000 -c 1 -b 16 -e signed-integer "$OUT/wav/$id.wav"
	rm -f "$OUT/wav/$id.22k.wav"
	h=$(printf '%s' "$text" | md5sum | cut -c1-2)
	if ((16#$h < 128)); then set=test; else set=dev; fi
	printf '%s\t%s\n' "$OUT/wav/$id.wav" "$text" >>"$OUT/$set.list"
done <"$ROOT/ivr/testdata/eval.tsv"
echo "make-indomain: $(wc -l <"$OUT/dev.list") dev, $(wc -l <"$OUT/test.list") test utterances" >&2
