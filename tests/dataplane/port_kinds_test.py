#!/usr/bin/python3
"""gm-dataplane on port kinds other than net_pcap files, and what the device limits do.

The port set-up (dataplane/port_setup.cc) takes queue counts, the MTU range and RSS from
what each device reports, so PCI NICs and vdevs go through the same code. No PCI NIC is
available to the tests; these cases drive the parts of that code a vdev can reach, under
the oracles of pcap_integration_test (python3-cryptography and scapy):

  jumbo        `mtu: 9000` over net_pcap: packets of 2,000-8,900 bytes are encrypted and
               decrypted whole (the mbufs are sized from the MTU; with DPDK's default
               2 KB mbufs they were dropped as chained_mbuf / no_tailroom), and one that
               does not fit the WAN MTU once encrypted is fragmented first.
  limits       `workers: 2` on a one-queue device, and an MTU above a device's maximum:
               non-zero exit, and the message names the config file, the port and the limit.
  link wait    a port whose link stays down (a memif server without a client): start-up
               waits for it, and SIGINT during the wait ends the process at once, cleanly.
  tap          net_tap ports inside a network namespace this test creates and deletes:
               the YAML MTU reaches the kernel interfaces, frames sent from the kernel side
               of the LAN TAP come out of the WAN TAP as ESP the oracle opens (one
               fragmented first), and ESP sent into the WAN TAP comes out of the LAN TAP
               decrypted; the WAN link taken down and up gives two %LINK-3-UPDOWN lines
               and /gm/ports's link_up and link_changes follow.
  arp          `next_hop_ip` on net_tap ports, the kernel as LAN host and WAN router with
               no static neighbour entries: the GM resolves both next hops by ARP, answers
               ARP and pings for its own addresses and time exceeded for a TTL-1 probe,
               the kernel's datagrams flow both ways,
               the router's gratuitous ARP after a MAC change moves the next hop, and each
               link-up announces the port.
  af_packet    `workers: 2` on net_af_packet with qpairs=2 in a network namespace: the
  workers      kernel's flow hash spreads flows over the queues as RSS does; each flow is
               encrypted (decrypted) by one worker, in order, both workers get flows, and
               every packet arrives.
  memif        two data planes (two processes) with their WAN ports joined by net_memif:
               start-up waits for the memif link, so none of the traffic the sender's LAN
               pcap holds is lost while the peer connects; it arrives at the other's LAN,
               TTL - 2, and both processes exit cleanly as their peer goes away.

  port_kinds_test.py PATH/TO/gm-dataplane
"""
import contextlib
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pcap_integration_test as pit  # noqa: E402
from pcap_integration_test import UDP, Raw, oc  # noqa: E402

sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
from labnet import telemetry  # noqa: E402

SEED = 0x706B  # "pk"
NS = f"gmpk{os.getpid()}"


def udp_packets(ids, sizes, ttl=64):
    return [pit.ipv4(ids, UDP(sport=1000 + k, dport=2000) / Raw(bytes([k]) * s), ttl=ttl)
            for k, s in enumerate(sizes)]


def open_esp(c, what, fr, xf, ck, ak, tbar):
    """The inner IP packet of one ESP frame (TBAR metadata removed), or None."""
    try:
        _, _, _, pt = oc.esp_open(xf, ck, ak, fr[14 + 20:])
    except Exception as e:  # noqa: BLE001
        c.check(False, f"{what}: the oracle cannot open the ESP: {e!r}")
        return None
    body = pt[:-2 - pt[-2]]
    return body[16:] if tbar else body


def check_whole_esp(c, what, frames, xf, ck, ak, tbar, want):
    """Every ESP frame that carries a whole packet (not a fragment) passes the oracle's
    checks, and together they are `want` (IP id -> LAN input), each once."""
    got = []
    for k, fr in enumerate(frames):
        inner = open_esp(c, f"{what}: WAN frame {k}", fr, xf, ck, ak, tbar)
        if inner is None or struct.unpack_from("!H", inner, 6)[0] & 0x3FFF:
            continue
        g = pit.check_esp_out(c, f"{what}: WAN frame {k}", fr, xf, ck, ak, tbar, "copy", 1, want)
        got.append(g[0] if g else None)
    pit.check_id_sets(c, f"{what}: outbound", got, want)


