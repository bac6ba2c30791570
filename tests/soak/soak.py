#!/usr/bin/python3
"""Soak test: the whole system (gm-ks, gm-control and gm-dataplane on both GMs) under
continuous numbered UDP traffic both ways while the KS rekeys the TEK every few seconds
(SIGUSR1) and the KEK every minute (SIGUSR2), replaces the policy (`--reload-every`: the
KS config gains or loses a subnet pair and gm-ks re-reads it on SIGHUP, which sends the new
ACL in a TEK rekey), and fails over (`--failover-at`: a second gm-ks follows the first
one's keys through the shared state file; the first is killed with SIGKILL and the second
takes over and rekeys from then on).

At the end it asserts: no datagram lost, duplicated or corrupted; each data plane's
counters add up (everything received was sent on or counted as a drop; each LAN port saw
exactly what its host sent; each host got exactly what its GM delivered); every rekey the
KS sent was ACKed by both GMs, none missed; the RSS and open file descriptors of every
process did not grow beyond a small bound after warm-up. It prints a summary and writes
every figure (with the periodic samples) as JSON.

  tests/soak/soak.py [--minutes N] [--build DIR] [--json OUT] [--rate PPS]
                     [--tek-every S] [--kek-every S] [--reload-every S] [--failover-at F]

Exit 77 (skipped) without 2 MB hugepages (gm-control is a DPDK secondary process) or root.
"""
import argparse
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soaklab import (SKIP, Failed, SoakLab, check_conservation, counters_delta, expect,  # noqa: E402
                     free_hugepages, say)

RSS_GROWTH_KB = 2048  # after warm-up, per process
FD_GROWTH = 2


def ks_members(sl):
    """{member address: KS counters} from the active KS's `show crypto gdoi ks members`
    (JSON)."""
    j = sl.gmctl(sl.active_ks, "show", "crypto", "gdoi", "ks", "members", as_json=True)
    return {m["addr"]: m for g in (j or {}).get("groups", []) for m in g.get("members", [])}


def gm_rekey(sl, gm):
    """The GM's own rekey counters (`show crypto gdoi gm rekey`, JSON)."""
    j = sl.gmctl(gm, "show", "crypto", "gdoi", "gm", "rekey", as_json=True) or {}
    return (j.get("groups") or [{}])[0]


def growth(samples, warm_index, key):
    """{process: (value after warm-up, value at the end, largest value after warm-up)}.
    Both ends are the least of three samples: a leak stays, a transient (a CLI or
    telemetry connection being closed) does not."""
    out = {}
    for name in samples[warm_index]["procs"]:
        vals = [s["procs"].get(name) for s in samples[warm_index:]]
        vals = [v[key] for v in vals if v]
        if len(vals) >= 3:
            out[name] = (min(vals[:3]), min(vals[-3:]), max(vals))
    return out


def gm_acl_lines(sl, gm):
    """How many KS ACEs the GM holds (`show crypto gdoi`, JSON)."""
    j = sl.gmctl(gm, "show", "crypto", "gdoi", as_json=True) or {}
    return len(((j.get("groups") or [{}])[0]).get("ks_acl", []))


