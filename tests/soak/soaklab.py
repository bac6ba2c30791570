"""What the soak test and the fault tests share: the lab (tools/labnet.py) with a real KS and
gm-control on both GMs, the numbered UDP flows both ways (udpflow.py), the accounting of
every datagram, and samples of the data planes' counters and of the processes' memory
and file descriptors."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
from labnet import ADDR, CTL as ADDR_CTL, EXTRA_ACES, Lab, free_hugepages, sh  # noqa: E402,F401

EXTRA_ACE_COUNT = EXTRA_ACES.count("\n")

SKIP = 77  # meson: the test was skipped
FLOW = os.path.join(HERE, "udpflow.py")
PORT = 5300  # hA -> hB on PORT, hB -> hA on PORT + 1


class Failed(Exception):
    pass


def say(text):
    print(text, flush=True)


def expect(cond, what):
    say(("   ok: " if cond else "   FAILED: ") + what)
    if not cond:
        raise Failed(what)


class SoakLab:
    """The lab, registered: both GMs hold the KS's policy and TEK."""

    def __init__(self, build, tek_lifetime=600, redundancy=False):
        """redundancy: a second KS (ks2, 10.99.0.4) shares the first one's keys through a
        state file (gm-ks `redundancy`) and takes over when it dies (failover())."""
        self.bindir = os.path.abspath(build)
        self.lab = Lab(os.path.join(self.bindir, "dataplane", "gm-dataplane"), hugepages=True)
        self.workdir = tempfile.mkdtemp(prefix="gm-soak-")
        self.tek_lifetime = tek_lifetime
        self.flows = []
        self.saved_logs = {}  # logs of processes we killed or restarted: name -> text
        self.redundancy = redundancy
        self.state_file = os.path.join(self.workdir, "ks-state") if redundancy else None
        self.active_ks = "ks"
        self.policy_variant = 0

    # ---- life cycle -------------------------------------------------------------------

    def up(self, wan_hop=False):
        """wan_hop: the WAN runs through wanrelay.py (set_wan() impairs it)."""
        lab = self.lab
        lab.build(wan_hop=wan_hop)
        lab.build_ks_net()
        if wan_hop:
            for end in ("wA", "wB"):
                sh("ip", "link", "set", lab.ifs[end], "promisc", "on", ns=lab.ns["wan"])
            self.wan_params = os.path.join(self.workdir, "wan.json")
            self.wan_out = os.path.join(self.workdir, "wan-stats.jsonl")
            with open(self.wan_params, "w") as f:
                f.write("{}")
            self.relay = subprocess.Popen(
                ["ip", "netns", "exec", lab.ns["wan"], "/usr/bin/python3",
                 os.path.join(HERE, "wanrelay.py"), "--ifaces", lab.ifs["wA"], lab.ifs["wB"],
                 "--params", self.wan_params, "--out", self.wan_out])
            time.sleep(0.5)
        for gm in ("gA", "gB"):
            lab.start_gm(gm, self.workdir)
        expect(lab.wait_ready(), "both data planes forwarding")
        time.sleep(1)
        lab.start_ks(self.bindir, self.workdir, tek_lifetime=self.tek_lifetime,
                     state_file=self.state_file)
        time.sleep(1)
        servers = None
        if self.redundancy:
            expect(self.lab.wait_log("ks", "command socket", 10), "the first KS is up")
            lab.start_ks(self.bindir, self.workdir, tek_lifetime=self.tek_lifetime, name="ks2",
                         state_file=self.state_file)
            expect(self.lab.wait_log("ks2", "passive until its heartbeat stops", 10),
                   "the second KS took the group's keys from the first and is passive")
            servers = [ADDR_CTL["ks"], ADDR_CTL["ks2"]]
        for gm in ("gA", "gB"):
            lab.start_control(gm, self.bindir, self.workdir, servers=servers)
        expect(self.wait_sas(30), "both GMs registered; their data planes hold the KS's TEK")

    def set_wan(self, params):
        """New impairment settings for the WAN relay; returns the counters of the settings
        they replace (frames, forwarded, dropped, duplicated, delayed, sent_at_once)."""
        with open(self.wan_params, "w") as f:
            json.dump(params, f)
        lines = 0
        if os.path.exists(self.wan_out):
            with open(self.wan_out) as f:
                lines = len(f.readlines())
        self.relay.send_signal(signal.SIGHUP)
        end = time.time() + 5
        while time.time() < end:
            if os.path.exists(self.wan_out):
                with open(self.wan_out) as f:
                    rows = f.readlines()
                if len(rows) > lines and rows[-1].endswith("\n"):
                    return json.loads(rows[-1])
            time.sleep(0.05)
        raise Failed("the WAN relay did not answer")

    def down(self):
        """Stops flows and processes, removes namespaces and runtime dirs; never raises."""
        if getattr(self, "relay", None) is not None and self.relay.poll() is None:
            self.relay.kill()
            self.relay.wait()
        for p, _ in self.flows:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.flows = []
        logs = {}
        try:
            logs = self.lab.stop_procs()
        except Exception as e:  # noqa: BLE001 - teardown must go on
            say("   teardown: %s" % e)
        outs = {}
        try:
            outs = self.lab.stop_gms()
        except Exception as e:  # noqa: BLE001
            say("   teardown: %s" % e)
        self.lab.teardown()
        if os.environ.get("GM_SOAK_KEEP"):
            say("   logs and configs kept in %s (GM_SOAK_KEEP)" % self.workdir)
        else:
            subprocess.run(["rm", "-rf", self.workdir])
        logs.update(self.saved_logs)
        return logs, outs

    def sas(self, gm):
        try:
            return self.lab.telemetry(gm, "/gm/sa")
        except OSError:
            return {}

    def wait_sas(self, timeout, want=None):
        """Until every GM holds an SA (or `want(gm, sas)` holds for each)."""
        want = want or (lambda gm, sas: bool(sas))
        end = time.time() + timeout
        while time.time() < end:
            if all(want(gm, self.sas(gm)) for gm in ("gA", "gB")):
                return True
            time.sleep(0.2)
        return False

    # ---- processes --------------------------------------------------------------------

    def pids(self):
        """{name: pid} of the long-lived processes (ip netns exec execs, so the Popen pid is
        the program's own)."""
        out = {}
        for gm, (p, _) in self.lab.gms.items():
            out["gm-dataplane " + gm] = p.pid
        for name, (p, _) in self.lab.procs.items():
            label = ("gm-ks" if name == "ks" else "gm-ks (second)" if name == "ks2" else
                     "gm-control " + name[3:])
            out[label] = p.pid
        return out

    def signal_ks(self, sig):
        """To the active KS (the first one, or the second after failover())."""
        self.lab.procs[self.active_ks][0].send_signal(sig)

    def reload_policy(self):
        """A policy replacement: every KS's config gets the next ACL variant (one more
        subnet pair, or not), and each KS re-reads it (SIGHUP). The active KS sends the new
        ACL in a TEK rekey. Returns the number of ACEs in the new ACL."""
        self.policy_variant ^= 1
        more = ("  - permit ip 10.30.0.0 0.0.255.255 10.31.0.0 0.0.255.255\n"
                if self.policy_variant else "")
        def reloads(name):
            with open(self.lab.procs[name][1]) as f:
                text = f.read()
            return text.count("gm-ks: reloaded "), text.count("reload refused")
        for name in ("ks", "ks2"):
            if name in self.lab.procs:
                before = reloads(name)
                self.lab.write_ks_config(self.workdir, name, tek_lifetime=self.tek_lifetime,
                                         state_file=self.state_file, more_aces=more)
                self.lab.procs[name][0].send_signal(signal.SIGHUP)
                end = time.time() + 5
                while time.time() < end and reloads(name) == before:
                    time.sleep(0.02)
                after = reloads(name)
                expect(after[0] == before[0] + 1 and after[1] == before[1],
                       "%s re-read its config (reloads %d -> %d, refusals %d -> %d)" % (
                           name, before[0], after[0], before[1], after[1]))
        return 3 + EXTRA_ACE_COUNT + self.policy_variant

    def failover(self, timeout=15):
        """Kills the active KS (SIGKILL) and waits until the second one has taken over
        (COOP_KS_TRANS_TO_PRI in its log). Returns the seconds that took."""
        t = time.monotonic()
        self.kill(self.active_ks)
        expect(self.lab.wait_log("ks2", "COOP_KS_TRANS_TO_PRI", timeout),
               "the second KS took over (COOP_KS_TRANS_TO_PRI)")
        self.active_ks = "ks2"
        return time.monotonic() - t

    def kill(self, name, sig=signal.SIGKILL):
        """Kills lab process `name` ('ks', 'ctlgA', ...), keeping its log."""
        p, log = self.lab.procs.pop(name)
        p.send_signal(sig)
        p.wait(timeout=10)
        with open(log) as f:
            self.saved_logs[name + " (before restart)"] = f.read()
        return p.returncode

    def gmctl(self, who, *words, as_json=False):
        path = (self.lab.ks_socket(self.workdir, who) if who in ("ks", "ks2") else
                self.lab.gm_socket(who, self.workdir))
        rc, out = self.lab.gmctl(self.bindir, path, *((["--json"] if as_json else []) + list(words)))
        if as_json:
            try:
                return json.loads(out) if rc == 0 else None
            except ValueError:
                return None
        return rc, out

    # ---- traffic ----------------------------------------------------------------------

    def start_flows(self, seconds, rate, size=200):
        """A numbered UDP flow each way (hA -> hB and hB -> hA) for `seconds` at `rate`."""
        self.flow_files = {}
        for direction, (src, dst, port) in {"A->B": ("hA", "hB", PORT),
                                            "B->A": ("hB", "hA", PORT + 1)}.items():
            rx = os.path.join(self.workdir, "rx-%s.json" % dst)
            tx = os.path.join(self.workdir, "tx-%s.json" % src)
            for f in (rx, tx):
                if os.path.exists(f):
                    os.unlink(f)
            r = subprocess.Popen(["ip", "netns", "exec", self.lab.ns[dst], "/usr/bin/python3", FLOW,
                                  "recv", "--bind", ADDR[dst], "--port", str(port), "--size",
                                  str(size), "--out", rx])
            self.flows.append((r, "recv"))
            self.flow_files[direction] = (tx, rx, r)
        time.sleep(0.5)  # receivers bound
        self.udp_errors_before = {h: udp_errors(self.lab.ns[h]) for h in ("hA", "hB")}
        for direction, (src, dst, port) in {"A->B": ("hA", "hB", PORT),
                                            "B->A": ("hB", "hA", PORT + 1)}.items():
            tx, rx, r = self.flow_files[direction]
            s = subprocess.Popen(["ip", "netns", "exec", self.lab.ns[src], "/usr/bin/python3", FLOW,
                                  "send", "--dst", ADDR[dst], "--port", str(port), "--rate", str(rate),
                                  "--seconds", str(seconds), "--size", str(size), "--out", tx])
            self.flows.append((s, "send"))
            self.flow_files[direction] = (tx, rx, r, s)

    def finish_flows(self, timeout):
        """Waits for the senders, lets the last datagrams land, stops the receivers; returns
        {direction: accounting} (see account())."""
        result = {}
        for direction, (tx, rx, r, s) in self.flow_files.items():
            s.wait(timeout=timeout)
        time.sleep(1.0)
        for direction, (tx, rx, r, s) in self.flow_files.items():
            r.send_signal(signal.SIGTERM)
            r.wait(timeout=10)
            with open(tx) as f:
                sent = json.load(f)
            with open(rx) as f:
                got = json.load(f)
            result[direction] = account(sent, got)
        self.flows = []
        dst_of = {"A->B": "hB", "B->A": "hA"}
        for direction, acc in result.items():
            h = dst_of[direction]
            acc["host_udp_errors"] = udp_errors(self.lab.ns[h]) - self.udp_errors_before[h]
        return result

    # ---- samples ----------------------------------------------------------------------

    def dp_counters(self, gm):
        """The data plane's counters: ports, drops by reason (non-zero), per-SA packets."""
        ports = self.lab.telemetry(gm, "/gm/ports")
        drops = self.lab.telemetry(gm, "/gm/drops")
        sas = self.sas(gm)
        return {
            "lan_rx": ports["lan"]["rx"], "lan_tx": ports["lan"]["tx"],
            "wan_rx": ports["wan"]["rx"], "wan_tx": ports["wan"]["tx"],
            "fragmented": ports["lan"]["fragmented"] + ports["wan"]["fragmented"],
            "drops": sum(drops.values()),
            "drops_by_reason": {k: v for k, v in drops.items() if v},
            "encaps": sum(v["pkts_encaps"] for v in sas.values()),
            "decaps": sum(v["pkts_decaps"] for v in sas.values()),
            "sas": len(sas),
            "replay": self.lab.telemetry(gm, "/gm/replay"),
        }

    def mempools(self, gm):
        """DPDK's own telemetry on the data plane's mempools: in use / size per pool."""
        out = {}
        try:
            for name in self.lab.telemetry(gm, "/mempool/list") or []:
                info = self.lab.telemetry(gm, "/mempool/info," + name)
                # DPDK 22.11 reports the pool's geometry, not how many mbufs are in use.
                out[name] = {k: v for k, v in info.items() if isinstance(v, int)}
            # Not exposed: mbufs in use. A leak would end in receive failures for want of
            # mbufs, which ethdev counts (rx_nombuf), with imissed and the error counters.
            for port in self.lab.telemetry(gm, "/ethdev/list") or []:
                st = self.lab.telemetry(gm, "/ethdev/stats,%d" % port)
                out["port%d" % port] = {k: st.get(k) for k in ("ipackets", "opackets", "imissed",
                                                                "ierrors", "oerrors", "rx_nombuf")}
        except (OSError, KeyError, ValueError) as e:
            out["error"] = str(e)
        return out

    def sample(self):
        now = time.monotonic()
        s = {"t": now, "procs": {}, "dp": {}, "mempools": {}}
        for gm in ("gA", "gB"):
            try:
                s["dp"][gm] = self.dp_counters(gm)
                s["mempools"][gm] = self.mempools(gm)
            except OSError as e:
                s["dp"][gm] = {"error": str(e)}
        # The telemetry thread closes its end of our connections a moment after we do: let
        # it, so the fd count is the process's own.
        time.sleep(0.3)
        for name, pid in self.pids().items():
            s["procs"][name] = proc_usage(pid)
        return s


