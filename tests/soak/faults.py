#!/usr/bin/python3
"""Fault injection on the whole system (the lab of tools/labnet.py: gm-ks, gm-control and
gm-dataplane on two GMs), each with numbered UDP traffic flowing both ways, so every
datagram is accounted for: sent, received, or counted as dropped by a data plane.

  tests/soak/faults.py --build DIR [--json OUT] [FAULT ...]
  faults: control_kill ks_unreachable ks_restart wan_netem wallclock (default: all)

Each fault is a function below; its docstring states the expected outcome, which the
function asserts. Exit 0: all passed; 1: a failure; 77: every fault asked for was skipped
(no hugepages or no root).
"""
import argparse
import json
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soaklab import (SKIP, Failed, SoakLab, check_conservation, counters_delta, expect,  # noqa: E402
                     free_hugepages, lost_between, say, sh)

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RATE = 200


class Skipped(Exception):
    pass


def gdoi(sl, gm):
    """`show crypto gdoi` (JSON) of one GM: its group."""
    j = sl.gmctl(gm, "show", "crypto", "gdoi", as_json=True) or {}
    return (j.get("groups") or [{}])[0]


def wait(cond, timeout, step=0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()


def flows_report(flows):
    for d, f in flows.items():
        say("   %s: sent %d, received %d, lost %d in %s, duplicated %d, late %d, corrupt %d" % (
            d, f["sent"], f["received"], f["lost"], f["lost_windows_s"][:4], f["duplicates"],
            f["reordered"], f["corrupt"]))


def settle_and_delta(sl, before):
    time.sleep(2)  # the data planes publish counters to telemetry about once a second
    after = {gm: sl.dp_counters(gm) for gm in ("gA", "gB")}
    return {gm: counters_delta(before[gm], after[gm]) for gm in ("gA", "gB")}


def with_lab(fn):
    """Runs fault `fn` on a fresh, registered lab and always tears the lab down."""
    def run(build, report):
        sl = SoakLab(build, tek_lifetime=600)
        try:
            sl.up(wan_hop=getattr(run, "wan_hop", False))
            fn(sl, report)
        except Failed:
            report["passed"] = False
            raise
        finally:
            logs, _ = sl.down()
            if report.get("passed") is False:
                for name, text in logs.items():
                    say("--- %s log (tail) ---\n%s" % (name, text[-2500:]))
    run.__doc__ = fn.__doc__
    run.__name__ = fn.__name__
    return run


@with_lab
def control_kill(sl, report):
    """kill -9 gm-control on gA while traffic flows.

    Expected: gA's data plane keeps forwarding with the SAs it holds (gm-control is only its
    control process): no datagram lost either way. A new gm-control with the same config
    attaches to the data plane, registers with the KS again (Main Mode + GROUPKEY-PULL),
    adopts the TEK the data plane still holds (the data plane answers EEXIST; nothing is
    reinstalled, nothing dropped) and takes over: the next KS rekey is received and ACKed
    by the new process and traffic moves to the new SPI, still with nothing lost."""
    before = {gm: sl.dp_counters(gm) for gm in ("gA", "gB")}
    spis_before = set(sl.sas("gA"))
    sl.start_flows(24, RATE)
    time.sleep(3)
    rc = sl.kill("ctlgA", signal.SIGKILL)
    t_kill = time.monotonic()
    expect(rc == -signal.SIGKILL, "gm-control on gA killed with SIGKILL")
    time.sleep(4)
    expect(sl.lab.gms["gA"][0].poll() is None and set(sl.sas("gA")) == spis_before,
           "gA's data plane still runs and holds its SAs %s" % sorted(spis_before))
    sl.lab.start_control("gA", sl.bindir, sl.workdir)
    t_restart = time.monotonic()
    ok = wait(lambda: gdoi(sl, "gA").get("registration") == "registered", 20)
    t_reg = time.monotonic()
    expect(ok, "the new gm-control registered again in %.1f s" % (t_reg - t_restart))
    expect(set(sl.sas("gA")) == spis_before,
           "it adopted the TEK the data plane held (SPIs unchanged: %s)" % sorted(spis_before))
    sl.signal_ks(signal.SIGUSR1)
    ok = wait(lambda: len(set(sl.sas("gA")) - spis_before) == 1 and
              gdoi(sl, "gA").get("rekey_acks_sent", 0) >= 1, 10)
    expect(ok, "the new gm-control received the next TEK rekey and ACKed it")
    flows = sl.finish_flows(timeout=40)
    new = (set(sl.sas("gA")) - spis_before).pop()
    delta = settle_and_delta(sl, before)
    flows_report(flows)
    report.update({"flows": flows, "dataplane_delta": delta,
                   "control_down_s": round(t_restart - t_kill, 2),
                   "reregistration_s": round(t_reg - t_restart, 2)})
    for d, f in flows.items():
        expect(f["lost"] == 0 and f["duplicates"] == 0 and f["corrupt"] == 0,
               "%s: nothing lost, duplicated or corrupted across the kill and the takeover" % d)
    expect(sl.sas("gA")[new]["pkts_encaps"] > 0, "traffic now leaves gA on the new SPI %s" % new)
    check_conservation(flows, delta)


@with_lab
def ks_unreachable(sl, report):
    """The KS becomes unreachable (its bridge goes down: every datagram to or from UDP 848
    is lost, as with a firewall rule; this machine has no nft/iptables binary), then comes
    back.

    Expected: (1) while nothing needs the KS both GMs keep forwarding on their SAs: nothing
    lost. (2) `clear crypto gdoi` on gA during the outage drops gA's SAs and policy and
    starts a registration that cannot complete: gm-control retransmits (timers.retransmit,
    doubling, timers.retransmit_count times), gives up on the KS (%GDOI-4-GM_KS_UNREACHABLE
    in its log) and waits timers.retry_all (10 s) before starting over, without a tight loop; `show crypto gdoi`
    says it is not registered. Traffic through gA is lost from the clear until gA has
    keys again, and every such datagram is counted as a drop by a data plane. (3) When the
    KS is reachable again gA registers at its next attempt by itself (we do not clear
    again) and traffic flows with nothing lost."""
    ks = sl.lab.ns["ks"]
    before = {gm: sl.dp_counters(gm) for gm in ("gA", "gB")}
    sl.start_flows(44, RATE)
    time.sleep(2)
    sh("ip", "link", "set", "br0", "down", ns=ks)
    t_down = time.monotonic()
    time.sleep(5)
    phase1_end = time.monotonic()
    rc, _ = sl.gmctl("gA", "clear", "crypto", "gdoi")
    t_clear = time.monotonic()
    expect(rc == 0, "clear crypto gdoi on gA (KS unreachable)")
    time.sleep(15)
    g = gdoi(sl, "gA")
    attempts_during = g.get("attempted_registrations", 0)
    expect(g.get("registration") != "registered" and not sl.sas("gA"),
           "15 s into the outage gA is not registered (%s) and holds no SA" % g.get("registration"))
    sh("ip", "link", "set", "br0", "up", ns=ks)
    t_up = time.monotonic()
    ok = wait(lambda: bool(sl.sas("gA")), 30)
    t_back = time.monotonic()
    expect(ok, "gA registered again by itself %.1f s after the KS came back" % (t_back - t_up))
    g = gdoi(sl, "gA")
    flows = sl.finish_flows(timeout=60)
    delta = settle_and_delta(sl, before)
    flows_report(flows)
    with open(sl.lab.procs["ctlgA"][1]) as f:
        log = f.read()
    tries = [l for l in log.splitlines() if "UNREACH" in l or "CLEAR" in l or "REGS_COMPL" in l]
    say("\n".join("   | " + l for l in tries[-8:]))
    report.update({"flows": flows, "dataplane_delta": delta,
                   "outage_s": round(t_up - t_down, 2), "clear_to_keys_s": round(t_back - t_clear, 2),
                   "ks_back_to_keys_s": round(t_back - t_up, 2),
                   "attempts_during_outage": attempts_during,
                   "attempted_registrations": g.get("attempted_registrations"),
                   "lost_before_clear": sum(lost_between(f, t_down, phase1_end) for f in flows.values())})
    expect(report["lost_before_clear"] == 0, "nothing lost during the outage before the clear")
    # retry_all is 10 s: at most a handful of attempts in 15 s; a loop would make hundreds.
    expect(1 <= attempts_during <= 5, "back-off, not a loop: %d registration attempts in the 15 s "
           "after the clear" % attempts_during)
    expect(any("GM_KS_UNREACHABLE" in l for l in tries),
           "gm-control logged %GDOI-4-GM_KS_UNREACHABLE after its retransmissions")
    for d, f in flows.items():
        late = f["lost"] - lost_between(f, t_clear - 0.1, t_back + 3)
        expect(late == 0 and f["corrupt"] == 0 and f["duplicates"] == 0,
               "%s: %d lost, all between the clear and gA's new keys (%.1f s); none outside"
               % (d, f["lost"], t_back - t_clear))
    check_conservation(flows, delta)


@with_lab
def ks_restart(sl, report):
    """The KS restarts with new keys: gm-ks is stopped and started again with a new RSA key;
    it makes a new KEK and TEK and its pseudotime starts again at 0, and it knows no
    members.

    Expected: the GMs notice nothing: they keep the old TEK (nothing lost) until they
    register again, and the new KS sends them no rekeys (they are not its members). After
    `clear crypto gdoi` on gA and then on gB, both register with the new KS and move to its
    TEK. Between the two clears the GMs hold different TEKs, so traffic is lost in that
    window (measured), every datagram counted as a drop by a data plane; after both have
    the new TEK nothing is lost. The new KS's pseudotime is far behind the GMs': the data
    plane does not step back more than the TBAR window (tbar/pseudotime.h), so TBAR drops
    nothing."""
    before = {gm: sl.dp_counters(gm) for gm in ("gA", "gB")}
    old = {gm: set(sl.sas(gm)) for gm in ("gA", "gB")}
    sl.start_flows(30, RATE)
    time.sleep(2)
    sl.kill("ks", signal.SIGTERM)
    os.unlink(os.path.join(sl.workdir, "ks-rsa.pem"))
    t_restart = time.monotonic()
    sl.lab.start_ks(sl.bindir, sl.workdir, tek_lifetime=600)
    time.sleep(6)
    expect(all(set(sl.sas(gm)) == old[gm] for gm in ("gA", "gB")),
           "6 s after the KS restarted both GMs still hold (and use) the old TEK")
    t_clear = time.monotonic()
    for gm in ("gA", "gB"):
        rc, _ = sl.gmctl(gm, "clear", "crypto", "gdoi")
        expect(rc == 0, "clear crypto gdoi on %s" % gm)
    t_cleared = time.monotonic()
    ok = wait(lambda: all(sl.sas(gm) and not set(sl.sas(gm)) & old[gm] for gm in ("gA", "gB")), 20,
              0.05)
    t_keys = time.monotonic()
    expect(ok, "both GMs registered with the new KS and hold only its TEK, %.2f s after the first "
           "clear" % (t_keys - t_clear))
    flows = sl.finish_flows(timeout=60)
    delta = settle_and_delta(sl, before)
    flows_report(flows)
    replay = {gm: sl.lab.telemetry(gm, "/gm/replay") for gm in ("gA", "gB")}
    logs = {}
    for gm in ("gA", "gB"):
        with open(sl.lab.procs["ctl" + gm][1]) as f:
            logs[gm] = [l for l in f.read().splitlines() if "PSEUDO_TIME" in l]
    say("   pseudotime messages: %s" % logs)
    lost_window = sum(lost_between(f, t_clear - 0.1, t_keys + 0.5) for f in flows.values())
    lost_total = sum(f["lost"] for f in flows.values())
    report.update({"flows": flows, "dataplane_delta": delta, "replay": replay,
                   "ks_down_to_clear_s": round(t_clear - t_restart, 2),
                   "clear_gA_to_clear_gB_s": round(t_cleared - t_clear, 3),
                   "clear_to_new_keys_s": round(t_keys - t_clear, 3),
                   "lost_in_window": lost_window, "lost_total": lost_total,
                   "pseudotime_log": logs})
    expect(sum(lost_between(f, 0, t_clear - 0.1) for f in flows.values()) == 0,
           "nothing lost from the KS restart until the clears")
    expect(lost_total == lost_window, "%d datagrams lost, all in the %.2f s from the first clear "
           "to both GMs holding the new TEK" % (lost_total, t_keys - t_clear))
    expect(all(f["corrupt"] == 0 and f["duplicates"] == 0 for f in flows.values()),
           "nothing corrupted or duplicated")
    for gm, d in delta.items():
        expect(not d["drops_by_reason"].get("tbar_replay") and
               not d["drops_by_reason"].get("tbar_not_synced"),
               "%s: TBAR dropped nothing across the pseudotime reset (%s)" % (gm, d["drops_by_reason"]))
    check_conservation(flows, delta)


@with_lab
def wan_netem(sl, report):
    """WAN impairment as netem would do it (loss 5%; delay 5 ms with reorder 25%; duplicate
    10%), one after the other, each with its own flows (500 datagrams/s each way for 8 s).
    This kernel has no sch_netem (no packet schedulers at all), so the WAN goes through a
    namespace of its own where tests/soak/wanrelay.py carries the frames between the GMs
    and impairs them with netem's semantics, counting what it did.

    Expected: (loss) what the WAN loses is lost end to end and counted by neither GM (they
    cannot see it); the identity holds with the relay's drop count. (reorder) late ESP
    packets are inside the 5 s TBAR window: accepted, delivered late, nothing dropped.
    (duplicate) time-based anti-replay does not detect a copy that arrives within the
    window (spec §4): the GMs decrypt and deliver both copies; the hosts see every
    duplicate the WAN made, and no counter of the GMs shows them."""
    phases = [("loss 5%", {"loss": 0.05}),
              ("delay 5ms reorder 25%", {"delay_ms": 5, "reorder": 0.25}),
              ("duplicate 10%", {"duplicate": 0.1})]
    report["phases"] = {}
    for name, params in phases:
        say("   -- %s" % name)
        sl.set_wan(params)
        before = {gm: sl.dp_counters(gm) for gm in ("gA", "gB")}
        sl.start_flows(8, 500)
        flows = sl.finish_flows(timeout=30)
        wan = sl.set_wan({})
        delta = settle_and_delta(sl, before)
        flows_report(flows)
        say("   WAN relay: %s" % {k: v for k, v in wan.items() if k != "params"})
        report["phases"][name] = {"flows": flows, "dataplane_delta": delta, "wan": wan}
        lost = sum(f["lost"] for f in flows.values())
        dups = sum(f["duplicates"] for f in flows.values())
        late = sum(f["reordered"] for f in flows.values())
        drops = {gm: d["drops_by_reason"] for gm, d in delta.items()}
        expect(all(f["corrupt"] == 0 for f in flows.values()), "nothing corrupted")
        if "loss" in params:
            expect(wan["dropped"] > 0 and lost == wan["dropped"] and not any(drops.values()),
                   "the WAN lost %d frames: %d datagrams lost end to end, no GM counted a drop "
                   "(%s)" % (wan["dropped"], lost, drops))
        if "reorder" in params:
            expect(lost == 0 and not any(drops.values()),
                   "nothing lost or dropped with %d frames delayed and %d sent at once: "
                   "%d datagrams arrived late" % (wan["delayed"], wan["sent_at_once"], late))
        if "duplicate" in params:
            expect(wan["duplicated"] > 0 and lost == 0 and dups == wan["duplicated"] and
                   not any(drops.values()),
                   "the WAN duplicated %d frames: the hosts received %d duplicates, the GMs "
                   "dropped none (%s)" % (wan["duplicated"], dups, drops))
        check_conservation(flows, delta)


wan_netem.wan_hop = True


def wallclock(build, report):
    """A wall-clock step (NTP, date -s) must not disturb TBAR.

    Not done for real: stepping this machine's clock would disturb every other process
    on it. Instead, checked statically: TBAR (tbar/) takes its time as a parameter and
    never reads a clock; the data plane feeds it CLOCK_MONOTONIC only (the workers' clock_ns
    and the pseudotime syncs are monotonic_ns()); gm-control's engine
    runs on the injected clock's mono() (the wall clock is used for display only); and
    tests/tbar has the injected-clock unit tests that pin pseudotime to the monotonic
    clock (ticks_from_the_monotonic_clock_after_a_sync, never_moves_back_more_than_the_window)."""
    realtime = re.compile(r"CLOCK_REALTIME|gettimeofday|system_clock|\btime\((nullptr|NULL|0)\)|"
                          r"\blocaltime|rte_get_timer|\.wall\(\)")
    clocks = re.compile(r"clock_gettime\s*\(\s*(CLOCK_\w+)")

    def sources(*dirs):
        for d in dirs:
            for name in sorted(os.listdir(os.path.join(ROOT, d))):
                if name.endswith((".h", ".cc")):
                    path = os.path.join(d, name)
                    with open(os.path.join(ROOT, path)) as f:
                        yield path, f.read()

    bad = [p for p, text in sources("tbar") if realtime.search(text) or clocks.search(text)]
    expect(not bad, "tbar/ reads no clock at all (time is passed in): %s" % (bad or "none read"))
    used = {}
    for p, text in sources("dataplane"):
        for c in clocks.findall(text):
            used.setdefault(c, []).append(p)
        if realtime.search(text):
            used.setdefault("wall clock", []).append(p)
    report["dataplane_clocks"] = used
    expect(set(used) == {"CLOCK_MONOTONIC"}, "the data plane reads CLOCK_MONOTONIC only: %s" % used)
    with open(os.path.join(ROOT, "dataplane", "main.cc")) as f:
        main_cc = f.read()
    expect(re.search(r"clock_ns = monotonic_ns;", main_cc) and
           re.search(r"control\.apply\(req, monotonic_ns\(\)\)", main_cc),
           "the workers' injected clock (TBAR checks, stamps) and the pseudotime syncs from the "
           "KS both run on monotonic_ns() (dataplane/main.cc)")
    engine = [p for p, text in sources("control/gm") if realtime.search(text)]
    expect(not engine, "gm-control's engine never reads the wall clock: %s" % (engine or "none"))
    with open(os.path.join(ROOT, "tests", "tbar", "check_test.cc")) as f:
        t = f.read()
    tests = re.findall(r"TEST(?:_F)?\((\w+), (\w+)\)", t)
    report["tbar_tests"] = ["%s.%s" % x for x in tests]
    expect(("pseudotime", "ticks_from_the_monotonic_clock_after_a_sync") in tests and
           ("pseudotime", "never_moves_back_more_than_the_window") in tests,
           "tests/tbar/check_test.cc has the injected-clock tests (%d TBAR tests)" % len(tests))


LAB_FAULTS = {"control_kill": control_kill, "ks_unreachable": ks_unreachable,
              "ks_restart": ks_restart, "wan_netem": wan_netem}
FAULTS = dict(LAB_FAULTS, wallclock=wallclock)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("faults", nargs="*", help=" ".join(FAULTS))
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--json")
    a = ap.parse_args()
    names = a.faults or list(FAULTS)
    for n in names:
        if n not in FAULTS:
            ap.error("no fault %s (%s)" % (n, " ".join(FAULTS)))
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    results = {}
    rc = 0
    for name in names:
        fn = FAULTS[name]
        say("\n== fault %s: %s" % (name, fn.__doc__.splitlines()[0]))
        report = {}
        started = time.monotonic()
        try:
            if name in LAB_FAULTS and os.geteuid() != 0:
                raise Skipped("network namespaces need root")
            if name in LAB_FAULTS and free_hugepages() < 256:
                raise Skipped("gm-control is a DPDK secondary process: it needs 2 MB hugepages")
            fn(a.build, report)
            report["result"] = "passed"
        except Skipped as e:
            report["result"] = "skipped"
            report["why"] = str(e)
            say("   skipped: %s" % e)
        except Failed as e:
            report["result"] = "failed"
            report["passed"] = False
            report["failure"] = str(e)
            rc = 1
        except KeyboardInterrupt:
            rc = 130
            break
        report["wall_s"] = round(time.monotonic() - started, 1)
        results[name] = report
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    say("\n== " + ", ".join("%s %s" % (n, r["result"]) for n, r in results.items()))
    if rc == 0 and results and all(r["result"] == "skipped" for r in results.values()):
        return SKIP
    return rc


if __name__ == "__main__":
    sys.exit(main())
