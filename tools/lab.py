#!/usr/bin/python3
"""The lab: a GDOI key server (gm-ks), two software GMs (gm-dataplane on net_af_packet +
gm-control each), a host behind each GM and a WAN between them, all in network namespaces
on this machine. The GMs register with the KS (IKEv1 Main Mode + GROUPKEY-PULL) and install
the downloaded policy and TEK; the lab then shows traffic crossing the WAN as
header-preserved ESP, IOS-style `show` output from gmctl, and, with traffic flowing and
nothing lost: a KS-driven TEK rekey (GROUPKEY-PUSH with ACKs), a KEK rekey, a policy
replacement (`reload` on gm-ks) and a KS failover (a second gm-ks takes the group over).

Without 2 MB hugepages (gm-control attaches to gm-dataplane as a DPDK secondary process,
which needs them) the lab falls back to a static group key configured on both GMs.

  tools/lab.py [--keep] [--build DIR]        (tools/lab sets up first, then runs this)
    --keep   leave the lab up and print how to use it; Ctrl-C tears it down
"""
import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labnet import ADDR, CTL, MAC, Lab, free_hugepages, ip_reassembled, sh  # noqa: E402

KEY1 = "2b7e151628aed2a6abf7158809cf4f3cdeadbeef"
KEY2 = "000102030405060708090a0b0c0d0e0fcafef00d"

SERVER = r"""
import hashlib, socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.2.0.2", 5001)); s.listen(1); s.settimeout(30)
c, _ = s.accept(); h = hashlib.sha256(); n = 0
while True:
    d = c.recv(65536)
    if not d: break
    h.update(d); n += len(d)
c.sendall(("%d %s" % (n, h.hexdigest())).encode()); c.close()
"""
CLIENT = r"""
import socket
data = bytes(range(256)) * 8192
s = socket.create_connection(("10.2.0.2", 5001), timeout=30)
s.sendall(data); s.shutdown(socket.SHUT_WR)
print(s.recv(200).decode())
"""

# One UDP probe a hop, as traceroute sends them; prints "TTL ADDRESS ICMP-TYPE" a hop.
TRACEROUTE = r"""
import sys
from scapy.all import IP, UDP, ICMP, sr1, conf
conf.verb = 0
for ttl in (1, 2, 3):
    r = sr1(IP(dst=sys.argv[1], ttl=ttl) / UDP(sport=40000 + ttl, dport=33434 + ttl), timeout=3)
    print(ttl, r[IP].src if r is not None else "*", r[ICMP].type if r is not None and ICMP in r else "-")
"""


class Failed(Exception):
    pass


def step(title):
    print("\n== " + title, flush=True)


def expect(cond, what):
    print(("   ok: " if cond else "   FAILED: ") + what, flush=True)
    if not cond:
        raise Failed(what)