def check_fragments(c, what, frames, xf, ck, ak, tbar, src, mtu):
    """The ESP frames carrying fragments of `src` (by IP id): each fits `mtu`, and the
    fragments put together are `src` with TTL - 1."""
    parts = []
    for fr in frames:
        if fr[14 + 9] != 50:
            continue
        inner = open_esp(c, what, fr, xf, ck, ak, tbar)
        if inner is None or pit.ident(inner) != pit.ident(src):
            continue
        c.check(len(fr) - 14 <= mtu, f"{what}: ESP fragment of {len(fr) - 14} bytes > mtu {mtu}")
        off = (struct.unpack_from("!H", inner, 6)[0] & 0x1FFF) * 8
        parts.append((off, inner[(inner[0] & 0xF) * 4:], inner))
    if not c.check(len(parts) >= 2, f"{what}: {len(parts)} ESP fragment(s) of id "
                   f"{pit.ident(src)}, want at least 2"):
        return
    parts.sort(key=lambda p: p[0])
    data = b"".join(p[1] for p in parts)
    ihl = (src[0] & 0xF) * 4
    c.check(data == src[ihl:], f"{what}: reassembled payload differs from the input")
    c.check(all(p[2][8] == src[8] - 1 for p in parts), f"{what}: fragment TTL != input TTL-1")


def jumbo(c, tmp, rng, xf, tbar):
    what = f"jumbo {xf} tbar={'on' if tbar else 'off'}"
    ck, ak = oc.keys_for(rng, xf)
    ids = pit.Ids(rng)
    cfg = pit.config_text(xf, ck, ak, tbar=tbar).replace("mtu: 1500", "mtu: 9000")
    whole = udp_packets(ids, [64, 1400, 1900, 2000, 4000, 8000, 8800])
    too_big = udp_packets(ids, [8960])[0]  # 8988 bytes: fits the LAN, not the WAN once encrypted
    sealer = pit.Sealer(rng, xf, ck, ak)
    inbound = udp_packets(ids, [2000, 4000, 8000, 8900])
    wan_in = [sealer.frame(p, pt_ms=sealer.stamp() if tbar else None) for p in inbound]
    r = pit.run_gm(tmp, f"jumbo-{xf}", cfg, [pit.eth(p) for p in whole + [too_big]], wan_in)
    if not pit.ran_ok(c, what, r):
        return
    pit.check_drops(c, what, r, {})
    st = r.stats
    c.check(st["lan"]["fragmented"] == 1, f"{what}: fragmented {st['lan']}")
    c.check((st["lan"]["rx"], st["wan"]["rx"]) == (len(whole) + 1, len(wan_in)),
            f"{what}: rx {st['lan']['rx']}, {st['wan']['rx']}")
    c.check((st["lan"]["tx"], st["wan"]["tx"]) == (len(r.lan_out), len(r.wan_out)),
            f"{what}: tx {st['lan']['tx']}, {st['wan']['tx']} != the pcaps' frames")
    c.check(len(r.lan_out) == len(inbound), f"{what}: {len(r.lan_out)} LAN frames")
    want = {pit.ident(p): p for p in whole}
    check_whole_esp(c, what, r.wan_out, xf, ck, ak, tbar, want)
    c.check(max(len(fr) for fr in r.wan_out) - 14 <= 9000, f"{what}: an ESP packet over 9000")
    check_fragments(c, f"{what}: fragmented", r.wan_out, xf, ck, ak, tbar, too_big, 9000)
    want_in = {pit.ident(p): p for p in inbound}
    got_in = [pit.check_clear_out(c, f"{what}: LAN frame {k}", fr, pit.LAN_HOP, pit.LAN_MAC,
                                  want_in) for k, fr in enumerate(r.lan_out)]
    pit.check_id_sets(c, f"{what}: inbound", got_in, want_in)


def limits(c, tmp, rng):
    ck, ak = oc.keys_for(rng, "aes-gcm-128")
    cfg = pit.config_text("aes-gcm-128", ck, ak, workers=2)
    r = pit.run_gm(tmp, "limits-queues", cfg, [], [], lcores="0@0,1@1,2@1")
    c.check(r.rc not in (0, "timeout"), f"workers 2 on one queue: exit {r.rc}")
    c.check(f"{r.cfg}: lan port net_pcap0: workers: 2 needs as many RX and TX queues; the "
            "device has at most 1 RX and 1 TX (net_pcap: one rx_pcap/tx_pcap argument per "
            "queue)" in r.err, f"workers 2 on one queue: message\n{r.err[-600:]}")


