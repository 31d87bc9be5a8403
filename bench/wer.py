#!/usr/bin/env python3
"""Word error rate of pocketsphinx_batch hypotheses, scored like contactd.

Usage: wer.py LIST HYP

LIST has lines `path.wav<TAB>reference`; HYP is pocketsphinx_batch's -hyp
file, lines `words (uttid score...)`, where uttid is the file name without
extension. Text is normalised exactly as asr/asreval.Words does (lower case,
punctuation dropped, inner apostrophes kept, digits spoken one by one, "oh"
counted as "zero"), so the two WERs are comparable. Prints key=value lines.
"""
import os
import re
import sys

DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def words(s):
    out, cur = [], []

    def flush():
        w = "".join(cur).strip("'")
        if w:
            out.append("zero" if w == "oh" else w)
        cur.clear()

    for r in s.lower():
        if "0" <= r <= "9":
            flush()
            out.append(DIGITS[ord(r) - ord("0")])
        elif r.isalpha() or r == "'":
            cur.append(r)
        elif r == "\u2019":
            cur.append("'")
        else:
            flush()
    flush()
    return out


def edit_distance(ref, hyp):
    prev = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        cur = [i] + [0] * len(hyp)
        for j in range(1, len(hyp) + 1):
            cur[j] = min(prev[j - 1] + (ref[i - 1] != hyp[j - 1]), prev[j] + 1, cur[j - 1] + 1)
        prev = cur
    return prev[len(hyp)]


def main():
    refs = {}
    for line in open(sys.argv[1]):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        path, _, ref = line.partition("\t")
        refs[os.path.splitext(os.path.basename(path))[0]] = ref
    hyps = {}
    for line in open(sys.argv[2]):
        m = re.match(r"^(.*?)\s*\((\S+)(?:\s+[-0-9.]+)*\)\s*$", line.rstrip("\n"))
        if m:
            hyps[m.group(2)] = m.group(1)
    errors = nref = 0
    for uid, ref in refs.items():
        r, h = words(ref), words(hyps.get(uid, ""))
        e = edit_distance(r, h)
        errors += e
        nref += len(r)
        print("utt=%s errors=%d/%d hyp=%r" % (uid, e, len(r), " ".join(h)), file=sys.stderr)
    print("files=%d missing=%d" % (len(refs), sum(1 for u in refs if u not in hyps)))
    print("errors=%d" % errors)
    print("ref_words=%d" % nref)
    print("wer=%.4f" % (errors / nref if nref else 0))


if __name__ == "__main__":
    main()
