#!/usr/bin/env python3
"""relay_report.py WORKDIR: the table of bench/relay.sh.

Reads the "result key=value ..." lines bench/cmd/rtpload printed for each
relay (contactd.out, rtpengine.out, direct.out) and prints, per step, the
figures side by side with the ratio contactd / rtpengine, then where
contactd's limit was. Exits 1 if contactd had no usable step.
"""
import math
import os
import sys

LOSS_GOAL = 0.001   # < 0.1 % loss
P99_GOAL_MS = 20.0  # added latency p99


def load(path):
    steps, extra = {}, {}
    if not os.path.exists(path):
        return steps, extra
    for line in open(path):
        f = line.split()
        if not f:
            continue
        kv = dict(x.split("=", 1) for x in f[1:] if "=" in x)
        if f[0] == "result":
            steps[int(kv["calls"])] = kv
        else:
            kv.pop("relay", None)
            extra.update(kv)
    return steps, extra


def num(d, k):
    if k == "dropped":  # packets the relay did not pass on (re-clocking relays
        v = num(d, "delivered")  # renumber, so sequence gaps miss these)
        return None if v is None else max(0.0, 1 - v)
    if k == "loss":  # the loss the goal is about: the worse of the two
        a, b = num(d, "loss_seq"), num(d, "dropped")
        return None if a is None or b is None else max(a, b)
    try:
        v = float(d[k])
        return v if not math.isnan(v) else None
    except (KeyError, TypeError, ValueError):
        return None


def fmt(v, prec=2):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return ("%." + str(prec) + "f") % v


def ratio(a, b):
    if a is None or b is None or b == 0:
        return ""
    return "%.2f" % (a / b)


def main():
    work = sys.argv[1]
    cd, cd_extra = load(os.path.join(work, "contactd.out"))
    re_, re_extra = load(os.path.join(work, "rtpengine.out"))
    di, _ = load(os.path.join(work, "direct.out"))
    steps = sorted(set(cd) | set(re_))
    print("== 3/4. Bridged G.711 calls with recording, 20 ms PCMU both ways (127.0.0.1):"
          " contactd vs rtpengine (userspace, pcap recording)")
    rows = [
        ("calls bridged", "ok", 0, False),
        ("relay CPU, cores", "cpu_cores", 3, False),
        ("CPU % of a core per call", "cpu_pct_per_call", 3, True),
        ("RSS MiB (mean in window)", "rss_mib", 1, False),
        ("RSS KiB per call", "rss_kib_per_call", 0, True),
        ("packets relayed /s", "relayed_pps", 0, False),
        ("packets /s per core", "pps_per_core", 0, True),
        ("loss: sequence gaps", "loss_seq", 5, False),
        ("loss: packets out short of in", "dropped", 5, False),
        ("loss: tone bursts not heard", "marker_loss", 5, False),
        ("latency p50 ms", "lat_p50_ms", 2, True),
        ("latency p99 ms", "lat_p99_ms", 2, True),
        ("latency max ms", "lat_max_ms", 1, False),
        ("  caller->agent p50/p99", ("lat_up_p50_ms", "lat_up_p99_ms"), 1, False),
        ("  agent->caller p50/p99", ("lat_down_p50_ms", "lat_down_p99_ms"), 1, False),
        ("load tool CPU, cores", "tool_cpu_cores", 2, False),
        ("  its sends late p50/p99 ms", ("send_late_p50_ms", "send_late_p99_ms"), 1, False),
        ("machine busy % (all processes)", "machine_busy_pct", 0, False),
        ("CPU stolen by the host %", "steal_pct", 0, False),
    ]
    for n in steps:
        a, b, d = cd.get(n, {}), re_.get(n, {}), di.get(n, {})
        print()
        print("-- %d concurrent calls (window %s s)" % (n, a.get("window_s", b.get("window_s", "?"))))
        print("%-28s %12s %12s %8s" % ("", "contactd", "rtpengine", "ratio"))
        for label, key, prec, with_ratio in rows:
            if isinstance(key, tuple):
                va = "%s/%s" % (fmt(num(a, key[0]), prec), fmt(num(a, key[1]), prec)) if a else "-"
                vb = "%s/%s" % (fmt(num(b, key[0]), prec), fmt(num(b, key[1]), prec)) if b else "-"
                print("%-28s %12s %12s" % (label, va, vb))
                continue
            va, vb = num(a, key), num(b, key)
            print("%-28s %12s %12s %8s" % (label, fmt(va, prec), fmt(vb, prec),
                                           ratio(va, vb) if with_ratio else ""))
        if d:
            dp50, dp99 = num(d, "lat_p50_ms"), num(d, "lat_p99_ms")
            added = []
            for name, s in (("contactd", a), ("rtpengine", b)):
                p50, p99 = num(s, "lat_p50_ms"), num(s, "lat_p99_ms")
                if p50 is not None and dp50 is not None:
                    added.append("%s +%.2f/+%.2f" % (name, p50 - dp50, p99 - dp99))
            print("direct loopback p50/p99 ms   %s/%s; added by the relay (p50/p99 minus direct): %s"
                  % (fmt(dp50), fmt(dp99), ", ".join(added)))
    print()
    if cd_extra:
        print("contactd after the ramp: " + " ".join("%s=%s" % kv for kv in cd_extra.items()))
    if re_extra:
        print("rtpengine after the ramp: " + " ".join("%s=%s" % kv for kv in re_extra.items()))
    if not cd:
        return 0 if not os.path.exists(os.path.join(work, "contactd.out")) else 1
    good = [n for n in sorted(cd) if num(cd[n], "loss") is not None
            and num(cd[n], "loss") < LOSS_GOAL and num(cd[n], "ok") == n]
    lat_ok = [n for n in good if (num(cd[n], "lat_p99_ms") or 1e9) <= P99_GOAL_MS]
    print("contactd: largest step with every call bridged and loss (the worse of sequence gaps and"
          " packets out short of in) < %.1f %%: %s; "
          "of those with latency p99 <= %.0f ms: %s"
          % (100 * LOSS_GOAL, good[-1] if good else "none", P99_GOAL_MS, lat_ok[-1] if lat_ok else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
