#!/usr/bin/env bash
# deploy/asr/make-lists.sh [OUTDIR] — the narrowband evaluation corpus.
#
# Writes OUTDIR/adapt.list and OUTDIR/heldout.list (asr-eval's format:
# path.wav<TAB>reference text) from Debian's asterisk-core-sounds-en-wav
# (8 kHz recordings of one human voice) and their transcripts in
# /usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz.
#
# The split is deterministic and never changes with the package contents
# of other files: a prompt is held out when the first byte of the MD5 of
# its name (e.g. "vm-intro", "digits/7") is < 52 (about 20 %). The
# held-out list must never be used to train, build a language model or
# tune anything; adapt.list is for that.
#
# Prompts whose transcript is not what is spoken are left out: sound
# descriptions ("[beep]", "(10 seconds of silence)", "<beep>"), and texts
# with multi-digit numbers ("dial 500", "28.8": read as words, not digits).
# "*" and "#" are spoken as "star" and "pound", single digits as words. Installs the package when
# run as root.
set -euo pipefail
OUT=${1:-.}
SOUNDS=/usr/share/asterisk/sounds/en_US_f_Allison
TEXT=/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz
if [[ ! -d $SOUNDS || ! -f $TEXT ]]; then
	if [[ $(id -u) == 0 ]]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends asterisk-core-sounds-en-wav asterisk-core-sounds-en >/dev/null
	else
		echo "make-lists: apt-get install asterisk-core-sounds-en-wav asterisk-core-sounds-en (the transcripts)" >&2
		exit 1
	fi
fi
mkdir -p "$OUT"
zcat "$TEXT" | python3 -c '
import hashlib, os, re, sys
sounds, out = sys.argv[1], sys.argv[2]
lists = {"adapt": [], "heldout": []}
DIGITS = "zero one two three four five six seven eight nine".split()
for line in sys.stdin:
    line = line.strip()
    if not line or line.startswith(";") or ": " not in line:
        continue
    name, text = line.split(": ", 1)
    name, text = name.strip(), text.strip()
    path = os.path.join(sounds, name + ".wav")
    if not os.path.isfile(path) or name.startswith("silence/"):
        continue
    if re.search(r"[\[\]<>()\"]", text) or re.search(r"[0-9][0-9.,]*[0-9]", text):
        continue
    text = text.replace("*", " star ").replace("#", " pound ")
    text = " ".join(re.sub(r"[^A-Za-z0-9\x27 ]", " ", text).split()).lower()
    text = " ".join(DIGITS[int(w)] if w.isdigit() else w for w in text.split())
    if not text:
        continue
    held = hashlib.md5(name.encode()).digest()[0] < 52
    lists["heldout" if held else "adapt"].append("%s\t%s" % (path, text))
for k, v in lists.items():
    with open(os.path.join(out, k + ".list"), "w") as f:
        f.write("\n".join(sorted(v)) + "\n")
    print("%s.list: %d prompts" % (k, len(v)), file=sys.stderr)
' "$SOUNDS" "$OUT"
