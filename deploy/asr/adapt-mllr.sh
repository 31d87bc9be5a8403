#!/usr/bin/env bash
# deploy/asr/adapt-mllr.sh ADAPT_LIST OUT_MATRIX [WORKDIR]
#
# Trains one global MLLR transform that adapts PocketSphinx's wideband
# en-us model to telephone audio, the way contactd's recogniser hears it:
# every file of ADAPT_LIST (asr-eval format, see make-lists.sh) goes
# through G.711 µ-law at 8 kHz and is upsampled to 16 kHz, as a PCMU leg
# is. Then (Debian sphinxtrain / sphinxbase-utils):
#   1. sphinx_fe: MFCCs with the model's own feat.params;
#   2. the text mdef (pocketsphinx_mdef_convert -text);
#   3. the mixture_weights file bw needs, expanded from the quantised
#      sendump, the only form the Debian model ships (after a header of
#      length-prefixed strings: for each feature and codeword one byte per
#      senone, weight = 1.0001^-(b << 10), renormalised);
#   4. bw: Baum-Welch statistics of the adaptation data;
#   5. mllr_solve: the transform, a small text file, written to OUT_MATRIX.
# Use it with the recogniser's -mllr option (contactd applies the shipped
# asr/sphinx/model/mllr_matrix_8k to narrowband streams).
#
# Never give it the held-out list. Utterances with words missing from the
# CMU dictionary are skipped. Runs under nice; about a minute on 2 cores.
set -euo pipefail
LIST=${1:?usage: adapt-mllr.sh ADAPT_LIST OUT_MATRIX [WORKDIR]}
OUTM=${2:?usage: adapt-mllr.sh ADAPT_LIST OUT_MATRIX [WORKDIR]}
W=${3:-$(mktemp -d /tmp/contactd-mllr.XXXXXX)}
HMM=${HMM:-/usr/share/pocketsphinx/model/en-us/en-us}
DICT=${DICT:-/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict}
ST=/usr/lib/sphinxtrain
for t in sox sphinx_fe pocketsphinx_mdef_convert python3 "$ST/bw" "$ST/mllr_solve"; do
	command -v "$t" >/dev/null || { echo "adapt-mllr: $t missing (apt-get install sphinxtrain sphinxbase-utils pocketsphinx sox)" >&2; exit 1; }
done
NICE="nice -n 10"
mkdir -p "$W/wav" "$W/feat" "$W/model" "$W/accum"
echo "adapt-mllr: work dir $W" >&2

# Audio as a G.711 leg delivers it, and the transcripts bw wants.
python3 - "$LIST" "$DICT" "$W" <<'PY'
import os, re, sys
lst, dict_path, w = sys.argv[1:4]
words = set()
for line in open(dict_path, encoding="utf-8", errors="replace"):
    p = line.split()
    if p:
        words.add(re.sub(r"\(\d+\)$", "", p[0]))
ids, trans, skipped = [], [], 0
base = os.path.dirname(os.path.abspath(lst))
for line in open(lst):
    line = line.rstrip("\n")
    if not line or line.startswith("#") or "\t" not in line:
        continue
    path, text = line.split("\t", 1)
    if not os.path.isabs(path):
        path = os.path.join(base, path)
    ws = text.lower().split()
    if not ws or any(x not in words for x in ws):
        skipped += 1
        continue
    uid = "u%04d" % len(ids)
    ids.append((uid, path))
    trans.append("<s> %s </s> (%s)" % (" ".join(ws), uid))
with open(os.path.join(w, "files"), "w") as f:
    for uid, path in ids:
        f.write("%s\t%s\n" % (uid, path))
with open(os.path.join(w, "fileids"), "w") as f:
    f.write("".join(u + "\n" for u, _ in ids))
with open(os.path.join(w, "transcription"), "w") as f:
    f.write("\n".join(trans) + "\n")