def link_wait(c, tmp, rng):
    """A memif server with no client: its link stays down. It waits for it, and a SIGINT
    during the wait ends the process at once and cleanly."""
    ck, ak = oc.keys_for(rng, "aes-gcm-128")
    path = os.path.join(tmp, "link-wait.yaml")
    with open(path, "w") as f:
        f.write(pit.config_text("aes-gcm-128", ck, ak).replace("net_pcap1", "net_memif0"))
    os.chmod(path, 0o600)
    empty = os.path.join(tmp, "link-wait.pcap")
    oc.write_pcap(empty, [])
    prefix = f"gmpk-{os.getpid()}-link-wait"
    p = subprocess.Popen([pit.GM, "-l", "0,1", "--no-huge", "-m", "256", "--no-pci",
                          "--file-prefix", prefix, "--log-level", "lib.eal:warning",
                          "--vdev", f"net_pcap0,rx_pcap={empty}",
                          "--vdev", f"net_memif0,role=server,socket={tmp}/lonely.sock,id=0",
                          "--", "--config", path],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = wait_for("waiting up to 10000 ms for their links", p)
    c.check("waiting up to 10000 ms" in seen, f"link wait: no waiting line:\n{seen}")
    time.sleep(0.5)
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    try:
        err = seen + p.communicate(timeout=20)[1]
    except subprocess.TimeoutExpired:
        p.kill()
        err = seen + p.communicate()[1]
    took = time.monotonic() - t0
    shutil.rmtree(os.path.join("/var/run/dpdk", prefix), ignore_errors=True)
    c.check(p.returncode == 0 and took < 3, f"link wait: SIGINT ended it with {p.returncode} "
            f"after {took:.1f}s\n{err[-800:]}")
    c.check("wan port net_memif0: link down" in err and "still down" not in err,
            f"link wait: the link lines\n{err[-800:]}")


@contextlib.contextmanager
def quiet_netns():
    """The test's network namespace, without IPv6 so that the kernel sends nothing of its
    own on the interfaces in it; deleted afterwards, whatever happened."""
    subprocess.run(["ip", "netns", "add", NS], check=True)
    try:
        ns_run("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
               "net.ipv6.conf.default.disable_ipv6=1")
        yield
    finally:
        subprocess.run(["ip", "netns", "del", NS], check=False)


def ns_run(*cmd, check=True, **kw):
    return subprocess.run(["ip", "netns", "exec", NS] + list(cmd), check=check,
                          capture_output=True, text=True, timeout=60, **kw)


SNIFF = """
import sys, time
from scapy.all import AsyncSniffer, rdpcap, sendp, wrpcap, conf
conf.verb = 0
send_if, sniff_if, frames_in, frames_out = sys.argv[1:5]
t = AsyncSniffer(iface=sniff_if, store=True)
t.start()
time.sleep(0.5)
sendp(rdpcap(frames_in), iface=send_if, inter=0.002)
time.sleep(1.0)
t.stop()
wrpcap(frames_out, [bytes(p) for p in t.results])
"""


def tap_frames(tmp, name, send_if, sniff_if, frames):
    """Sends `frames` from the kernel side of one TAP, returns what the other one got."""
    fin, fout = os.path.join(tmp, name + "-in.pcap"), os.path.join(tmp, name + "-out.pcap")
    oc.write_pcap(fin, frames)
    ns_run("/usr/bin/python3", "-c", SNIFF, send_if, sniff_if, fin, fout)
    return oc.read_pcap(fout) if os.path.exists(fout) else []


def tap_gm(tmp, tag, cfg, seconds=None):
    path = os.path.join(tmp, f"tap-{tag}.yaml")
    with open(path, "w") as f:
        f.write(cfg)
    os.chmod(path, 0o600)
    prefix = f"gmpk-{os.getpid()}-{tag}"
    cmd = ["ip", "netns", "exec", NS, pit.GM, "-l", "0,1", "--no-huge", "-m", "256",
           "--no-pci", "--file-prefix", prefix, "--log-level", "lib.eal:warning",
           "--log-level", "pmd.net.tap:error",
           "--vdev", "net_tap0,iface=gmlan", "--vdev", "net_tap1,iface=gmwan",
           "--", "--config", path] + (["--duration-s", str(seconds)] if seconds else [])
    return path, prefix, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True)


def wait_for(text, proc, timeout=20):
    """Reads the process's stderr until `text` appears; returns what was read."""
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
        if text in line:
            break
    return seen