def soak(sl, a, report):
    duration = a.minutes * 60
    say("== soak: %.0f s, %d datagrams/s each way, TEK rekey every %d s, KEK rekey every %d s, "
        "policy replaced every %s, KS failover %s"
        % (duration, a.rate, a.tek_every, a.kek_every,
           ("%d s" % a.reload_every) if a.reload_every else "(off)",
           ("at %.0f s" % (a.failover_at * duration)) if a.failover_at else "(off)"))
    sl.up()
    members_before = ks_members(sl)
    gm_before = {gm: gm_rekey(sl, gm) for gm in ("gA", "gB")}
    dp_before = {gm: sl.dp_counters(gm) for gm in ("gA", "gB")}
    samples = [sl.sample()]
    sl.start_flows(duration, a.rate)
    t0 = time.monotonic()
    next_tek = t0 + a.tek_every
    # The first KEK rekey comes half a TEK period off the TEK rekeys (a newer rekey must not
    # supersede one still waiting for its ACK), and early enough for a short run to have one.
    # (gm-ks counts an older rekey as missed when a newer one goes out before its ACK came,
    # even if the ACK is on its way: seen when both were signalled in the same 50 ms.)
    next_kek = t0 + (int(min(a.kek_every, duration / 2) / a.tek_every) + 0.5) * a.tek_every
    next_sample = t0 + a.sample_every
    # Policy replacements a quarter period off the TEK rekeys, the failover three quarters
    # off (each rekey has had its ACKs by then).
    reload_every = max(1, round(a.reload_every / a.tek_every)) * a.tek_every if a.reload_every else 0
    next_reload = t0 + reload_every + 0.25 * a.tek_every if reload_every else float("inf")
    failover_at = (t0 + (int(a.failover_at * duration / a.tek_every) + 0.75) * a.tek_every
                   if a.failover_at else float("inf"))
    teks = keks = reloads = 0
    acl_expected = None
    members_mid = {}  # the first KS's member counters just before it was killed
    last_rekey_at = t0 + duration - max(a.tek_every, 5)  # every rekey settles before the end

    def realign(t, every, offset):
        """The next time after now on the grid t0 + k * every + offset."""
        k = int((time.monotonic() - t0 - offset) / every) + 1
        return t0 + k * every + offset

    while time.monotonic() < t0 + duration:
        now = time.monotonic()
        if now >= next_tek and now < last_rekey_at:
            sl.signal_ks(signal.SIGUSR1)
            teks += 1
            next_tek += a.tek_every
        if now >= next_kek and now < last_rekey_at:
            sl.signal_ks(signal.SIGUSR2)
            keks += 1
            next_kek += a.kek_every
        if now >= next_reload and now < last_rekey_at:
            acl_expected = sl.reload_policy()
            reloads += 1
            next_reload += reload_every
            say("   t=%4.0fs  policy replaced: the KS ACL now has %d ACEs" % (now - t0, acl_expected))
        if now >= failover_at and now < last_rekey_at:
            members_mid = ks_members(sl)
            took = sl.failover()
            report["failover"] = {"at_s": round(now - t0, 1), "takeover_s": round(took, 1)}
            say("   t=%4.0fs  KS failover: the first KS killed; the second took over in %.1f s"
                % (now - t0, took))
            failover_at = float("inf")
            # No rekeys while no KS was active: go on from the next grid points.
            next_tek = realign(next_tek, a.tek_every, 0)
            next_kek = realign(next_kek, a.kek_every, (next_kek - t0) % a.kek_every)
            if reload_every:
                next_reload = realign(next_reload, reload_every, 0.25 * a.tek_every)
        if now >= next_sample:
            samples.append(sl.sample())
            next_sample += a.sample_every
            s = samples[-1]
            say("   t=%4.0fs  sent %s  rekeys TEK %d KEK %d  RSS kB %s" % (
                now - t0, {gm: s["dp"][gm].get("lan_rx", 0) - dp_before[gm]["lan_rx"] for gm in s["dp"]},
                teks, keks, {n: (v or {}).get("rss_kb") for n, v in s["procs"].items()}))
        time.sleep(0.05)
    flows = sl.finish_flows(timeout=60)
    time.sleep(2)  # the data planes publish their counters to telemetry about once a second
    dp_after = {gm: sl.dp_counters(gm) for gm in ("gA", "gB")}
    samples.append(sl.sample())
    members_after = ks_members(sl)
    gm_after = {gm: gm_rekey(sl, gm) for gm in ("gA", "gB")}
    acl_after = {gm: gm_acl_lines(sl, gm) for gm in ("gA", "gB")}
    dp_delta = {gm: counters_delta(dp_before[gm], dp_after[gm]) for gm in ("gA", "gB")}

    report.update({"duration_s": duration, "rate_pps_each_way": a.rate,
                   "tek_rekeys": teks, "kek_rekeys": keks, "policy_replacements": reloads,
                   "flows": flows, "gm_acl_lines_end": acl_after,
                   "dataplane_delta": dp_delta, "ks_members_before": members_before,
                   "ks_members_after": members_after, "gm_rekey_before": gm_before,
                   "gm_rekey_after": gm_after, "samples": samples})

    say("\n== traffic")
    for d, f in flows.items():
        say("   %s: sent %d, received %d (unique %d), lost %d %s, duplicated %d, late %d, "
            "corrupt %d" % (d, f["sent"], f["received"], f["unique"], f["lost"],
                            f["lost_windows_s"][:5], f["duplicates"], f["reordered"], f["corrupt"]))
    for d, f in flows.items():
        expect(f["sent"] > 0.95 * a.rate * duration and f["send_errors"] == 0,
               "%s: the sender kept its rate (%d of %d)" % (d, f["sent"], int(a.rate * duration)))
        expect(f["lost"] == 0 and f["duplicates"] == 0 and f["corrupt"] == 0,
               "%s: nothing lost, duplicated or corrupted" % d)
    say("\n== data-plane counters (delta over the run)")
    for gm, d in dp_delta.items():
        say("   %s: %s" % (gm, {k: v for k, v in d.items() if k != "drops_by_reason"}))
    check_conservation(flows, dp_delta)

    total = teks + keks + reloads
    say("\n== rekeys: %d TEK + %d KEK sent by SIGUSR1/SIGUSR2, %d TEK rekeys by policy "
        "replacements%s" % (teks, keks, reloads,
                            ", across a KS failover" if "failover" in report else ""))
    keys = ("rekeys_sent", "acks_received", "acks_missed", "rekey_retries")
    for addr in sorted(set(members_after) | set(members_mid)):
        # After a failover: the first KS's counts up to its death, plus the second's own.
        b = members_before.get(addr, {})
        if "failover" in report:
            mid = members_mid.get(addr, {})
            delta = {k: mid.get(k, 0) - b.get(k, 0) + members_after.get(addr, {}).get(k, 0)
                     for k in keys}
        else:
            delta = {k: members_after.get(addr, {}).get(k, 0) - b.get(k, 0) for k in keys}
        say("   KS member %s: %s" % (addr, delta))
        expect(delta["rekeys_sent"] >= total and delta["acks_received"] == delta["rekeys_sent"]
               and delta["acks_missed"] == 0,
               "%s: every rekey ACKed (%d sent, %d ACKs, %d missed)" % (
                   addr, delta["rekeys_sent"], delta["acks_received"], delta["acks_missed"]))
    expect(len(members_after) == 2, "the %s KS has both GMs as members" % (
        "second" if "failover" in report else "first"))
    for gm in ("gA", "gB"):
        got = {k: gm_after[gm].get(k, 0) - gm_before[gm].get(k, 0)
               for k in ("rekeys_total", "rekey_acks_sent")}
        expect(got["rekeys_total"] == total and got["rekey_acks_sent"] == total,
               "%s: received and ACKed every rekey (%d received, %d ACKs sent)" % (
                   gm, got["rekeys_total"], got["rekey_acks_sent"]))
    if acl_expected is not None:
        for gm in ("gA", "gB"):
            expect(acl_after[gm] == acl_expected,
                   "%s holds the last policy the KS sent (%d ACEs, expected %d)" % (
                       gm, acl_after[gm], acl_expected))

    # Warm-up: the data planes' RSS climbs by some MB in the first seconds of traffic as
    # pages (the AF_PACKET rings among them) are touched for the first time.
    warm_s = max(a.warmup_s, a.warmup * duration)
    say("\n== resources (warm-up: the first %.0f s)" % warm_s)
    warm = next((i for i, s in enumerate(samples) if s["t"] - t0 >= warm_s), len(samples) - 1)
    warm = min(warm, max(0, len(samples) - 3))
    rss = growth(samples, warm, "rss_kb")
    fds = growth(samples, warm, "fds")
    report["warmup_s"] = warm_s
    report["rss_kb"] = {n: {"start": samples[0]["procs"][n]["rss_kb"], "after_warmup": v[0],
                            "end": v[1], "max": v[2]} for n, v in rss.items()}
    report["fds"] = {n: {"start": samples[0]["procs"][n]["fds"], "after_warmup": v[0], "end": v[1],
                         "max": v[2]} for n, v in fds.items()}
    for n in rss:
        say("   %-20s RSS %6d -> %6d kB (max %d), fds %d -> %d (max %d)" % (
            n, rss[n][0], rss[n][1], rss[n][2], fds[n][0], fds[n][1], fds[n][2]))
    for n in rss:
        expect(rss[n][1] - rss[n][0] <= RSS_GROWTH_KB and fds[n][1] - fds[n][0] <= FD_GROWTH,
               "%s: RSS grew %d kB (bound %d), fds %+d (bound %d) after warm-up" % (
                   n, rss[n][1] - rss[n][0], RSS_GROWTH_KB, fds[n][1] - fds[n][0], FD_GROWTH))
    mp = samples[-1]["mempools"]
    report["mempools_end"] = mp
    say("   mempools and ethdev counters at the end: %s" % json.dumps(mp))
    for gm, pools in mp.items():
        for name, v in pools.items():
            if name.startswith("port"):
                expect(v["rx_nombuf"] == 0 and v["imissed"] == 0 and v["ierrors"] == 0,
                       "%s %s: no receive failed for want of mbufs (rx_nombuf %d, imissed %d, "
                       "ierrors %d)" % (gm, name, v["rx_nombuf"], v["imissed"], v["ierrors"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=1.25)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                    "..", "..", "build"))
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--rate", type=int, default=200, help="datagrams per second, each way")
    ap.add_argument("--tek-every", type=float, default=5)
    ap.add_argument("--kek-every", type=float, default=60)
    ap.add_argument("--reload-every", type=float, default=0,
                    help="replace the KS policy this often (s; 0: never)")
    ap.add_argument("--failover-at", type=float, default=0,
                    help="kill the KS at this fraction of the run; a second KS takes over "
                         "(0: one KS, no failover)")
    ap.add_argument("--sample-every", type=float, default=5)
    ap.add_argument("--warmup", type=float, default=0.2, help="fraction of the run")
    ap.add_argument("--warmup-s", type=float, default=30, help="at least this long")
    a = ap.parse_args()
    if os.geteuid() != 0:
        say("skipped: network namespaces need root")
        return SKIP
    if free_hugepages() < 256:
        say("skipped: gm-control attaches as a DPDK secondary process; it needs 2 MB hugepages "
            "(tools/setup --hugepages 512)")
        return SKIP
    # TEK lifetime 120 s: with a rekey every few seconds the GMs hold about 120 / tek_every
    # TEKs at a time, under the data plane's 64 SA slots. Not 60 s: gm-control re-registers
    # timers.reregister_before (60 s) before the newest TEK expires, which for a 60 s TEK is
    # at once, after every registration (a registration storm; docs/soak-and-faults.md).
    sl = SoakLab(a.build, tek_lifetime=120, redundancy=a.failover_at > 0)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    report = {"test": "soak", "passed": False}
    rc = 0
    started = time.time()
    try:
        soak(sl, a, report)
        report["passed"] = True
        say("\n== soak passed")
    except Failed as e:
        report["failure"] = str(e)
        rc = 1
    except KeyboardInterrupt:
        rc = 130
    finally:
        logs, outs = sl.down()
        if rc != 0:
            for name, text in logs.items():
                say("--- %s log (tail) ---\n%s" % (name, text[-2000:]))
        report["wall_s"] = round(time.time() - started, 1)
        if a.json:
            with open(a.json, "w") as f:
                json.dump(report, f, indent=1)
        say("== lab torn down")
    return rc


if __name__ == "__main__":
    sys.exit(main())
