#!/usr/bin/python3
# Alternating A/B of gm-dataplane builds on one cell; prints per-run Mpps, Mpps/CPU-s, stage cycles.
import sys, os, tempfile
sys.path.insert(0, "/work/main/perf")
import dataplane_bench as b
algo, direction, size, reps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
builds = sys.argv[5:]
tmp = tempfile.mkdtemp(prefix="r3ab-")
print("load %.2f %.2f %.2f" % os.getloadavg(), flush=True)
for r in range(reps):
    for bd in builds:
        dp = os.path.join(bd, "dataplane", "gm-dataplane")
        x = b.run_cell(tmp, algo, direction, size, 1, 3, dp)
        st = " ".join("%s=%.0f" % (k, v) for k, v in x["stage_cycles_per_pkt"].items() if v >= .5)
        print("%-45s %s %5s  %6.2f Mpps %6.2f Mpps/CPU-s  cyc %4.0f  %s  load %.2f" % (
            bd[-45:], direction, size, x["mpps"], x["mpps_per_cpu_s"] or 0, x["cycles_per_pkt"], st,
            os.getloadavg()[0]), flush=True)
os.system("rm -rf " + tmp)