def tap(c, tmp, rng):
    xf = "aes-cbc-128-sha1"
    what = "tap"
    ck, ak = oc.keys_for(rng, xf)
    ids = pit.Ids(rng)
    with quiet_netns():
        # An MTU above what net_tap takes (1504 in DPDK 22.11) is refused by name.
        cfg = pit.config_text(xf, ck, ak, tbar=False).replace("net_pcap", "net_tap")
        path, prefix, p = tap_gm(tmp, "big", cfg.replace("mtu: 1500", "mtu: 9000"), 5)
        _, err = p.communicate(timeout=60)
        c.check(p.returncode not in (0, None), f"{what}: mtu 9000 on a TAP: exit {p.returncode}")
        c.check(f"{path}: lan port net_tap0: mtu 9000 is outside the device's range " in err
                and "..1504\n" in err, f"{what}: mtu 9000 on a TAP: message\n{err[-600:]}")
        shutil.rmtree(os.path.join("/var/run/dpdk", prefix), ignore_errors=True)

        path, prefix, p = tap_gm(tmp, "run", cfg.replace("mtu: 1500", "mtu: 1400"))
        seen = wait_for("worker(s) forwarding", p)
        if not c.check("worker(s) forwarding" in seen, f"{what}: did not start:\n{seen}"):
            p.kill()
            p.communicate()
            return
        for dev in ("gmlan", "gmwan"):
            c.check(" mtu 1400 " in ns_run("ip", "-o", "link", "show", dev).stdout,
                    f"{what}: {dev}'s kernel MTU is not the YAML's 1400")
            c.check(f"port net_tap{0 if dev == 'gmlan' else 1}: link up" in seen,
                    f"{what}: no link-up line for {dev}:\n{seen}")
        out_pkts = udp_packets(ids, [40, 600, 1300])
        too_big = udp_packets(ids, [1340])[0]  # 1368 bytes: fits the LAN, not the WAN encrypted
        got = tap_frames(tmp, "out", "gmlan", "gmwan", [pit.eth(x) for x in out_pkts + [too_big]])
        check_whole_esp(c, what, got, xf, ck, ak, False, {pit.ident(x): x for x in out_pkts})
        check_fragments(c, f"{what}: fragmented", got, xf, ck, ak, False, too_big, 1400)
        sealer = pit.Sealer(rng, xf, ck, ak)
        in_pkts = udp_packets(ids, [40, 600, 1300])
        got = tap_frames(tmp, "in", "gmwan", "gmlan", [sealer.frame(x) for x in in_pkts])
        want_in = {pit.ident(x): x for x in in_pkts}
        ids_in = [pit.check_clear_out(c, f"{what}: LAN frame {k}", fr, pit.LAN_HOP, pit.LAN_MAC,
                                      want_in) for k, fr in enumerate(got)]
        pit.check_id_sets(c, f"{what}: inbound", ids_in, want_in)
        # The WAN link flaps: two IOS-style lines, and /gm/ports counts it.
        ns_run("ip", "link", "set", "gmwan", "down")
        down = wait_for("%LINK-3-UPDOWN: wan port net_tap1, changed state to down", p, 5)
        c.check("changed state to down" in down, f"{what}: no link-down line:\n{down}")
        c.check(telemetry(prefix, "/gm/ports")["wan"]["link_up"] == 0,
                f"{what}: /gm/ports says the WAN link is up while it is down")
        ns_run("ip", "link", "set", "gmwan", "up")
        up = wait_for("%LINK-3-UPDOWN: wan port net_tap1, changed state to up", p, 5)
        c.check("changed state to up" in up, f"{what}: no link-up line:\n{up}")
        wan = telemetry(prefix, "/gm/ports")["wan"]
        c.check((wan["link_up"], wan["link_changes"]) == (1, 2),
                f"{what}: /gm/ports after the flap: link_up {wan['link_up']}, "
                f"link_changes {wan['link_changes']}")
        lan = telemetry(prefix, "/gm/ports")["lan"]
        c.check((lan["link_up"], lan["link_changes"]) == (1, 0), f"{what}: LAN link {lan}")
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=60)
        c.check(p.returncode == 0, f"{what}: gm-dataplane exited {p.returncode}")
        shutil.rmtree(os.path.join("/var/run/dpdk", prefix), ignore_errors=True)



ARP_TRAFFIC = """
import json, socket, sys, time
from scapy.all import ARP, AsyncSniffer, Ether, get_if_hwaddr, rdpcap, sendp, srp1, wrpcap, conf
conf.verb = 0
esp_in, wan_out, result, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
res = {}
# The GM answers ARP for its WAN address.
r = srp1(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=get_if_hwaddr("gmwan"),
         psrc="192.0.2.2", pdst="192.0.2.1"), iface="gmwan", timeout=3)
res["wan_is_at"] = r[ARP].hwsrc if r is not None and ARP in r and r[ARP].op == 2 else None
# Out: the kernel's own UDP datagrams, through a route via the GM (it ARPs for 10.1.0.1).
t = AsyncSniffer(iface="gmwan", store=True)
t.start()
time.sleep(0.5)
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
tx.bind(("10.1.0.2", 0))
for k in range(count):
    tx.sendto(b"out %03d " % k + bytes(200), ("10.2.0.5", 5000))
    time.sleep(0.01)
time.sleep(1.0)
t.stop()
wrpcap(wan_out, [bytes(p) for p in t.results])
# In: ESP for 10.1.0.2:6000 into the WAN TAP; the GM sends it to its LAN next hop, the
# kernel, whose socket gets it only if the frame was addressed to the kernel's MAC.
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind(("10.1.0.2", 6000))
rx.settimeout(3)
sendp(rdpcap(esp_in), iface="gmwan", inter=0.01)
got = []
try:
    while len(got) < count:
        got.append(rx.recv(2048).decode("latin-1"))
except socket.timeout:
    pass
res["received"] = got
with open(result, "w") as f:
    json.dump(res, f)
"""


