#!/usr/bin/env python3
"""Goals of bench/tiers over one or more tiers.csv files (a grid run in parts, or several runs).

    /usr/bin/python3 bench/tiers_report.py OUT1/tiers.csv [OUT2/tiers.csv ...]

Per model and cell: seam's p50 against the best single tier and the oracle (the best p50 of any
row measured in that cell). A cell measured in several files counts once, from the last file.
Cells in which a run failed are left out and counted.
"""
import csv
import math
import sys
from collections import OrderedDict

SINGLE = ("device_only", "edge_only", "cloud_raw", "cloud_zstd")


def main(paths):
    cells = OrderedDict()
    for path in paths:
        seen = {}
        with open(path) as f:
            for row in csv.DictReader(f):
                key = (row["model"], row["de_mbit"], row["de_rtt_ms"], row["ec_mbit"], row["ec_rtt_ms"])
                if key not in seen:
                    seen[key] = []
                seen[key].append(row)
        for key, rows in seen.items():
            cells[key] = rows
    lines, within_single, within_oracle, speedups, failed, counted = [], 0, 0, [], 0, 0
    for key, rows in cells.items():
        if any(r["status"] == "failed" for r in rows):
            failed += 1
            continue
        p50 = {r["strategy"]: float(r["p50_ms"]) for r in rows if r["status"] == "ok"}
        if "seam" not in p50:
            continue
        counted += 1
        seam = p50["seam"]
        single = min(p50[s] for s in SINGLE if s in p50)
        oracle_name, oracle = min(p50.items(), key=lambda kv: kv[1])
        vs_single, vs_oracle = seam / single, seam / oracle
        within_single += vs_single <= 1.02
        within_oracle += vs_oracle <= 1.05
        if "cloud_raw" in p50:
            speedups.append(p50["cloud_raw"] / seam)
        seam_nodes = next(r for r in rows if r["strategy"] == "seam")
        lines.append("%-10s de %5s Mbit/%3s ms ec %5s Mbit/%3s ms  seam %8.2f (%s/%s/%s)  single %8.2f"
                     "  oracle %8.2f (%s)  seam/single %.3f  seam/oracle %.3f" % (
                         key[0], key[1], key[2], key[3], key[4], seam, seam_nodes["device_nodes"],
                         seam_nodes["edge_nodes"], seam_nodes["cloud_nodes"], single, oracle,
                         oracle_name, vs_single, vs_oracle))
    print("\n".join(lines))
    if counted:
        print("\n%d cells: seam p50 <= 1.02x best single tier in %d (%.0f%%); within 5%% of the "
              "oracle in %d (%.0f%%); speedup over cloud-only raw: mean %.2fx, geomean %.2fx; "
              "%d cells left out (a failed run)" % (
                  counted, within_single, 100.0 * within_single / counted, within_oracle,
                  100.0 * within_oracle / counted, sum(speedups) / len(speedups),
                  math.exp(sum(math.log(s) for s in speedups) / len(speedups)), failed))


if __name__ == "__main__":
    main(sys.argv[1:])