def proc_usage(pid):
    """VmRSS (kB) and open file descriptors of a process (None when it is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        return {"rss_kb": rss, "fds": len(os.listdir("/proc/%d/fd" % pid))}
    except (OSError, StopIteration):
        return None


def udp_errors(ns):
    """UDP datagrams the kernel of namespace `ns` dropped on receive (buffer full etc.)."""
    text = sh("cat", "/proc/net/snmp", ns=ns).stdout
    rows = [l.split() for l in text.splitlines() if l.startswith("Udp:")]
    head, vals = rows[0], rows[1]
    return sum(int(vals[head.index(k)]) for k in ("InErrors", "RcvbufErrors") if k in head)


def account(sent, got):
    """Every datagram of one flow: sent, received once, lost (with the times they were
    sent, relative to the flow's start), duplicated, late (reordered), corrupted."""
    have = got["ranges"]
    lost = []  # [first, last] ranges of numbers never received
    nxt = 0
    for a, b in have:
        if a > nxt:
            lost.append([nxt, a - 1])
        nxt = b + 1
    if nxt < sent["attempted"]:
        lost.append([nxt, sent["attempted"] - 1])
    rate = sent["rate"]
    return {
        "sent": sent["sent"], "send_errors": sent["send_errors"],
        "received": got["received"], "unique": got["unique"],
        "lost": sum(b - a + 1 for a, b in lost),
        "lost_windows_s": [[round(a / rate, 3), round((b + 1) / rate, 3)] for a, b in lost],
        "lost_ranges": lost,
        "duplicates": got["duplicates"], "reordered": got["reordered"],
        "corrupt": got["corrupt"], "foreign": got["foreign"],
        "t0": sent["t0"], "rate": rate,
    }


def lost_between(acc, start, end):
    """Datagrams of flow `acc` lost among those sent between monotonic times start and end."""
    n = 0
    for a, b in acc["lost_ranges"]:
        lo = max(a, int((start - acc["t0"]) * acc["rate"]))
        hi = min(b, int((end - acc["t0"]) * acc["rate"]))
        n += max(0, hi - lo + 1)
    return n


def counters_delta(before, after):
    keys = ("lan_rx", "lan_tx", "wan_rx", "wan_tx", "fragmented", "drops", "encaps", "decaps")
    d = {k: after[k] - before[k] for k in keys}
    d["drops_by_reason"] = {k: v - before["drops_by_reason"].get(k, 0)
                            for k, v in after["drops_by_reason"].items()
                            if v - before["drops_by_reason"].get(k, 0)}
    return d


def check_conservation(flows, dp_delta):
    """Every datagram one host sent is either delivered to the other host or counted as a
    drop by one of the two data planes (or by the receiving host's kernel). Per GM:
    everything its ports received was transmitted or counted as dropped."""
    for gm, d in dp_delta.items():
        expect(d["lan_rx"] + d["wan_rx"] == d["lan_tx"] + d["wan_tx"] - d["fragmented"] + d["drops"],
               "%s: rx %d (lan %d + wan %d) = tx %d (lan %d + wan %d) + dropped %d %s" % (
                   gm, d["lan_rx"] + d["wan_rx"], d["lan_rx"], d["wan_rx"], d["lan_tx"] + d["wan_tx"],
                   d["lan_tx"], d["wan_tx"], d["drops"], d["drops_by_reason"] or ""))
    a, b = flows["A->B"], flows["B->A"]
    ga, gb = dp_delta["gA"], dp_delta["gB"]
    expect(ga["lan_rx"] == a["sent"] and gb["lan_rx"] == b["sent"],
           "each GM's LAN port received exactly what its host sent (gA %d/%d, gB %d/%d)"
           % (ga["lan_rx"], a["sent"], gb["lan_rx"], b["sent"]))
    expect(gb["lan_tx"] == a["received"] + a["host_udp_errors"] and
           ga["lan_tx"] == b["received"] + b["host_udp_errors"],
           "each host received exactly what its GM's LAN port sent (hB %d/%d, hA %d/%d)"
           % (a["received"], gb["lan_tx"], b["received"], ga["lan_tx"]))
    lost_total = a["lost"] + b["lost"]
    dups = a["duplicates"] + b["duplicates"]
    dropped = ga["drops"] + gb["drops"] + a["host_udp_errors"] + b["host_udp_errors"]
    expect(lost_total - dups == dropped + wire_loss(ga, gb),
           "datagrams lost end to end (%d) - duplicates delivered (%d) = drops counted by the "
           "data planes and host kernels (%d) + lost on the WAN (%d, negative: frames the WAN "
           "duplicated)" % (lost_total, dups, dropped, wire_loss(ga, gb)))


def wire_loss(ga, gb):
    """What one GM's WAN port sent and the other's did not receive (zero on a veth; netem
    loss would show here)."""
    return (ga["wan_tx"] - gb["wan_rx"]) + (gb["wan_tx"] - ga["wan_rx"])