def show_ipsec_sa(lab, gm):
    """`show crypto ipsec sa` from the GM's live counters (DPDK telemetry)."""
    sas = lab.telemetry(gm, "/gm/sa")
    tot = {k: sum(v[k] for v in sas.values()) for k in ("pkts_encaps", "pkts_encrypt",
                                                         "pkts_digest", "pkts_decaps",
                                                         "pkts_decrypt", "pkts_verify")}
    print("%s# show crypto ipsec sa" % gm)
    print("interface: WAN (net_af_packet1)")
    print("    #pkts encaps: %d, #pkts encrypt: %d, #pkts digest: %d" % (
        tot["pkts_encaps"], tot["pkts_encrypt"], tot["pkts_digest"]))
    print("    #pkts decaps: %d, #pkts decrypt: %d, #pkts verify: %d" % (
        tot["pkts_decaps"], tot["pkts_decrypt"], tot["pkts_verify"]))
    for spi, v in sas.items():
        print("     esp sa: spi %s(%d) transform %s, Anti-Replay(Time Based) : %d sec interval" % (
            spi, int(spi, 16), v["transform"], v["tbar_window_ms"] // 1000))
    return sas


def dpctl(lab, gm, *args):
    dpctl_bin = os.path.join(os.path.dirname(lab.dp), "gm-dpctl")
    p = subprocess.run(["ip", "netns", "exec", lab.ns[gm], dpctl_bin, "--file-prefix",
                        lab.prefix(gm), "--"] + list(args), capture_output=True, text=True,
                       timeout=30)
    expect(p.returncode == 0, "%s: gm-dpctl %s: %s" % (gm, " ".join(args[:3]),
                                                       (p.stdout + p.stderr).strip()))


def gmctl(lab, bindir, workdir, who, *words, show=True):
    path = lab.ks_socket(workdir, who) if who in ("ks", "ks2") else lab.gm_socket(who, workdir)
    rc, out = lab.gmctl(bindir, path, *words)
    if show:
        print("%s# %s" % ({"ks": "KS", "ks2": "KS2"}.get(who, who), " ".join(words)))
        print("\n".join("   " + l for l in out.rstrip().splitlines()))
    return rc, out


def sa_spis(lab, gm):
    try:
        return lab.telemetry(gm, "/gm/sa")
    except OSError:
        return {}


def register(lab, bindir, workdir, transport):
    step("key server and registration: gm-ks on %s (%s rekeys); each GM's gm-control registers "
         "(IKEv1 Main Mode + GROUPKEY-PULL) and installs the policy and TEK" % (CTL["ks"], transport))
    # The state file: a second KS can take the group's keys over later (ks_failover()).
    lab.start_ks(bindir, workdir, transport, state_file=os.path.join(workdir, "ks-state"))
    time.sleep(1)
    # gB lists a KS that does not answer first (10.99.0.9: nothing there): it fails over.
    lab.start_control("gA", bindir, workdir)
    lab.start_control("gB", bindir, workdir, servers=[DEAD_KS, CTL["ks"]])
    end = time.time() + 30
    while time.time() < end and not all(sa_spis(lab, gm) for gm in ("gA", "gB")):
        time.sleep(0.2)
    ok = all(sa_spis(lab, gm) for gm in ("gA", "gB"))
    if not ok:
        for name, text in lab.stop_procs().items():
            print("--- %s log ---\n%s" % (name, text[-3000:]))
    expect(ok, "both GMs registered and their data planes hold the KS's TEK")
    rc, out = gmctl(lab, bindir, workdir, "gB", "show", "crypto", "gdoi", "|", "include", "Registered with",
                    show=False)
    expect(CTL["ks"] in out, "gB failed over from %s (no answer) to %s" % (DEAD_KS, CTL["ks"]))
    expect(ip_reassembled(lab.ns["gA"]) > 0,
           "the KS's policy (27 ACEs) reached gA in IP fragments, reassembled (ReasmOKs %d)"
           % ip_reassembled(lab.ns["gA"]))
    rc, out = gmctl(lab, bindir, workdir, "gA", "show", "crypto", "gdoi")
    expect(rc == 0 and "Registration status" in out and CTL["ks"] in out,
           "show crypto gdoi: registered with %s" % CTL["ks"])
    rc, out = gmctl(lab, bindir, workdir, "gA", "show", "crypto", "isakmp", "sa")
    expect(rc == 0 and "GDOI_IDLE" in out and "GDOI_REKEY" in out,
           "show crypto isakmp sa: the registration SA (GDOI_IDLE) and the rekey SA (GDOI_REKEY)")
    gmctl(lab, bindir, workdir, "gA", "show", "monitor", "event-trace", "gdoi", "registration")


def rekey_under_traffic(lab, bindir, workdir, transport):
    step("TEK rekey from the KS with traffic flowing (GROUPKEY-PUSH by %s%s; new inbound SA "
         "at once, outbound after the activation delay)" % (transport, ", ACKed" if transport == "unicast" else ""))
    before = set(sa_spis(lab, "gA"))
    ping = subprocess.Popen(["ip", "netns", "exec", lab.ns["hA"], "ping", "-c", "160", "-i",
                             "0.05", "-W", "2", ADDR["hB"]], stdout=subprocess.PIPE, text=True)
    time.sleep(1)
    lab.procs["ks"][0].send_signal(signal.SIGUSR1)  # gm-ks: TEK rekey now
    out, _ = ping.communicate(timeout=60)
    print("\n".join("   " + l for l in out.strip().splitlines()[-2:]))
    expect(" 0% packet loss" in out, "no ping lost across the rekey")
    sas = sa_spis(lab, "gA")
    new = [s for s in sas if s not in before]
    expect(len(new) == 1 and sas[new[0]]["pkts_encaps"] > 0,
           "traffic now leaves on the new SPI %s" % (new[0] if new else "?"))
    rc, out = gmctl(lab, bindir, workdir, "gA", "show", "crypto", "gdoi", "gm", "rekey")
    if transport == "unicast":
        expect(rc == 0 and any("Rekey Acks sent" in l and l.rstrip().endswith(": 1")
                              for l in out.splitlines()), "gA received the rekey and ACKed it")
    else:
        rc, out = gmctl(lab, bindir, workdir, "gA", "show", "crypto", "gdoi")
        expect(rc == 0 and any("Multicast rekey rcvd" in l and l.rstrip().endswith(": 1")
                              for l in out.splitlines()), "gA received the rekey by multicast")
    gmctl(lab, bindir, workdir, "ks", "show", "crypto", "gdoi", "ks", "members")
    step("Prometheus metrics (gA's gm-control, http://127.0.0.1:9464/metrics)")
    p = sh("/usr/bin/python3", "-c", "import urllib.request;print(urllib.request.urlopen("
           "'http://127.0.0.1:9464/metrics', timeout=5).read().decode())", ns=lab.ns["gA"],
           check=False)
    lines = [l for l in p.stdout.splitlines() if l.startswith(("gdoi_gm_registered", "gdoi_gm_rekeys",
                                                              "ipsec_pkts"))]
    print("\n".join("   " + l for l in lines))
    expect(any(l.startswith("gdoi_gm_registered") and l.endswith(" 1") for l in lines),
           "gdoi_gm_registered 1")


DEAD_KS = "10.99.0.9"
GM_SHOWS = [["show", "crypto", "gdoi"], ["show", "crypto", "gdoi", "gm"],
            ["show", "crypto", "gdoi", "gm", "rekey"], ["show", "crypto", "gdoi", "gm", "replay"],
            ["show", "crypto", "gdoi", "rekey", "sa"], ["show", "crypto", "isakmp", "sa"],
            ["show", "crypto", "ipsec", "sa"],
            ["show", "monitor", "event-trace", "gdoi", "all"]]
KS_SHOWS = [["show", "crypto", "gdoi", "ks", "members"], ["show", "crypto", "gdoi", "ks", "rekey"],
            ["show", "crypto", "gdoi", "ks", "policy"], ["show", "crypto", "gdoi", "ks", "coop"]]


def every_show(lab, bindir, workdir):
    step("every show command against the running GM and KS (text, and --json parsed back)")
    for who, cmds in (("gA", GM_SHOWS), ("ks", KS_SHOWS)):
        for words in cmds:
            rc, text = gmctl(lab, bindir, workdir, who, *words, show=False)
            rcj, js = gmctl(lab, bindir, workdir, who, "--json", *words, show=False)
            try:
                json.loads(js)
                parsed = True
            except ValueError:
                parsed = False
            expect(rc == 0 and text.strip() and rcj == 0 and parsed,
                   "%s: %s (%d lines; JSON parses)" % (who, " ".join(words), len(text.splitlines())))
    rc, out = gmctl(lab, bindir, workdir, "gA", "show", "crypto", "ipsec", "sa", "|", "include",
                    "pkts encaps")
    expect(rc == 0 and len(out.strip().splitlines()) == 1, "| include filters the output")


def kek_rekey_and_clear(lab, bindir, workdir):
    step("KEK rekey from the KS (new rekey cookies and key, SEQ restarts), then a TEK rekey "
         "under the new KEK, then clear crypto gdoi on gA (flush and register again)")
    _, before = gmctl(lab, bindir, workdir, "gA", "--json", "show", "crypto", "gdoi", show=False)
    lab.procs["ks"][0].send_signal(signal.SIGUSR2)
    time.sleep(2)
    lab.procs["ks"][0].send_signal(signal.SIGUSR1)
    time.sleep(2)
    rc, out = gmctl(lab, bindir, workdir, "gA", "show", "crypto", "gdoi", "gm", "rekey")
    total = [l for l in out.splitlines() if "Rekeys received (cumulative)" in l]
    expect(rc == 0 and total and total[0].rstrip().endswith(": 3"),
           "gA accepted the KEK rekey and the TEK rekey under the new KEK (3 rekeys)")
    rc, out = gmctl(lab, bindir, workdir, "gA", "clear", "crypto", "gdoi")
    expect(rc == 0, "clear crypto gdoi accepted")

    def reg_state():
        _, text = gmctl(lab, bindir, workdir, "gA", "show", "crypto", "gdoi", show=False)
        status = [l.split(":", 1)[1].strip() for l in text.splitlines() if "Registration status" in l]
        attempts = [l.split(":", 1)[1].strip() for l in text.splitlines() if "Attempted registration" in l]
        return (status or ["?"])[0], (attempts or ["0"])[0]
    end = time.time() + 20
    state = reg_state()
    while time.time() < end and state != ("Registered", "2"):
        time.sleep(0.5)
        state = reg_state()
    expect(state == ("Registered", "2"), "gA registered again after clear crypto gdoi (%s, %s attempts)" % state)
    p = sh("ping", "-c", "3", "-i", "0.2", "-W", "2", ADDR["hB"], ns=lab.ns["hA"], check=False)
    expect(p.returncode == 0, "traffic flows after the re-registration")


NEW_ACE = "  - permit ip 10.30.0.0 0.0.255.255 10.31.0.0 0.0.255.255\n"


def ping_during(lab, action, count=120):
    """Runs `action()` while hA pings hB every 50 ms; returns ping's output."""
    ping = subprocess.Popen(["ip", "netns", "exec", lab.ns["hA"], "ping", "-c", str(count), "-i",
                             "0.05", "-W", "2", ADDR["hB"]], stdout=subprocess.PIPE, text=True)
    time.sleep(1)
    action()
    out, _ = ping.communicate(timeout=60)
    print("\n".join("   " + l for l in out.strip().splitlines()[-2:]))
    return out


def policy_replacement(lab, bindir, workdir):
    step("policy replacement: the KS's ACL gains a subnet pair; `reload` on gm-ks re-reads its "
         "file and sends the new ACL in a TEK rekey, with traffic flowing")
    state = os.path.join(workdir, "ks-state")
    lab.write_ks_config(workdir, "ks", state_file=state, more_aces=NEW_ACE)
    replies = []
    out = ping_during(lab, lambda: replies.append(gmctl(lab, bindir, workdir, "ks", "reload")))
    expect(replies and replies[0][0] == 0 and "reloaded" in replies[0][1] and "28 ACE" in replies[0][1],
           "gm-ks reloaded its config (28 ACEs) and sent the rekey")
    expect(" 0% packet loss" in out, "no ping lost across the policy replacement")
    rc, out = gmctl(lab, bindir, workdir, "gA", "show", "crypto", "gdoi", "|", "include", "10.30.0.0")
    expect(rc == 0 and "10.30.0.0" in out, "gA holds the new ACE")
    cfg = lab.write_ks_config(workdir, "ks", state_file=state, more_aces=NEW_ACE)
    with open(cfg) as f:
        text = f.read()
    with open(cfg, "w") as f:
        f.write(text.replace("aes-gcm-128", "aes-gcm-256"))
    rc, out = gmctl(lab, bindir, workdir, "ks", "reload")
    expect(rc != 0 and "tek.transform" in out,
           "a reload that changes the transform is refused by name; the running policy stays")
    lab.write_ks_config(workdir, "ks", state_file=state, more_aces=NEW_ACE)


def ks_failover(lab, bindir, workdir):
    step("KS failover: a second gm-ks (%s) follows the first one's keys through the shared state "
         "file; the first is killed (SIGKILL) and the second takes over and rekeys, with traffic "
         "flowing" % CTL["ks2"])
    state = os.path.join(workdir, "ks-state")
    lab.start_ks(bindir, workdir, name="ks2", state_file=state)
    lab.write_ks_config(workdir, "ks2", state_file=state, more_aces=NEW_ACE)
    expect(lab.wait_log("ks2", "passive until its heartbeat stops", 10),
           "the second KS took the group's keys and is passive")
    time.sleep(1.5)  # one follow tick: it has read the first KS's heartbeat
    rc, out = gmctl(lab, bindir, workdir, "ks2", "show", "crypto", "gdoi", "ks", "coop")
    expect(rc == 0 and "Local KS Role: Secondary" in out and "Peer KS Status: Alive" in out,
           "show crypto gdoi ks coop: secondary, the first KS alive")
    took = []

    def fail_over():
        p, _ = lab.procs.pop("ks")
        p.kill()
        p.wait(timeout=10)
        t = time.time()
        took.append(lab.wait_log("ks2", "COOP_KS_TRANS_TO_PRI", 15))
        print("   second KS took over after %.1f s" % (time.time() - t))
        gmctl(lab, bindir, workdir, "ks2", "rekey")
        time.sleep(1)
    out = ping_during(lab, fail_over, count=200)
    expect(took and took[0], "the second KS logged %GDOI-5-COOP_KS_TRANS_TO_PRI")
    expect(" 0% packet loss" in out, "no ping lost across the KS failover and the new KS's rekey")
    rc, out = gmctl(lab, bindir, workdir, "gA", "show", "crypto", "gdoi", "|", "include", "Last rekey")
    expect(rc == 0 and CTL["ks2"] in out, "gA took the second KS's rekey without registering again")
    rc, out = gmctl(lab, bindir, workdir, "ks2", "show", "crypto", "gdoi", "ks", "members")
    expect(rc == 0 and CTL["gA"] in out and CTL["gB"] in out, "the second KS has both GMs as members")
    rc, out = gmctl(lab, bindir, workdir, "ks2", "show", "crypto", "gdoi", "ks", "coop")
    expect(rc == 0 and "Local KS Role: Primary" in out and "takeovers: 1" in out,
           "show crypto gdoi ks coop: the second KS is primary now")


def run(lab, workdir, keep, bindir, transport="unicast"):
    step("building the lab: hA -- gA ==WAN== gB -- hB (network namespaces, veth pairs)")
    lab.build()
    with_ks = lab.hugepages
    if with_ks:
        lab.build_ks_net()
    for gm in ("gA", "gB"):
        lab.start_gm(gm, workdir, None if with_ks else KEY1)
    expect(lab.wait_ready(), "both GMs forwarding (gm-dataplane on net_af_packet)")
    time.sleep(1)  # the counters in telemetry are refreshed every ~100 ms
    step("ARP: no static neighbour entries; each GM found its next hops")
    for gm, hops in (("gA", {"lan": "hA0", "wan": "gBw"}), ("gB", {"lan": "hB0", "wan": "gAw"})):
        nb = lab.telemetry(gm, "/gm/neighbors")
        for side, iface in hops.items():
            n = nb[side]
            print("   %s %s (%s): next hop %s is at %s (%s), ARP requests sent %d" % (
                gm, side, n["ip"], n["next_hop_ip"], n["next_hop_mac"], n["next_hop_by"],
                n["arp_requests"]))
            expect(n["resolved"] == 1 and n["next_hop_mac"] == MAC[iface],
                   "%s's %s next hop is %s's MAC" % (gm, side, iface))
    if with_ks:
        register(lab, bindir, workdir, transport)
    else:
        step("no 2 MB hugepages: static group key on both GMs (no KS)")

    step("ping from host A (%s) to host B (%s)" % (ADDR["hA"], ADDR["hB"]))
    cap = os.path.join(workdir, "wan.pcap")
    tshark = subprocess.Popen(["ip", "netns", "exec", lab.ns["gA"], "tshark", "-q", "-i",
                               lab.ifs["gAw"], "-a", "duration:6", "-w", cap],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2)
    p = sh("ping", "-c", "5", "-i", "0.2", "-W", "2", ADDR["hB"], ns=lab.ns["hA"], check=False)
    print("\n".join("   " + l for l in p.stdout.strip().splitlines()[-2:]))
    expect(p.returncode == 0 and " 0% packet loss" in p.stdout, "no ping lost")
    p = sh("ping", "-c", "2", "-i", "0.2", "-W", "2", ADDR["gA"], ns=lab.ns["hA"], check=False)
    expect(p.returncode == 0 and " 0% packet loss" in p.stdout,
           "host A pings its gateway, gA's LAN address %s (the data plane answers)" % ADDR["gA"])
    neigh = sh("ip", "neigh", "show", ADDR["gA"], ns=lab.ns["hA"]).stdout.strip()
    print("   host A's ARP entry for its gateway: " + neigh)
    expect("lladdr " + MAC["gAl"] in neigh and "PERMANENT" not in neigh,
           "host A learned gA's MAC by ARP")

    step("a 2 MB TCP transfer from host A to host B")
    server = subprocess.Popen(["ip", "netns", "exec", lab.ns["hB"], "/usr/bin/python3", "-c",
                               SERVER], stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    c = sh("/usr/bin/python3", "-c", CLIENT, ns=lab.ns["hA"], check=False, timeout=60)
    server.wait(timeout=30)
    want = "%d %s" % (256 * 8192, hashlib.sha256(bytes(range(256)) * 8192).hexdigest())
    expect(c.stdout.strip() == want, "host B received all 2097152 bytes, sha256 matches")

    step("what crossed the WAN (tshark on gA's WAN veth)")
    tshark.wait(timeout=30)
    lines = sh("tshark", "-r", cap, "ip").stdout.strip().splitlines()
    for l in lines[:6]:
        print("   " + l.strip())
    rows = sh("tshark", "-r", cap, "-T", "fields", "-e", "ip.src", "-e", "ip.dst", "-e",
              "ip.proto", "ip").stdout.split("\n")
    rows = [r.split("\t") for r in rows if r.strip()]
    expect(rows and all(r[2] == "50" for r in rows), "%d packets, every one ESP" % len(rows))
    expect(all({r[0], r[1]} == {ADDR["hA"], ADDR["hB"]} for r in rows),
           "outer addresses are the hosts' own (header preservation)")

    step("host A pings the far GM's LAN address, then traces its way to host B")
    p = sh("ping", "-c", "2", "-i", "0.2", "-W", "2", ADDR["gB"], ns=lab.ns["hA"], check=False)
    expect(p.returncode == 0 and " 0% packet loss" in p.stdout,
           "host A pings gB's LAN address %s through the tunnel (gB answers back through "
           "the group's policy)" % ADDR["gB"])
    out = sh("/usr/bin/python3", "-c", TRACEROUTE, ADDR["hB"], ns=lab.ns["hA"], check=False,
             timeout=60).stdout
    print("\n".join("   " + l for l in out.strip().splitlines()))
    hops = [l.split()[1] for l in out.strip().splitlines() if len(l.split()) >= 2]
    expect(hops == [ADDR["gA"], ADDR["gB"], ADDR["hB"]],
           "each GM answers as a hop (ICMP time exceeded; gB's answer goes back through "
           "the group's policy), then host B")

    step("counters")
    if with_ks:
        gmctl(lab, bindir, workdir, "gA", "show", "crypto", "ipsec", "sa")
        rc, _ = gmctl(lab, bindir, workdir, "gA", "show", "crypto", "gdoi", "gm", "replay")
        expect(rc == 0, "gmctl answered")
        rekey_under_traffic(lab, bindir, workdir, transport)
        every_show(lab, bindir, workdir)
        if transport == "unicast":
            kek_rekey_and_clear(lab, bindir, workdir)
            policy_replacement(lab, bindir, workdir)
            ks_failover(lab, bindir, workdir)
    else:
        show_ipsec_sa(lab, "gA")

    if with_ks:
        pass
    elif lab.hugepages:
        step("TEK rollover with traffic flowing (new SPI 0x5678: inbound first, then outbound)")
        ping = subprocess.Popen(["ip", "netns", "exec", lab.ns["hA"], "ping", "-c", "60", "-i",
                                 "0.05", "-W", "2", ADDR["hB"]], stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)
        for gm in ("gA", "gB"):
            dpctl(lab, gm, "sa-add", "--spi", "0x5678", "--transform", "aes-gcm-128", "--key",
                  KEY2)
        time.sleep(0.3)
        for gm in ("gA", "gB"):
            dpctl(lab, gm, "activate", "--spi", "0x5678")
        time.sleep(1)
        for gm in ("gA", "gB"):
            dpctl(lab, gm, "sa-del", "--spi", "0x1234abcd")
        out, _ = ping.communicate(timeout=60)
        print("\n".join("   " + l for l in out.strip().splitlines()[-2:]))
        expect(" 0% packet loss" in out, "no ping lost across the rollover")
        time.sleep(0.3)
        sas = show_ipsec_sa(lab, "gA")
        expect(list(sas) == ["0x00005678"] and sas["0x00005678"]["pkts_encaps"] > 0,
               "traffic now flows on SPI 0x5678 only")
    else:
        step("TEK rollover skipped: gm-dpctl needs 2 MB hugepages (tools/setup --hugepages 512)")

    if keep:
        step("the lab stays up; Ctrl-C tears it down")
        print("   ip netns exec %s ping %s" % (lab.ns["hA"], ADDR["hB"]))
        print("   dpdk-telemetry.py -f %s        (then /gm/sa, /gm/ports, /gm/replay)" % lab.prefix("gA"))
        print("   ip netns exec %s build/dataplane/gm-dpctl --file-prefix %s -- events --seconds 10"
              % (lab.ns["gA"], lab.prefix("gA")))
        print("   ip netns exec %s tshark -i %s" % (lab.ns["gA"], lab.ifs["gAw"]))
        if with_ks:
            print("   %s/control/gmctl -s %s show crypto gdoi" % (bindir, lab.gm_socket("gA", workdir)))
            print("   %s/control/gmctl -s %s show crypto gdoi ks members" % (bindir, lab.ks_socket(workdir)))
        signal.sigwait([signal.SIGINT, signal.SIGTERM])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--multicast", action="store_true", help="the KS rekeys by multicast")
    ap.add_argument("--build", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                    "..", "build"))
    a = ap.parse_args()
    bindir = os.path.abspath(a.build)
    dp = os.path.join(bindir, "dataplane", "gm-dataplane")
    if not os.path.exists(dp):
        raise SystemExit("no %s: run tools/setup first" % dp)
    lab = Lab(dp, hugepages=free_hugepages() >= 256, arp=True)
    workdir = tempfile.mkdtemp(prefix="gm-lab-")
    # Tear down on Ctrl-C or kill as well as on success or failure.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    if a.keep:
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT, signal.SIGTERM])
    rc = 0
    try:
        run(lab, workdir, a.keep, bindir, "multicast" if a.multicast else "unicast")
        print("\n== lab passed")
    except Failed:
        rc = 1
    except KeyboardInterrupt:
        rc = 130
    finally:
        logs = lab.stop_procs()
        if rc != 0:
            for name, text in logs.items():
                print("--- %s log (tail) ---\n%s" % (name, text[-2000:]))
        outs = lab.stop_gms()
        for gm, (text, st) in outs.items():
            if st is not None:
                drops = {k: v for s in st["sas"] for k, v in s["drops"].items()}
                print("   %s: lan rx %d tx %d, wan rx %d tx %d, SA drops %s" % (
                    gm, st["lan"]["rx"], st["lan"]["tx"], st["wan"]["rx"], st["wan"]["tx"],
                    drops or "none"))
                if drops and rc == 0:
                    print("   FAILED: %s dropped packets on its SAs" % gm)
                    rc = 1
        lab.teardown()
        subprocess.run(["rm", "-rf", workdir])
        print("== lab torn down")
    return rc


if __name__ == "__main__":
    sys.exit(main())
