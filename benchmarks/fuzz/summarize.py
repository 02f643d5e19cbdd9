#!/usr/bin/env python3
"""A campaign's summary for benchmarks/fuzz/: counts by kind and causes, seed, command, CPU flags, duration.

    date -u +%s > start; /usr/bin/time -v nice -n 10 python3 scripts/fuzz.py ... --out OUT > log 2>&1
    lscpu > lscpu.txt; python3 benchmarks/fuzz/summarize.py OUT/report.json log lscpu.txt "$(cat start)" SEED.json

Only counts and causes are kept (no cases, no reproducer paths).
"""

import datetime
import json
import re
import sys

report_path, time_log, lscpu_path, start, out = sys.argv[1:6]
r = json.load(open(report_path))
timing = open(time_log).read()


def field(name):
    m = re.search(rf"{re.escape(name)}: (.+)", timing)
    return m.group(1).strip() if m else None


lscpu = dict(line.split(":", 1) for line in open(lscpu_path).read().splitlines() if ":" in line)


def part(t):
    return {
        "cases": t["cases"],
        "failing_cases": t["failing_cases"],
        "seconds_in_cases": t["seconds"],
        "highest_peak_rss_gb": t["peak_rss_gb"],
        "kinds": t["kinds"],
        "causes": [{"cause": c["cause"], "count": c["count"]} for c in t["causes"]],
    }


summary = {
    "seed": r["seed"],
    "command": "nice -n 10 python3 " + r["command"],
    "target": r["target"].replace("/work/wt/fuzz", "branch fuzz"),
    "started_utc": datetime.datetime.fromtimestamp(int(start), datetime.timezone.utc).isoformat(),
    "wall_clock": field("Elapsed (wall clock) time (h:mm:ss or m:ss)"),
    "cpu_seconds": round(float(field("User time (seconds)")) + float(field("System time (seconds)")), 1),
    "machine": {
        "cpu": lscpu["Model name"].strip(),
        "cpus": int(lscpu["CPU(s)"]),
        "flags": lscpu["Flags"].split(),
        "load": "shared with a training process using both cores (load average 7-8 during the campaign)",
    },
    "limits": r["limits"],
    "seed_refusals": r["seed_refusals"],
    "api": part(r["api"]),
    "cli": part(r["cli"]),
}
json.dump(summary, open(out, "w"), indent=1)
open(out, "a").write("\n")
print(json.dumps({k: summary[k] for k in ("seed", "command", "wall_clock", "cpu_seconds")}))