print("adapt-mllr: %d utterances, %d skipped (words not in the dictionary)" % (len(ids), skipped), file=sys.stderr)
PY
while IFS=$'\t' read -r uid path; do
	sox -D -V1 "$path" -r 8000 -c 1 -t wav -e u-law - | sox -D -V1 -t wav - -r 16000 -b 16 -e signed-integer "$W/wav/$uid.wav"
done <"$W/files"

$NICE sphinx_fe -argfile "$HMM/feat.params" -samprate 16000 -dither yes -seed 1 \
	-c "$W/fileids" -di "$W/wav" -do "$W/feat" -ei wav -eo mfc -mswav yes >"$W/fe.log" 2>&1 ||
	{ tail -5 "$W/fe.log" >&2; exit 1; }

cp "$HMM"/{means,variances,transition_matrices,noisedict,feat.params} "$W/model/"
pocketsphinx_mdef_convert -text "$HMM/mdef" "$W/model/mdef.txt" >"$W/mdef.log" 2>&1

python3 - "$HMM/sendump" "$W/model/mixture_weights" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
p = 0
attrs = {}
while True:
    n = struct.unpack_from("<i", b, p)[0]; p += 4
    if n == 0:
        break
    s = b[p:p + n].rstrip(b"\0").decode("ascii", "replace"); p += n
    k, _, v = s.partition(" ")
    attrs[k] = v
n_cw, n_sen = struct.unpack_from("<ii", b, p); p += 8
n_feat = int(attrs.get("feature_count", "1"))
if int(attrs.get("cluster_count", "0")) != 0:
    sys.exit("adapt-mllr: clustered sendump not supported")
if len(b) - p != n_feat * n_cw * n_sen:
    sys.exit("adapt-mllr: sendump size %d != %d*%d*%d" % (len(b) - p, n_feat, n_cw, n_sen))
shift = 10
w = [[[0.0] * n_cw for _ in range(n_feat)] for _ in range(n_sen)]
for f in range(n_feat):
    for c in range(n_cw):
        row = b[p:p + n_sen]; p += n_sen
        for s in range(n_sen):
            w[s][f][c] = 1.0001 ** -(row[s] << shift)
out = bytearray()
for s in range(n_sen):
    for f in range(n_feat):
        t = sum(w[s][f])
        out += struct.pack("<%df" % n_cw, *[x / t for x in w[s][f]])
hdr = b"s3\nversion 1.0\n"
pad = (len(hdr) + len(b"endhdr\n")) & 3
hdr += b" " * ((4 - pad) & 3) + b"endhdr\n"
with open(sys.argv[2], "wb") as f:
    f.write(hdr + struct.pack("<iIIII", 0x11223344, n_sen, n_feat, n_cw, n_sen * n_feat * n_cw) + out)
print("adapt-mllr: mixture_weights %d senones x %d features x %d codewords" % (n_sen, n_feat, n_cw), file=sys.stderr)
PY

$NICE "$ST/bw" -hmmdir "$W/model" -moddeffn "$W/model/mdef.txt" -ts2cbfn .ptm. \
	-feat 1s_c_d_dd -svspec 0-12/13-25/26-38 -cmn batch -agc none -varnorm no \
	-dictfn "$DICT" -fdictfn "$W/model/noisedict" -ctlfn "$W/fileids" -lsnfn "$W/transcription" \
	-cepdir "$W/feat" -cepext mfc -accumdir "$W/accum" >"$W/bw.log" 2>&1 ||
	{ tail -20 "$W/bw.log" >&2; exit 1; }
grep -E "overall>|ERROR" "$W/bw.log" | tail -3 >&2 || true

$NICE "$ST/mllr_solve" -meanfn "$W/model/means" -varfn "$W/model/variances" \
	-outmllrfn "$W/mllr_matrix" -accumdir "$W/accum" >"$W/mllr.log" 2>&1 ||
	{ tail -20 "$W/mllr.log" >&2; exit 1; }
mkdir -p "$(dirname "$OUTM")"
cp "$W/mllr_matrix" "$OUTM"
echo "adapt-mllr: wrote $OUTM" >&2