def arp(c, tmp, rng):
    """`next_hop_ip` and `ip` on both net_tap ports in a namespace, the kernel as LAN host
    and WAN router, no static neighbour entry anywhere: the GM finds both next hops by ARP
    (the lines and /gm/neighbors say which MAC), answers the kernel's ARP for its
    addresses, and traffic flows both ways with nothing dropped for want of a MAC."""
    xf, what = "aes-gcm-128", "arp"
    ck, ak = oc.keys_for(rng, xf)
    count = 20
    cfg = pit.config_text(xf, ck, ak, tbar=False).replace("net_pcap", "net_tap")
    cfg = cfg.replace(f'  next_hop_mac: "{pit.LAN_HOP}"',
                      '  ip: "10.1.0.1"\n  next_hop_ip: "10.1.0.2"')
    cfg = cfg.replace(f'  next_hop_mac: "{pit.WAN_HOP}"',
                      '  ip: "192.0.2.1"\n  next_hop_ip: "192.0.2.2"')
    with quiet_netns():
        path, prefix, p = tap_gm(tmp, "arp", cfg)
        seen = wait_for("worker(s) forwarding", p)
        if not c.check("worker(s) forwarding" in seen, f"{what}: did not start:\n{seen}"):
            p.kill()
            p.communicate()
            return
        ns_run("ip", "addr", "add", "10.1.0.2/24", "dev", "gmlan")
        ns_run("ip", "addr", "add", "192.0.2.2/24", "dev", "gmwan")
        ns_run("ip", "route", "add", "10.2.0.0/24", "via", "10.1.0.1", "dev", "gmlan")
        kmac = {d: ns_run("cat", f"/sys/class/net/{d}/address").stdout.strip()
                for d in ("gmlan", "gmwan")}
        # The GM asks every second until answered; the kernel answers once it has the address.
        lines = ""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and lines.count(": next hop ") < 2:
            lines += wait_for(": next hop ", p, 10)
        for port, dev, hop in (("lan port net_tap0", "gmlan", "10.1.0.2"),
                               ("wan port net_tap1", "gmwan", "192.0.2.2")):
            c.check(f"{port}: next hop {hop} is at {kmac[dev]}\n" in lines,
                    f"{what}: no line resolving {hop} to {dev}'s {kmac[dev]}:\n{lines}")
        # The kernel took the GM's LAN address from the GM's request; forgotten, it must ask.
        ns_run("ip", "neigh", "flush", "dev", "gmlan")
        sealer = pit.Sealer(rng, xf, ck, ak)
        ids = pit.Ids(rng)
        esp_in = [sealer.frame(pit.ipv4(ids, UDP(sport=5000, dport=6000) /
                                        Raw(b"in %03d " % k + bytes(100)),
                                        src="10.2.0.5", dst="10.1.0.2")) for k in range(count)]
        fin, fout = os.path.join(tmp, "arp-esp-in.pcap"), os.path.join(tmp, "arp-wan-out.pcap")
        res_path = os.path.join(tmp, "arp-result.json")
        oc.write_pcap(fin, esp_in)
        ns_run("/usr/bin/python3", "-c", ARP_TRAFFIC, fin, fout, res_path, str(count))
        with open(res_path) as f:
            res = json.load(f)
        c.check(res["wan_is_at"] == pit.WAN_MAC,
                f"{what}: ARP for 192.0.2.1 answered with {res['wan_is_at']}, want {pit.WAN_MAC}")
        neigh = ns_run("ip", "neigh", "show", "10.1.0.1", "dev", "gmlan").stdout
        c.check(f"lladdr {pit.LAN_MAC}" in neigh,
                f"{what}: the kernel's entry for the GM's LAN address: {neigh!r}")
        # Out: every datagram as ESP, to the router's MAC, the oracle opens it.
        frames = [fr for fr in (oc.read_pcap(fout) if os.path.exists(fout) else [])
                  if fr[12:14] == b"\x08\x00" and fr[14 + 9] == 50]
        payloads = []
        for k, fr in enumerate(frames):
            c.check(fr[:6] == pit.mac_bytes(kmac["gmwan"]) and fr[6:12] == pit.mac_bytes(pit.WAN_MAC),
                    f"{what}: ESP frame {k}: MACs {fr[:12].hex()}")
            inner = open_esp(c, f"{what}: ESP frame {k}", fr, xf, ck, ak, False)
            if inner is not None:
                ihl = (inner[0] & 0xF) * 4
                c.check(inner[12:20] == bytes([10, 1, 0, 2, 10, 2, 0, 5]),
                        f"{what}: ESP frame {k}: inner addresses {inner[12:20].hex()}")
                payloads.append(inner[ihl + 8:])
        want = sorted(b"out %03d " % k + bytes(200) for k in range(count))
        c.check(sorted(payloads) == want,
                f"{what}: {len(payloads)} datagrams out as ESP, want the {count} sent")
        # In: every datagram reached the kernel's socket (so its MAC was the kernel's).
        want_in = sorted("in %03d " % k + "\x00" * 100 for k in range(count))
        c.check(sorted(res["received"]) == want_in,
                f"{what}: {len(res['received'])} of {count} ESP datagrams reached the LAN socket")
        # The GM answers pings to its addresses, each on the port it came in by.
        for addr in ("10.1.0.1", "192.0.2.1"):
            out = ns_run("ping", "-c", "3", "-i", "0.2", "-W", "2", addr, check=False).stdout
            c.check(" 0% packet loss" in out, f"{what}: ping {addr}: {out[-300:]}")
        # A probe whose TTL runs out at the GM is answered from the GM's LAN address.
        probe = ns_run("/usr/bin/python3", "-c", "from scapy.all import IP, UDP, ICMP, sr1; "
                       "r = sr1(IP(dst='10.2.0.5', ttl=1) / UDP(dport=33434), timeout=3, "
                       "verbose=0); print(r[IP].src, r[ICMP].type, r[ICMP].code) if r else "
                       "print('none')").stdout.split()
        c.check(probe == ["10.1.0.1", "11", "0"], f"{what}: TTL-1 probe answered by {probe}")
        # The WAN router moves (a failover): its gratuitous ARP moves the next hop at once.
        moved = "02:00:00:00:0b:77"
        ns_run("ip", "link", "set", "gmwan", "address", moved)
        ns_run("/usr/bin/python3", "-c", "from scapy.all import ARP, Ether, sendp; sendp("
               f"Ether(src='{moved}', dst='ff:ff:ff:ff:ff:ff') / ARP(op=1, hwsrc='{moved}', "
               "psrc='192.0.2.2', pdst='192.0.2.2'), iface='gmwan', verbose=0)")
        line = wait_for(": next hop 192.0.2.2", p, 5)
        c.check(f"wan port net_tap1: next hop 192.0.2.2 is at {moved} (was {kmac['gmwan']})"
                in line, f"{what}: no line for the router's move:\n{line}")
        kmac["gmwan"] = moved
        # Each link-up announces the port (the start was the first); a flap gives another.
        ns_run("ip", "link", "set", "gmwan", "down")
        wait_for("%LINK-3-UPDOWN: wan port net_tap1, changed state to down", p, 5)
        ns_run("ip", "link", "set", "gmwan", "up")
        up = wait_for("%LINK-3-UPDOWN: wan port net_tap1, changed state to up", p, 5)
        c.check("changed state to up" in up, f"{what}: no link-up line after the flap:\n{up}")
        deadline = time.monotonic() + 3
        while (time.monotonic() < deadline and
               telemetry(prefix, "/gm/neighbors")["wan"]["arp_announcements"] < 2):
            time.sleep(0.1)
        nb = telemetry(prefix, "/gm/neighbors")
        for side, dev, ip, hop in (("lan", "gmlan", "10.1.0.1", "10.1.0.2"),
                                   ("wan", "gmwan", "192.0.2.1", "192.0.2.2")):
            n = nb[side]
            c.check((n["ip"], n["next_hop_ip"], n["next_hop_by"], n["resolved"],
                     n["next_hop_mac"], n["no_neighbor"], n["arp_learned"], n["echo_requests"],
                     n["for_us"], n["arp_announcements"]) ==
                    (ip, hop, "arp", 1, kmac[dev], 0, 1 + (side == "wan"), 3, 0,
                     1 + (side == "wan")), f"{what}: /gm/neighbors {side}: {n}")
            c.check(n["arp_requests"] >= 1 and n["arp_replies"] >= 1 and n["arp_in"] >= 2,
                    f"{what}: /gm/neighbors {side} ARP counters: {n}")
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=60)
        c.check(p.returncode == 0, f"{what}: gm-dataplane exited {p.returncode}")
        shutil.rmtree(os.path.join("/var/run/dpdk", prefix), ignore_errors=True)


