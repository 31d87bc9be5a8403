#!/usr/bin/env python3
"""Summarise one SIPp UAC run for bench/run.sh.

Usage: sipp_stats.py DIR

DIR holds the files of one `sipp -sn uac -trace_msg -trace_stat -stf stat.csv`
run. The call counts come from SIPp's own statistics (stat.csv, last row);
the INVITE->200 times come from the message trace, whose timestamps have
microsecond resolution (SIPp's own response-time statistics count whole
milliseconds, too coarse for a UAS on loopback). Prints key=value lines.
"""
import glob
import os
import re
import sys


def stat_row(path):
    with open(path) as f:
        rows = [l.rstrip("\n").split(";") for l in f if l.strip()]
    head, last = rows[0], rows[-1]
    return dict(zip(head, last))


def hms_ms(s):
    # SIPp writes durations as hh:mm:ss:uuuuuu
    h, m, sec, us = (int(x) for x in s.split(":"))
    return ((h * 60 + m) * 60 + sec) * 1000 + us / 1000


def setup_times(path):
    """INVITE sent -> first 200 OK for it, per Call-ID, in ms."""
    sent, done = {}, {}
    stamp = re.compile(r"^-{20,} (\d{4}-\d\d-\d\d) (\d\d):(\d\d):(\d\d\.\d+)$")
    with open(path, errors="replace") as f:
        text = f.read()
    blocks = re.split(r"\n(?=-{20,} \d{4}-)", "\n" + text)
    for b in blocks:
        lines = b.strip("\n").split("\n")
        if len(lines) < 3:
            continue
        m = stamp.match(lines[0])
        if not m:
            continue
        t = (int(m.group(2)) * 60 + int(m.group(3))) * 60 + float(m.group(4))
        kind, first = lines[1], lines[3] if len(lines) > 3 else ""
        hdr = {}
        for l in lines[3:]:
            if not l.strip():
                break
            k, _, v = l.partition(":")
            hdr.setdefault(k.strip().lower(), v.strip())
        cid, cseq = hdr.get("call-id"), hdr.get("cseq", "")
        if not cid:
            continue
        if "sent" in kind and first.startswith("INVITE ") and cid not in sent:
            sent[cid] = t
        elif ("received" in kind and first.startswith("SIP/2.0 200")
              and cseq.endswith("INVITE") and cid in sent and cid not in done):
            d = t - sent[cid]
            if d < 0:  # crossed midnight
                d += 86400
            done[cid] = d * 1000
    return sorted(done.values()), len(sent)


def pct(xs, p):
    if not xs:
        return float("nan")
    i = min(len(xs) - 1, max(0, int(round(p / 100 * len(xs) + 0.5)) - 1))
    return xs[i]


def main():
    d = sys.argv[1]
    try:
        st = stat_row(os.path.join(d, "stat.csv"))
    except (OSError, IndexError):
        st = {}  # SIPp stopped before writing statistics: counts print "?"
    out = {
        "created": st.get("TotalCallCreated", "?"),
        "ok": st.get("SuccessfulCall(C)", "?"),
        "failed": st.get("FailedCall(C)", "?"),
        "retrans": st.get("Retransmissions(C)", "?"),
        "sipp_rt_mean_ms": "%.0f" % hms_ms(st["ResponseTime1(C)"]) if "ResponseTime1(C)" in st else "?",
        "call_len_mean_ms": "%.0f" % hms_ms(st["CallLength(C)"]) if "CallLength(C)" in st else "?",
    }
    logs = glob.glob(os.path.join(d, "*_messages.log"))
    xs, invites = setup_times(logs[0]) if logs else ([], 0)
    out["invites"] = invites
    out["answered"] = len(xs)
    mean = sum(xs) / len(xs) if xs else float("nan")
    out["mean_ms"] = "%.2f" % mean
    for p in (50, 95, 99):
        out["p%d_ms" % p] = "%.2f" % pct(xs, p)
    out["max_ms"] = "%.2f" % (xs[-1] if xs else float("nan"))
    for k, v in out.items():
        print("%s=%s" % (k, v))


if __name__ == "__main__":
    main()
