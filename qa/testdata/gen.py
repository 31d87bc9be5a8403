# Turns the compact conversations into qa/testdata/<set>/NN.json.
# Block: "# name | agent | g v e p r c d" (1 pass, 0 fail) then lines
# "a|c|s start end text" (seconds).
import json, sys, os
KEYS = ["greeting", "verification", "empathy", "prohibited_language", "resolution", "closing", "dead_air"]
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
convs, cur = [], None
for line in open(src):
    line = line.rstrip("\n")
    if not line.strip():
        continue
    if line.startswith("#"):
        name, agent, labels = [x.strip() for x in line[1:].split("|")]
        cur = {"name": name, "agent": agent, "company": ["Northwind"], "labels": dict(zip(KEYS, [l == "1" for l in labels.split()])), "segments": []}
        assert len(labels.split()) == 7, line
        convs.append(cur)
        continue
    who, s, e, text = line.split(" ", 3)
    sp = {"a": "agent", "c": "caller", "s": "system"}[who]
    cur["segments"].append({"speaker": sp, "start_ms": int(float(s) * 1000), "end_ms": int(float(e) * 1000), "text": text})
for i, c in enumerate(convs, 1):
    with open(os.path.join(out, "%02d.json" % i), "w") as f:
        json.dump(c, f, indent=1)
print(len(convs), "conversations")