def af_packet_workers(c, tmp, rng):
    """`workers: 2` on net_af_packet with qpairs=2: the kernel's flow hash (PACKET_FANOUT)
    spreads the flows over the two queues of each port as a NIC's RSS does. Each flow is
    handled by one worker, in order; both workers get flows; nothing is lost."""
    xf, what = "aes-gcm-128", "af_packet two workers"
    ck, ak = oc.keys_for(rng, xf)
    ids = pit.Ids(rng)
    with quiet_netns():
        for a, b in (("hlan", "gmlan"), ("hwan", "gmwan")):
            ns_run("ip", "link", "add", a, "type", "veth", "peer", "name", b)
            for dev in (a, b):
                ns_run("ip", "link", "set", dev, "up")
                ns_run("ethtool", "-K", dev, "tx", "off", check=False)
        # No TBAR: the stamps the pcap tests use are pseudotimes near the configured start,
        # and this run's inbound half comes seconds later (TBAR has its own tests).
        cfg = pit.config_text(xf, ck, ak, tbar=False, workers=2).replace(
            "net_pcap", "net_af_packet")
        path = os.path.join(tmp, "afp.yaml")
        with open(path, "w") as f:
            f.write(cfg)
        os.chmod(path, 0o600)
        prefix = f"gmpk-{os.getpid()}-afp"
        p = subprocess.Popen(
            ["ip", "netns", "exec", NS, pit.GM, "--lcores", "0@0,1@1,2@1", "--no-huge", "-m",
             "256", "--no-pci", "--file-prefix", prefix, "--log-level", "lib.eal:warning",
             "--vdev", "net_af_packet0,iface=gmlan,qpairs=2",
             "--vdev", "net_af_packet1,iface=gmwan,qpairs=2",
             "--", "--config", path],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen = wait_for("worker(s) forwarding", p)
        if not c.check("2 worker(s) forwarding" in seen, f"{what}: did not start:\n{seen}"):
            p.kill()
            p.communicate()
            return
        flows, per_flow = 16, 12
        # Outbound: flow f is UDP source port 5000 + f; the payload counts its packets.
        out = {(f, k): pit.ipv4(ids, UDP(sport=5000 + f, dport=2000) /
                                Raw(struct.pack("!HH", f, k) * 50))
               for k in range(per_flow) for f in range(flows)}
        order = [(f, k) for k in range(per_flow) for f in range(flows)]
        got = tap_frames(tmp, "afp-out", "hlan", "hwan", [pit.eth(out[x]) for x in order])
        want = {pit.ident(x): x for x in out.values()}
        key_of = {pit.ident(x): fk for fk, x in out.items()}
        seen_ids, worker_of, seq_of = [], {}, {}
        for n, fr in enumerate(got):
            res = pit.check_esp_out(c, f"{what}: WAN frame {n}", fr, xf, ck, ak, False, "copy",
                                    1, want)
            if not res:
                continue
            i, _, iv, _ = res
            seen_ids.append(i)
            f, k = key_of[i]
            worker_of.setdefault(f, set()).add(iv[2])  # the GCM IV's worker byte
            seq_of.setdefault(f, []).append(k)
        pit.check_id_sets(c, f"{what}: outbound", seen_ids, want)
        c.check(all(len(w) == 1 for w in worker_of.values()),
                f"{what}: a flow split over workers: {worker_of}")
        c.check(set().union(*worker_of.values()) == {0, 1},
                f"{what}: the flows did not reach both workers: {worker_of}")
        c.check(all(s == sorted(s) for s in seq_of.values()),
                f"{what}: a flow reordered: {seq_of}")
        # Inbound: flow f comes from host 10.1.1.(10 + f) (header preserved: the outer
        # addresses are the inner ones, which is what the kernel hashes for ESP).
        sealer = pit.Sealer(rng, xf, ck, ak)
        inb = {(f, k): pit.ipv4(ids, UDP(sport=7000, dport=2000) / Raw(struct.pack("!HH", f, k)),
                                src=f"10.1.1.{10 + f}")
               for k in range(per_flow) for f in range(flows)}
        got = tap_frames(tmp, "afp-in", "hwan", "hlan",
                         [sealer.frame(inb[x]) for x in order])
        want_in = {pit.ident(x): x for x in inb.values()}
        key_in = {pit.ident(x): fk for fk, x in inb.items()}
        ids_in, seq_in = [], {}
        for n, fr in enumerate(got):
            i = pit.check_clear_out(c, f"{what}: LAN frame {n}", fr, pit.LAN_HOP, pit.LAN_MAC,
                                    want_in)
            ids_in.append(i)
            if i is not None:
                seq_in.setdefault(key_in[i][0], []).append(key_in[i][1])
        pit.check_id_sets(c, f"{what}: inbound", ids_in, want_in)
        c.check(all(s == sorted(s) for s in seq_in.values()),
                f"{what}: an inbound flow reordered: {seq_in}")
        per = telemetry(prefix, "/gm/lcores")
        dec = [per[w]["pkts_decaps"] for w in ("worker0", "worker1")]
        enc = [per[w]["pkts_encaps"] for w in ("worker0", "worker1")]
        c.check(sum(enc) == len(out) and sum(dec) == len(inb) and min(dec) > 0 and min(enc) > 0,
                f"{what}: per-worker encaps {enc}, decaps {dec}")
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=60)
        c.check(p.returncode == 0, f"{what}: gm-dataplane exited {p.returncode}")
        shutil.rmtree(os.path.join("/var/run/dpdk", prefix), ignore_errors=True)



