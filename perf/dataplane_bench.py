#!/usr/bin/python3
"""Whole-data-plane benchmark: gm-dataplane on ONE worker lcore, fed by net_pcap with
infinite_rx (the same frames DPDK's ipsec-secgw anchor replays: shared/bench's
gen_pcap.py), writing to net_null. Prints Mpps, Gbps and cycles/packet per stage for
encrypt and decrypt, per transform, size (64/512/1420/imix) and ACL size (1/100/10000
ACEs), and writes JSON. --secgw also runs shared/bench/secgw-anchor/run.sh for the same
cells in the same sitting and prints the ratio.

  perf/dataplane_bench.py [--seconds 4] [--algos "aes-128-gcm aes-128-cbc-sha1 3des-cbc-sha1"]
      [--sizes "64 512 1420 imix"] [--dirs "encrypt decrypt"] [--aces "1 100 10000"]
      [--json perf/results/dataplane.json] [--secgw] [--reps 1] [--build build]
      [--baseline-build DIR]

With --reps N each cell is run N times; with --secgw, ours and secgw alternate within each
repetition (ours, secgw, ours, secgw, ...) and the reported ratio is the median of the
per-repetition ratios, so both see the same moments of a shared host. --baseline-build runs
a second gm-dataplane (an earlier commit's build) right after ours in each repetition,
against the same secgw run, for before/after ratios from one sitting. The load average
(os.getloadavg) is recorded before and after each cell.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tools"))
from labnet import free_hugepages  # noqa: E402
BENCH = os.path.join(TOP, "..", "shared", "bench")
GEN = os.path.join(BENCH, "secgw-anchor", "gen_pcap.py")
DP = None  # set from --build in main()
# The largest frame here is IMIX's 1518 bytes: 1504 IP bytes, ~1577 with ESP. 1600 keeps
# that from being fragmented before encryption and keeps DPDK's 2 KB mbufs; a jumbo MTU
# would size every mbuf for jumbo frames (~9.4 KB at 9000: --mtu 9000 to measure that).
MTU = 1600

# The keys and SPI gen_pcap.py uses for its ESP frames (secgw's SA 10).
KEYS = {
    "aes-128-gcm": ("aes-gcm-128", "2b7e151628aed2a6abf7158809cf4f3cdeadbeef", None),
    "aes-128-cbc-sha1": ("aes-cbc-128-sha1", "2b7e151628aed2a6abf7158809cf4f3c",
                         "0102030405060708090a0b0c0d0e0f1011121314"),
    "3des-cbc-sha1": ("3des-cbc-sha1", "0123456789abcdeff1e0d3c2b5a49786fedcba9876543210",
                      "0102030405060708090a0b0c0d0e0f1011121314"),
}
IMIX = [(64, 7), (594, 4), (1518, 1)]


def frames_pcap(tmp, algo, direction, size):
    out = os.path.join(tmp, "in-%s-%s-%s.pcap" % (algo, direction, size))
    if os.path.exists(out):
        return out
    if size != "imix":
        subprocess.run([sys.executable, GEN, "--algo", algo, "--dir", direction, "--size",
                        str(size), "-o", out], check=True, capture_output=True)
        return out
    from scapy.all import rdpcap, wrpcap
    parts = {s: rdpcap(frames_pcap(tmp, algo, direction, s)) for s, _ in IMIX}
    mix = []
    for i in range(256):
        for s, weight in IMIX:
            mix.extend([parts[s][i % len(parts[s])]] * weight)
    wrpcap(out, mix)
    return out


def config(tmp, algo, aces, direction):
    name, key, auth = KEYS[algo]
    lines = ["lan: {dev: %s, next_hop_mac: \"02:00:00:00:0a:01\"}" %
             ("net_pcap0" if direction == "encrypt" else "net_null0"),
             "wan: {dev: %s, next_hop_mac: \"02:00:00:00:0b:01\"}" %
             ("net_null1" if direction == "encrypt" else "net_pcap1"),
             "idle_backoff: false", "mtu: %d" % MTU, "static_group:", "  transform: %s" % name,
             "  spi: 10", "  key: \"%s\"" % key, "  replay: none", "  acl:"]
    if auth:
        lines.insert(-2, "  auth_key: \"%s\"" % auth)
    # aces-1 entries that never match the benchmark traffic, then the protect entry.
    for i in range(aces - 1):
        lines.append("    - deny udp host 192.0.%d.%d any" % (i // 250, 1 + i % 250))
    lines.append("    - permit ip any any")
    path = os.path.join(tmp, "gm-%s-%d-%s.yaml" % (algo, aces, direction))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return path


def memory_args():
    return ["-m", "512"] if free_hugepages() >= 256 else ["--no-huge", "-m", "1024"]


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def run_cell(tmp, algo, direction, size, aces, seconds, dp=None):
    pcap = frames_pcap(tmp, algo, direction, size)
    stats = os.path.join(tmp, "stats.json")
    if direction == "encrypt":
        ports = ["--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap,
                 "--vdev", "net_null1,no-rx=1"]
    else:
        ports = ["--vdev", "net_null0,no-rx=1",
                 "--vdev", "net_pcap1,rx_pcap=%s,infinite_rx=1" % pcap]
    cmd = [dp or DP, "-l", "0,1", "--no-pci", "--file-prefix", "gmbench%d" % os.getpid(),
           "--log-level=*:error"] + memory_args() + ports + [
        "--", "--config", config(tmp, algo, aces, direction), "--duration-s", str(seconds),
        "--stats-json", stats]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    if p.returncode != 0:
        raise SystemExit("gm-dataplane failed:\n" + p.stdout[-2000:] + p.stderr[-2000:])
    with open(stats) as f:
        st = json.load(f)
    sa = st["sas"][0]
    pkts = sa["encaps"] if direction == "encrypt" else sa["decaps"]
    drops = sum(sa["drops"].values()) + sum(st["lan"]["drops"].values()) + \
        sum(st["wan"]["drops"].values())
    from scapy.all import rdpcap
    frames = rdpcap(pcap)
    clear_sizes = [int(size)] * len(frames) if size != "imix" else None
    avg = (sum(len(f) for f in frames) / len(frames)) if clear_sizes is None else int(size)
    if size == "imix":
        avg = sum(s * w for s, w in IMIX) / sum(w for _, w in IMIX)
    mpps = pkts / st["elapsed_s"] / 1e6
    # Per second of the worker thread's own CPU time: leaves out the time a shared host's
    # scheduler gave to others (secgw's run.sh reports no equivalent).
    cpu_s = st.get("worker_cpu_s") or 0
    mpps_cpu = pkts / cpu_s / 1e6 if cpu_s > 0 else None
    cyc = {k: v / pkts for k, v in st["cycles"].items()} if pkts else {}
    return {"algo": algo, "dir": direction, "size": size, "aces": aces, "mpps": mpps,
            "mpps_per_cpu_s": mpps_cpu, "worker_cpu_s": cpu_s,
            "gbps": mpps * avg * 8 / 1e3, "pkts": pkts, "drops": drops,
            "cycles_per_pkt": sum(cyc.values()), "stage_cycles_per_pkt": cyc,
            "tsc_hz": st["tsc_hz"]}


def secgw(algo, direction, size):
    run = os.path.join(BENCH, "secgw-anchor", "run.sh")
    out = tempfile.mktemp(suffix=".json")
    subprocess.run(["bash", run, "-a", algo, "-x", direction, "-s", str(size), "-o", out],
                   check=True, capture_output=True, timeout=1800)
    with open(out) as f:
        rows = json.load(f)
    return max((r["mpps"] or 0) for r in rows)


def main():
    global DP, MTU
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--algos", default="aes-128-gcm aes-128-cbc-sha1 3des-cbc-sha1")
    ap.add_argument("--sizes", default="64 512 1420 imix")
    ap.add_argument("--dirs", default="encrypt decrypt")
    ap.add_argument("--aces", default="1 100 10000")
    ap.add_argument("--mtu", type=int, default=MTU, help="the data plane's mtu (sizes mbufs)")
    ap.add_argument("--json", default=os.path.join(HERE, "results", "dataplane.json"))
    ap.add_argument("--secgw", action="store_true")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--build", default=os.path.join(TOP, "build"),
                    help="meson build directory holding dataplane/gm-dataplane")
    ap.add_argument("--baseline-build", default=None,
                    help="a second build directory to run after ours in each repetition")
    a = ap.parse_args()
    base_dp = (os.path.join(os.path.abspath(a.baseline_build), "dataplane", "gm-dataplane")
               if a.baseline_build else None)
    MTU = a.mtu
    DP = os.path.join(os.path.abspath(a.build), "dataplane", "gm-dataplane")
    if not os.path.exists(GEN):
        raise SystemExit("needs %s (the shared bench generator)" % GEN)
    tmp = tempfile.mkdtemp(prefix="gm-dpbench-")
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                  if l.startswith("model name")), "?")
    print("gm-dataplane (%s), 1 worker lcore, net_pcap infinite_rx -> net_null: %s" % (DP, model))
    print("load average at start: %.2f %.2f %.2f" % os.getloadavg())
    hdr = "%-17s %-7s %5s %6s %8s %8s %9s  %s" % ("algo", "dir", "size", "ACEs", "Mpps", "Gbps",
                                                 "cyc/pkt", "per stage")
    print(hdr)
    results = []
    for algo in a.algos.split():
        for direction in a.dirs.split():
            for size in a.sizes.split():
                for aces in [int(x) for x in a.aces.split()]:
                    with_secgw = a.secgw and aces == int(a.aces.split()[0]) and size != "imix"
                    load_before = os.getloadavg()[0]
                    reps = []
                    for _ in range(a.reps):
                        rr = run_cell(tmp, algo, direction, size, aces, a.seconds)
                        if base_dp:
                            rb = run_cell(tmp, algo, direction, size, aces, a.seconds, base_dp)
                            rr["baseline_mpps"] = rb["mpps"]
                            rr["baseline_mpps_per_cpu_s"] = rb["mpps_per_cpu_s"]
                        if with_secgw:
                            rr["secgw_mpps"] = secgw(algo, direction, size)
                            rr["ratio_vs_secgw"] = (rr["mpps"] / rr["secgw_mpps"]
                                                    if rr["secgw_mpps"] else None)
                        reps.append(rr)
                    # The repetition with the median Mpps stands for the cell (its stage
                    # cycles are a consistent set); ratios are the median of per-rep ratios.
                    r = dict(sorted(reps, key=lambda x: x["mpps"])[len(reps) // 2])
                    r["mpps_reps"] = [x["mpps"] for x in reps]
                    if with_secgw:
                        ratios = [x["ratio_vs_secgw"] for x in reps if x["ratio_vs_secgw"]]
                        r["secgw_mpps_reps"] = [x["secgw_mpps"] for x in reps]
                        r["ratio_reps"] = ratios
                        r["ratio_vs_secgw"] = median(ratios) if ratios else None
                        r["secgw_mpps"] = median([x["secgw_mpps"] for x in reps])
                        # Load on a shared host only ever slows a run down, so the best
                        # run of each side is the other estimate of what it can do.
                        best_secgw = max(x["secgw_mpps"] or 0 for x in reps)
                        r["ratio_of_best"] = (max(x["mpps"] for x in reps) / best_secgw
                                              if best_secgw else None)
                        if base_dp:
                            r["baseline_ratio_of_best"] = (
                                max(x["baseline_mpps"] for x in reps) / best_secgw
                                if best_secgw else None)
                        if base_dp:
                            bratios = [x["baseline_mpps"] / x["secgw_mpps"] for x in reps
                                       if x["secgw_mpps"]]
                            r["baseline_ratio_reps"] = bratios
                            r["baseline_ratio_vs_secgw"] = median(bratios) if bratios else None
                    if base_dp:
                        r["baseline_mpps_reps"] = [x["baseline_mpps"] for x in reps]
                        r["ours_over_baseline"] = median(
                            [x["mpps"] / x["baseline_mpps"] for x in reps if x["baseline_mpps"]])
                        cpu = [x["mpps_per_cpu_s"] / x["baseline_mpps_per_cpu_s"] for x in reps
                               if x["mpps_per_cpu_s"] and x["baseline_mpps_per_cpu_s"]]
                        r["ours_over_baseline_per_cpu_s"] = median(cpu) if cpu else None
                    r["load_before"] = load_before
                    r["load_after"] = os.getloadavg()[0]
                    results.append(r)
                    stages = " ".join("%s=%.0f" % (k, v) for k, v in r["stage_cycles_per_pkt"].items()
                                      if v >= 0.5)
                    extra = ("  secgw %.2f Mpps, x%.2f" % (r["secgw_mpps"], r["ratio_vs_secgw"])
                             if "secgw_mpps" in r and r["ratio_vs_secgw"] else "")
                    if a.reps > 1 and "ratio_reps" in r:
                        extra += " [%s] best/best x%.2f" % (
                            " ".join("%.2f" % x for x in r["ratio_reps"]),
                            r["ratio_of_best"] or 0)
                    if base_dp and r.get("baseline_ratio_vs_secgw"):
                        extra += "  baseline x%.2f [%s] best/best x%.2f" % (
                            r["baseline_ratio_vs_secgw"],
                            " ".join("%.2f" % x for x in r["baseline_ratio_reps"]),
                            r["baseline_ratio_of_best"] or 0)
                    elif base_dp:
                        extra += "  ours/baseline %.2f" % r["ours_over_baseline"]
                    if base_dp and r.get("ours_over_baseline_per_cpu_s"):
                        extra += "  ours/baseline per CPU-s %.2f" % r["ours_over_baseline_per_cpu_s"]
                    if r.get("mpps_per_cpu_s"):
                        extra += "  %.2f Mpps/CPU-s" % r["mpps_per_cpu_s"]
                    extra += "  load %.1f/%.1f" % (r["load_before"], r["load_after"])
                    print("%-17s %-7s %5s %6d %8.2f %8.2f %9.0f  %s%s" % (
                        algo, direction, size, aces, r["mpps"], r["gbps"], r["cycles_per_pkt"],
                        stages, extra), flush=True)
    os.makedirs(os.path.dirname(a.json), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump({"cpu": model, "binary": DP, "baseline_binary": base_dp, "reps": a.reps,
                   "results": results}, f, indent=1)
    print("JSON: " + a.json)
    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