def memif_run(c, tmp, rng, tag, sender_role):
    """GM "tx" sends its LAN pcap's packets over memif to GM "rx", whose LAN pcap must then
    hold each once, TTL - 2. `sender_role`: the sender's memif role."""
    xf = "aes-gcm-128"
    what = f"memif, {sender_role} to {'client' if sender_role == 'server' else 'server'}"
    ck, ak = oc.keys_for(rng, xf)
    ids = pit.Ids(rng)
    sock = os.path.join(tmp, f"memif-{tag}.sock")
    sent = udp_packets(ids, [rng.choice([40, 200, 600, 1300]) for _ in range(150)], ttl=9)
    roles = {"tx": sender_role, "rx": "client" if sender_role == "server" else "server"}
    procs, files, logs = {}, {}, {}
    for side in sorted(roles, key=lambda s: roles[s] != "server"):  # the server first
        cfg = pit.config_text(xf, ck, ak, tbar=True, sender_id=7 if side == "tx" else 8)
        path = os.path.join(tmp, f"memif-{tag}-{side}.yaml")
        with open(path, "w") as f:
            f.write(cfg.replace("net_pcap1", "net_memif0"))
        os.chmod(path, 0o600)
        lan_in = os.path.join(tmp, f"memif-{tag}-{side}-in.pcap")
        oc.write_pcap(lan_in, [pit.eth(x) for x in sent] if side == "tx" else [])
        files[side] = (os.path.join(tmp, f"memif-{tag}-{side}-out.pcap"),
                       os.path.join(tmp, f"memif-{tag}-{side}.json"),
                       f"gmpk-{os.getpid()}-memif-{tag}-{side}")
        cmd = [pit.GM, "-l", "0,1", "--no-huge", "-m", "256", "--no-pci", "--file-prefix",
               files[side][2], "--log-level", "lib.eal:warning",
               "--vdev", f"net_pcap0,rx_pcap={lan_in},tx_pcap={files[side][0]}",
               "--vdev", f"net_memif0,role={roles[side]},socket={sock},id=0",
               "--", "--config", path, "--exit-when-idle-ms", "2000",
               "--stats-json", files[side][1]]
        procs[side] = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True)
        logs[side] = ""
        if roles[side] == "server":
            # DPDK 22.11's memif client gives up for good ("ID not found") if it connects
            # before the server's port is started, so the client starts after that.
            logs[side] = wait_for("ports started", procs[side])
    for side, p in procs.items():
        try:
            logs[side] += p.communicate(timeout=90)[1]
        except subprocess.TimeoutExpired:
            p.kill()
            logs[side] += p.communicate()[1]
        shutil.rmtree(os.path.join("/var/run/dpdk", files[side][2]), ignore_errors=True)
        # Both exit cleanly: the peer going away while a data plane shuts down is no crash.
        c.check(p.returncode == 0, f"{what}: {side} exit {p.returncode}\n{logs[side][-1500:]}")
        c.check("wan port net_memif0: link up" in logs[side],
                f"{what}: {side}: no memif link-up line\n{logs[side][-1500:]}")
    if not all(os.path.exists(files[s][1]) for s in procs):
        c.check(False, f"{what}: no stats JSON")
        return
    stats = {}
    for side in procs:
        with open(files[side][1]) as f:
            stats[side] = json.load(f)
    want = {pit.ident(x): x for x in sent}
    got = [pit.check_clear_out(c, f"{what}: frame {k}", fr, pit.LAN_HOP, pit.LAN_MAC, want,
                               ttl_dec=2)
           for k, fr in enumerate(oc.read_pcap(files["rx"][0]))]
    pit.check_id_sets(c, what, got, want)
    c.check(stats["tx"]["sas"][0]["encaps"] == len(sent) and stats["tx"]["wan"]["drops"] == {},
            f"{what}: sender: encaps {stats['tx']['sas'][0]['encaps']} of {len(sent)}, "
            f"WAN drops {stats['tx']['wan']['drops']}")
    c.check(stats["rx"]["replay"]["input_packets"] == len(sent),
            f"{what}: receiver's TBAR input {stats['rx']['replay']}")


def memif(c, tmp, rng):
    # The sender is the memif client. A memif server can send only into buffers the client
    # has handed it, which the client first does on its first receive poll, so what a
    # server sends in its first moments after link-up is tx_full: a test of that direction
    # would count a race, not the data plane.
    memif_run(c, tmp, rng, "1", "client")


def main():
    pit.gm_from_argv()
    c = oc.Checker("gm-dataplane port kinds")
    rng = random.Random(SEED)
    only = os.environ.get("ONLY")  # one part by name, when working on it
    with tempfile.TemporaryDirectory(prefix="gm-dp-pk-") as tmp:
        for name, fn, args in (("jumbo aes-gcm-128", jumbo, ("aes-gcm-128", True)),
                               ("jumbo aes-cbc-256-sha1", jumbo, ("aes-cbc-256-sha1", False)),
                               ("limits", limits, ()), ("link wait", link_wait, ()),
                               ("tap", tap, ()), ("arp", arp, ()),
                               ("af_packet workers", af_packet_workers, ()),
                               ("memif", memif, ())):
            if not only or only in name:
                c.section(name, fn, tmp, rng, *args)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
