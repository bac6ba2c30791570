"""Integration tests for gm-dataplane over net_pcap ports, with scapy and
python3-cryptography as the oracle (tests/esp/oracle_common.py holds the ESP codec):

  outbound     every transform, TBAR on and off, df_bit copy/set/clear: the seed KS ACL
               (spec GETVPN-GM.md section 3) and a local deny decide clear vs ESP; each ESP
               output is decrypted independently and compared with the LAN input (TTL-1);
               header preservation, TBAR metadata (section 4), L2 rewrite.
  inbound      ESP built by the oracle arrives on WAN and leaves on LAN as the inner packet
               (TTL-1), in the same runs.
  hostile      malformed and policy-violating WAN input: each lands in its drop counter in
               the stats JSON, the valid packets among them still pass, nothing crashes.
  migration    receive-only and passive accept clear protected traffic.
  back to back GM A's WAN output is GM B's WAN input (and B's back to A): LAN to LAN
               identical with TTL-2; every packet sent is received or counted as dropped.
  bad configs  each broken YAML file: non-zero exit, `FILE:LINE: field: what`, before EAL
               touches a port.

usage: pcap_integration_test.py PATH/TO/gm-dataplane
"""

import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "esp"))

from scapy.config import conf  # noqa: E402

conf.verb = 0

from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_NOP, IPOption_EOL  # noqa: E402
from scapy.layers.inet import IPOption_Router_Alert  # noqa: E402
from scapy.layers.l2 import ARP, Dot1Q, Ether  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.packet import Raw  # noqa: E402

import oracle_common as oc  # noqa: E402

SEED = 20241125
GM = None  # path of gm-dataplane, from argv
PT0 = 442843290  # static_group.pseudotime_ms (the seeds' "Replay Value : 442843.29 secs")
PT_SLACK_MS = 5000  # how far past PT0 a stamp may be: start-up plus processing time
LAN_HOP, WAN_HOP = "02:00:00:00:0a:01", "02:00:00:00:0b:01"
LAN_MAC, WAN_MAC = "02:00:00:00:0a:fe", "02:00:00:00:0b:fe"
PEER_MAC = "02:00:00:00:0c:01"
SPI = 0x1234ABCD
RUN_TIMEOUT_S = 60
XFS = list(oc.TRANSFORMS)

SEED_ACL = [
    "deny icmp any any",
    "deny eigrp any any",
    "deny ip any 224.0.0.0 0.255.255.255",
    "deny ip 224.0.0.0 0.255.255.255 any",
    "deny udp any port = 848 any port = 848",
    "permit ip any any",
]
# Symmetric, so that SSH a peer sends in clear is also accepted in clear (inbound checks
# the mirror of the policy).
LOCAL_ACL = ["deny tcp any any eq 22", "deny tcp any eq 22 any"]

_runs = [0]


def mac_bytes(m):
    return bytes(int(x, 16) for x in m.split(":"))


# --- packets -----------------------------------------------------------------------------


def fix_cksum(b):
    ihl = (b[0] & 0xF) * 4
    b[10:12] = b"\0\0"
    b[10:12] = struct.pack("!H", oc.ip_checksum(bytes(b[:ihl])))


def dec_ttl(pkt, n=1):
    """The inner packet as a router forwards it: TTL - n, header checksum recomputed."""
    b = bytearray(pkt)
    b[8] -= n
    fix_cksum(b)
    return bytes(b)


def ident(pkt):
    return struct.unpack_from("!H", pkt, 4)[0]


def eth(payload, dst=PEER_MAC, src="02:00:00:00:0c:02", etype=0x0800, pad=False):
    """An Ethernet frame; pad: zero-padded to the 60-byte minimum as a NIC sends it."""
    fr = mac_bytes(dst) + mac_bytes(src) + struct.pack("!H", etype) + payload
    return fr + bytes(max(0, 60 - len(fr))) if pad else fr


class Ids:
    """Unique IP ids: each test packet is found again in the output by its id."""

    def __init__(self, rng):
        self.rng = rng
        self.used = set()

    def take(self):
        while True:
            i = self.rng.randrange(1, 65536)
            if i not in self.used:
                self.used.add(i)
                return i


def ipv4(ids, l4, src="10.1.1.1", dst="10.2.2.2", ttl=64, tos=0, df=False, mf=False, frag=0,
         options=None, proto=None, size=None, rng=None):
    kw = dict(src=src, dst=dst, ttl=ttl, tos=tos, id=ids.take(), frag=frag,
              flags=(2 if df else 0) | (1 if mf else 0))
    if proto is not None:
        kw["proto"] = proto
    if options:
        kw["options"] = options
    pkt = IP(**kw)
    if l4 is not None:
        pkt = pkt / l4
    if size:
        pkt = pkt / Raw(rng.randbytes(size))
    return bytes(pkt)


def cksum_edge(ids, rng, **kw):
    """A UDP packet whose header checksum is 0xFEFF: a TTL decrement must give 0x0000
    (RFC 1624 eqn. 3); the RFC 1141 shortcut HC + 0x0100 gives the non-canonical 0xFFFF."""
    for _ in range(64):
        pkt = bytearray(ipv4(ids, UDP(sport=4000, dport=4001), rng=rng, size=10, **kw))
        s = 0xFFFF & ~struct.unpack_from("!H", pkt, 10)[0]  # sum of the header without it
        s_rest = (s - ident(pkt)) % 0xFFFF  # one's complement sum without the id
        want_id = (0x0100 - s_rest) % 0xFFFF
        if want_id in ids.used or want_id == 0:
            ids.used.discard(ident(pkt))
            continue
        ids.used.discard(ident(pkt))
        ids.used.add(want_id)
        pkt[4:6] = struct.pack("!H", want_id)
        fix_cksum(pkt)
        if pkt[10:12] == b"\xfe\xff":
            return bytes(pkt)
        ids.used.discard(want_id)
    raise RuntimeError("could not build a 0xFEFF checksum packet")


def protected_mix(rng, ids, n, min_ttl=2):
    """Packets the seed ACL protects: TCP, UDP, other protocols, options, fragments. Sizes
    stay below what fits the 1500-byte WAN MTU once encrypted (no fragmentation here)."""
    out = []
    for i in range(n):
        kind = i % 9
        common = dict(
            src="10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(1, 255)),
            dst="172.%d.%d.%d" % (16 + rng.randrange(16), rng.randrange(256),
                                  rng.randrange(1, 255)),
            ttl=rng.randint(min_ttl, 255), tos=rng.randrange(256), df=rng.random() < 0.5,
            rng=rng, size=rng.choice([0, 1, 3, 15, 16, 17, 100, rng.randint(0, 1350)]))
        if kind in (0, 1, 2):
            l4 = TCP(sport=rng.randint(1024, 65535), dport=rng.choice([80, 443, 23, 2222]),
                     flags="PA", seq=rng.getrandbits(32))
            out.append(ipv4(ids, l4, **common))
        elif kind in (3, 4):
            # UDP with 848 on one side only is not GDOI: protected.
            sport, dport = rng.choice([(848, 5000), (5000, 848), (rng.randint(1, 65535), 53)])
            if rng.random() < 0.3:
                common["dst"] = "239.%d.1.2" % rng.randrange(256)  # multicast outside 224/8
            out.append(ipv4(ids, UDP(sport=sport, dport=dport), **common))
        elif kind == 5:
            out.append(ipv4(ids, None, proto=rng.choice([47, 89, 103, 253]), **common))
        elif kind == 6:
            opts = rng.choice([[IPOption_NOP(), IPOption_NOP(), IPOption_NOP(), IPOption_EOL()],
                               [IPOption_Router_Alert()]])
            out.append(ipv4(ids, UDP(sport=1234, dport=4321), options=opts, **common))
        elif kind == 7:
            # Fragments: a first one (ports present) and a later one.
            common["df"] = False
            out.append(ipv4(ids, UDP(sport=7000, dport=7001), mf=True, **common))
            out.append(ipv4(ids, None, proto=17, frag=rng.randint(1, 100), **common))
        else:
            # Ports next to 22: the local deny must not catch them.
            out.append(ipv4(ids, TCP(sport=rng.choice([21, 23, 2200]), dport=22000), **common))
    return out


def bypass_mix(rng, ids, min_ttl=2):
    """Packets the seed ACL or the local deny send in clear (outbound and inbound)."""
    src = "10.3.%d.%d" % (rng.randrange(256), rng.randrange(1, 255))
    dst = "10.4.%d.%d" % (rng.randrange(256), rng.randrange(1, 255))
    t = lambda: rng.randint(min_ttl, 255)  # noqa: E731
    return [
        ipv4(ids, ICMP(type=8, id=7, seq=1), src=src, dst=dst, ttl=t(), tos=0xB8, df=True),
        ipv4(ids, ICMP(type=0, id=7, seq=1), src=dst, dst=src, ttl=t(), size=1000, rng=rng),
        ipv4(ids, ICMP(type=3, code=4), src=src, dst=dst, ttl=t(), mf=True),
        ipv4(ids, None, proto=1, src=src, dst=dst, ttl=t(), frag=50, size=24, rng=rng),
        ipv4(ids, None, proto=88, src=src, dst="224.0.0.10", ttl=t(), size=40, rng=rng),
        ipv4(ids, None, proto=88, src=src, dst=dst, ttl=t(), size=40, rng=rng),
        ipv4(ids, None, proto=89, src=src, dst="224.0.0.5", ttl=t(), size=44, rng=rng),
        ipv4(ids, UDP(sport=5353, dport=5353), src=src, dst="224.0.0.251", ttl=t(), size=9,
             rng=rng),
        ipv4(ids, UDP(sport=4000, dport=4000), src=src, dst="224.255.1.2", ttl=t(), size=9,
             rng=rng),
        ipv4(ids, UDP(sport=4000, dport=4000), src="224.1.2.3", dst=dst, ttl=t(), size=9,
             rng=rng),
        ipv4(ids, UDP(sport=848, dport=848), src=src, dst=dst, ttl=t(), size=300, rng=rng),
        ipv4(ids, TCP(sport=40000, dport=22, flags="S"), src=src, dst=dst, ttl=t()),
        ipv4(ids, TCP(sport=22, dport=40000, flags="SA"), src=dst, dst=src, ttl=t()),
    ]


# --- pcap --------------------------------------------------------------------------------


# --- configs and runs --------------------------------------------------------------------


def config_text(xf, ck, ak, tbar=True, df="copy", sender_id=1, migration=None, macs=True,
                window=4, local_acl=LOCAL_ACL, ks_acl=SEED_ACL, workers=1):
    lines = [
        "# gm-dataplane integration test",
        "lan:",
        "  dev: net_pcap0",
        f'  next_hop_mac: "{LAN_HOP}"',
    ]
    if macs:
        lines.append(f'  mac: "{LAN_MAC}"')
    lines += ["wan:", "  dev: net_pcap1", f'  next_hop_mac: "{WAN_HOP}"']
    if macs:
        lines.append(f'  mac: "{WAN_MAC}"')
    lines += ["mtu: 1500", f"workers: {workers}", "idle_backoff: true", f"df_bit: {df}",
              f"sender_id: {sender_id}"]
    if migration:
        lines.append(f"migration: {migration}")
    if local_acl:
        lines.append("local_acl:")
        lines += [f"  - {a}" for a in local_acl]
    lines += ["static_group:", f"  transform: {xf}", f"  spi: {SPI:#x}",
              f'  key: "{ck.hex()}"']
    if ak:
        lines.append(f'  auth_key: "{ak.hex()}"')
    lines += [f"  replay: {'time' if tbar else 'none'}", f"  window: {window}",
              f"  pseudotime_ms: {PT0}", "  acl:"]
    lines += [f"    - {a}" for a in ks_acl]
    return "\n".join(lines) + "\n"


class Result:
    pass


def gm_from_argv():
    """Takes gm-dataplane's path from the command line (the one argument every test here
    gets) into GM, or exits with the usage."""
    global GM
    if len(sys.argv) != 2 or not os.access(sys.argv[1], os.X_OK):
        sys.exit(f"usage: {sys.argv[0]} PATH/TO/gm-dataplane")
    GM = os.path.abspath(sys.argv[1])


def run_gm(tmp, tag, cfg, lan_in, wan_in, mode=0o600, lcores="0,1"):
    """Runs gm-dataplane over pcap files; returns rc, stdout, stderr, stats, outputs."""
    _runs[0] += 1
    d = os.path.join(tmp, f"{_runs[0]:03d}-{tag}")
    os.mkdir(d)
    p = lambda n: os.path.join(d, n)  # noqa: E731
    with open(p("gm.yaml"), "w") as f:
        f.write(cfg)
    os.chmod(p("gm.yaml"), mode)
    oc.write_pcap(p("lan_in.pcap"), lan_in)
    oc.write_pcap(p("wan_in.pcap"), wan_in)
    prefix = f"gmit-{os.getpid()}-{_runs[0]}"
    cmd = [GM, "--lcores" if "@" in lcores else "-l", lcores, "--no-huge", "-m", "256",
           "--no-pci", "--file-prefix", prefix, "--log-level", "lib.eal:warning",
           "--vdev", f"net_pcap0,rx_pcap={p('lan_in.pcap')},tx_pcap={p('lan_out.pcap')}",
           "--vdev", f"net_pcap1,rx_pcap={p('wan_in.pcap')},tx_pcap={p('wan_out.pcap')}",
           "--", "--config", p("gm.yaml"), "--exit-when-idle-ms", "500",
           "--stats-json", p("stats.json")]
    r = Result()
    r.dir = d
    r.cfg = p("gm.yaml")
    r.prefix_dir = os.path.join("/var/run/dpdk", prefix)
    try:
        cp = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        r.rc, r.out, r.err = cp.returncode, cp.stdout, cp.stderr
    except subprocess.TimeoutExpired as e:
        r.rc, r.out, r.err = "timeout", str(e.stdout or ""), str(e.stderr or "")
    r.prefix_existed = os.path.exists(r.prefix_dir)
    shutil.rmtree(r.prefix_dir, ignore_errors=True)
    r.lan_out = oc.read_pcap(p("lan_out.pcap")) if os.path.exists(p("lan_out.pcap")) else None
    r.wan_out = oc.read_pcap(p("wan_out.pcap")) if os.path.exists(p("wan_out.pcap")) else None
    r.stats = None
    if os.path.exists(p("stats.json")):
        with open(p("stats.json")) as f:
            r.stats = json.load(f)
    r.n_lan_in, r.n_wan_in = len(lan_in), len(wan_in)
    return r


def ran_ok(c, what, r):
    ok = c.check(r.rc == 0, f"{what}: gm-dataplane exited {r.rc}\n{r.err[-2000:]}")
    ok = c.check(r.stats is not None, f"{what}: no stats JSON") and ok
    ok = c.check(r.lan_out is not None and r.wan_out is not None,
                 f"{what}: output pcaps missing") and ok
    return ok


def drops(r):
    """Every drop counter in the stats JSON, summed by reason across ports and SAs."""
    total = {}
    st = r.stats
    for part in [st["lan"]["drops"], st["wan"]["drops"], st["no_sa_drops"]] + \
            [s["drops"] for s in st["sas"]]:
        for k, v in part.items():
            total[k] = total.get(k, 0) + v
    return total


def check_accounting(c, what, r):
    """rx = what we fed; tx = what the pcaps hold; received = sent + counted drops."""
    st = r.stats
    c.check(st["lan"]["rx"] == r.n_lan_in, f"{what}: lan rx {st['lan']['rx']} != {r.n_lan_in}")
    c.check(st["wan"]["rx"] == r.n_wan_in, f"{what}: wan rx {st['wan']['rx']} != {r.n_wan_in}")
    c.check(st["lan"]["tx"] == len(r.lan_out),
            f"{what}: lan tx {st['lan']['tx']} != {len(r.lan_out)} frames in the pcap")
    c.check(st["wan"]["tx"] == len(r.wan_out),
            f"{what}: wan tx {st['wan']['tx']} != {len(r.wan_out)} frames in the pcap")
    nd = sum(drops(r).values())
    c.check(r.n_lan_in + r.n_wan_in == len(r.lan_out) + len(r.wan_out) + nd,
            f"{what}: {r.n_lan_in + r.n_wan_in} in != {len(r.lan_out)} + {len(r.wan_out)} out "
            f"+ {nd} dropped ({drops(r)})")


def check_drops(c, what, r, want):
    got = drops(r)
    c.check(got == want, f"{what}: drops {got}, want {want}")


# --- ESP oracle --------------------------------------------------------------------------


class Sealer:
    """Builds inbound ESP frames (header preserved) the way a peer GM would."""

    def __init__(self, rng, xf, ck, ak, spi=SPI, sender_id=99):
        self.rng, self.xf, self.ck, self.ak, self.spi = rng, xf, ck, ak, spi
        self.sender_id = sender_id
        self.seq = 0
        self.t = oc.TRANSFORMS[xf]

    def esp(self, body, nh, spi=None):
        self.seq += 1
        pt = body + oc.trailer(len(body), self.t["block"], nh)
        iv = self.rng.randbytes(self.t["iv"])
        return oc.esp_seal(self.xf, self.ck, self.ak, self.spi if spi is None else spi,
                           self.seq, iv, pt)

    def frame(self, inner, pt_ms=None, spi=None, mutate=None, outer_kw=None, use_scapy=False):
        """pt_ms: TBAR stamp (metadata + next header 99), or None for next header 4."""
        if use_scapy and pt_ms is None and spi is None and mutate is None and not outer_kw:
            ip_in = IP(inner)
            tunnel = IP(src=ip_in.src, dst=ip_in.dst, tos=ip_in.tos, ttl=64,
                        id=self.rng.randrange(65536))
            sa = oc.scapy_sa(self.xf, self.ck, self.ak, self.spi, tunnel)
            self.seq += 1
            return eth(bytes(sa.encrypt(ip_in, seq_num=self.seq,
                                        iv=self.rng.randbytes(self.t["iv"]) or None)))
        if pt_ms is None:
            esp = self.esp(inner, 4, spi)
        else:
            esp = self.esp(oc.tbar_metadata(pt_ms, self.sender_id) + inner, oc.TBAR_NH, spi)
        if mutate:
            esp = mutate(esp)
        kw = dict(tos=inner[1], ttl=64, ident=self.rng.randrange(65536))
        kw.update(outer_kw or {})
        return eth(oc.outer_ipv4(inner[12:16], inner[16:20], esp, **kw))

    def stamp(self):
        """A fresh TBAR stamp: near the configured pseudotime, well inside a 4 s window."""
        return PT0 + self.rng.randint(-500, 1500)


def check_esp_out(c, what, fr, xf, ck, ak, tbar, df, sender_id, expected, mac=WAN_MAC):
    """Checks one ESP frame from the WAN port; returns (inner id, seq, iv, outer id) or None.
    `expected`: inner id -> the LAN input packet."""
    t = oc.TRANSFORMS[xf]
    c.check(fr[:6] == mac_bytes(WAN_HOP), f"{what}: dst MAC {fr[:6].hex()} != next hop")
    if mac:
        c.check(fr[6:12] == mac_bytes(mac), f"{what}: src MAC {fr[6:12].hex()} != wan.mac")
    c.check(fr[12:14] == b"\x08\x00", f"{what}: ethertype {fr[12:14].hex()}")
    outer = fr[14:]
    if not c.check(len(outer) >= 28 and outer[0] == 0x45,
                   f"{what}: outer header {outer[:20].hex()}"):
        return None
    c.check(struct.unpack_from("!H", outer, 2)[0] == len(outer), f"{what}: outer total length")
    c.check(oc.ip_checksum(outer[:20]) == 0, f"{what}: outer checksum")
    c.check(struct.unpack_from("!I", outer, 20)[0] == SPI, f"{what}: SPI")
    esp = outer[20:]
    try:
        _, seq, iv, pt = oc.esp_open(xf, ck, ak, esp)
    except Exception as e:  # noqa: BLE001
        c.check(False, f"{what}: the oracle cannot open the ESP: {e!r}")
        return None
    padlen, nh = pt[-2], pt[-1]
    c.check(pt[-2 - padlen:-2] == bytes(range(1, padlen + 1)), f"{what}: pad bytes")
    body = pt[:-2 - padlen]
    if tbar:
        if not c.check(nh == oc.TBAR_NH, f"{what}: next header {nh}, want 99"):
            return None
        proto, ln, opt, olen, pt_ms, sid = struct.unpack_from("!BBBBQI", body, 0)
        c.check((proto, ln, opt, olen) == (4, 16, 1, 12),
                f"{what}: TBAR metadata header {body[:4].hex()}")
        c.check(PT0 <= pt_ms <= PT0 + PT_SLACK_MS,
                f"{what}: TBAR pseudotime {pt_ms} not within {PT_SLACK_MS} ms after {PT0}")
        c.check(sid == sender_id, f"{what}: TBAR sender id {sid} != {sender_id}")
        inner = body[16:]
    else:
        c.check(nh == 4, f"{what}: next header {nh}, want 4")
        inner = body
        # Second oracle: scapy's own ESP decrypt of the same packet.
        try:
            sa = oc.scapy_sa(xf, ck, ak, SPI, IP(src="0.0.0.0", dst="0.0.0.0"))
            c.check(bytes(sa.decrypt(IP(outer))) == inner, f"{what}: scapy disagrees")
        except Exception as e:  # noqa: BLE001
            c.check(False, f"{what}: scapy cannot decrypt: {e!r}")
    if not c.check(len(inner) >= 20, f"{what}: inner too short"):
        return None
    i = ident(inner)
    src = expected.get(i)
    if not c.check(src is not None, f"{what}: ESP carries unexpected {IP(inner).summary()}"):
        return None
    c.check(inner == dec_ttl(src), f"{what}: inner {inner[:40].hex()} != LAN input with TTL-1 "
            f"{dec_ttl(src)[:40].hex()}")
    # Header preservation.
    c.check(outer[1] == src[1], f"{what}: outer ToS {outer[1]:#x} != inner {src[1]:#x}")
    c.check(outer[8] == src[8] - 1, f"{what}: outer TTL {outer[8]} != inner TTL-1 {src[8] - 1}")
    c.check(outer[9] == 50, f"{what}: outer protocol {outer[9]}")
    c.check(outer[12:20] == src[12:20], f"{what}: outer src/dst differ from the inner")
    frag = struct.unpack_from("!H", outer, 6)[0]
    want_df = {"copy": bool(src[6] & 0x40), "set": True, "clear": False}[df]
    c.check(bool(frag & 0x4000) == want_df, f"{what}: outer DF {bool(frag & 0x4000)}, "
            f"df_bit {df}, inner DF {bool(src[6] & 0x40)}")
    c.check(frag & 0xBFFF == 0, f"{what}: outer MF/offset {frag:#x}")
    if t["crypt"] == "AES-GCM":
        c.check(iv[:2] == struct.pack("!H", sender_id & 0xFFFF),
                f"{what}: GCM IV {iv.hex()} does not start with sender id {sender_id}")
    return i, seq, iv, struct.unpack_from("!H", outer, 4)[0]


def check_clear_out(c, what, fr, hop, mac, expected, ttl_dec=1):
    """A clear frame out of a port: L2 rewritten, the input packet with TTL - ttl_dec."""
    c.check(fr[:6] == mac_bytes(hop), f"{what}: dst MAC {fr[:6].hex()} != next hop {hop}")
    if mac:
        c.check(fr[6:12] == mac_bytes(mac), f"{what}: src MAC {fr[6:12].hex()} != {mac}")
    c.check(fr[12:14] == b"\x08\x00", f"{what}: ethertype {fr[12:14].hex()}")
    ip = fr[14:]
    i = ident(ip) if len(ip) >= 20 else None
    src = expected.get(i)
    if not c.check(src is not None, f"{what}: unexpected packet {IP(ip).summary()}"):
        return None
    if len(ip) > len(src):
        # Ethernet padding of a short frame may be forwarded; nothing else may follow.
        c.check(len(fr) <= 60 and not any(ip[len(src):]),
                f"{what}: id {i}: {len(ip) - len(src)} bytes after the IP packet")
        ip = ip[:len(src)]
    c.check(ip == dec_ttl(src, ttl_dec),
            f"{what}: id {i}: {ip[:48].hex()} != input with TTL-{ttl_dec} "
            f"{dec_ttl(src, ttl_dec)[:48].hex()}")
    return i


def check_id_sets(c, what, got, want):
    c.check(len(got) == len(set(got)), f"{what}: packets duplicated")
    missing, extra = set(want) - set(got), set(got) - set(want)
    c.check(not missing and not extra,
            f"{what}: missing {[IP(want[i]).summary() for i in sorted(missing)[:5]]}, "
            f"unexpected ids {sorted(i for i in extra if i is not None)[:10]}")


# --- the transform matrix: outbound and inbound in the same run ----------------------------


def transform_run(c, tmp, rng, xf, tbar, df, sender_id, macs=True):
    what = f"{xf} tbar={'on' if tbar else 'off'} df={df}"
    ck, ak = oc.keys_for(rng, xf)
    ids = Ids(rng)
    # LAN side: protected, bypass, and a few that must be dropped.
    prot = protected_mix(rng, ids, 45)
    prot.append(cksum_edge(ids, rng, src="10.5.5.5", dst="10.6.6.6", ttl=77, df=True))
    clear = bypass_mix(rng, ids)
    clear.append(cksum_edge(ids, rng, src="10.5.5.5", dst="224.0.0.9", ttl=3))
    ttl_dead = [ipv4(ids, UDP(sport=1, dport=2), ttl=1), ipv4(ids, ICMP(), ttl=0),
                ipv4(ids, TCP(dport=80), ttl=1)]
    not_v4 = [bytes(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst="10.1.1.1")),
              bytes(Ether() / IPv6() / UDP())]
    lan_items = [("esp", p) for p in prot] + [("clear", p) for p in clear] + \
        [("ttl", p) for p in ttl_dead]
    rng.shuffle(lan_items)
    lan_in = [eth(p, pad=True) for _, p in lan_items] + not_v4
    # WAN side: ESP a peer built for this group, and clear bypass traffic.
    sealer = Sealer(rng, xf, ck, ak)
    in_prot = protected_mix(rng, ids, 30)
    in_clear = bypass_mix(rng, ids)
    wan_in = []
    for k, p in enumerate(in_prot):
        if tbar:
            wan_in.append(sealer.frame(p, pt_ms=sealer.stamp()))
        elif k % 5 == 4:
            # An SA without TBAR accepts (and ignores) a stamp: metadata is still parsed.
            wan_in.append(sealer.frame(p, pt_ms=rng.getrandbits(64)))
        else:
            wan_in.append(sealer.frame(p, use_scapy=k % 2 == 0))
    wan_in += [eth(p, pad=True) for p in in_clear]
    rng.shuffle(wan_in)

    r = run_gm(tmp, f"{xf}-{tbar}-{df}",
               config_text(xf, ck, ak, tbar=tbar, df=df, sender_id=sender_id, macs=macs),
               lan_in, wan_in)
    if not ran_ok(c, what, r):
        return
    check_accounting(c, what, r)
    check_drops(c, what, r, {"ttl_expired": len(ttl_dead), "not_ipv4": len(not_v4)})
    # Outbound: every ESP frame decrypts to its LAN input; every clear frame is its input.
    want_esp = {ident(p): p for p in prot}
    want_clear = {ident(p): p for p in clear}
    got_esp, got_clear, seqs, ivs, outer_ids = [], [], [], [], []
    for k, fr in enumerate(r.wan_out):
        w = f"{what}: WAN frame {k}"
        if len(fr) > 23 and fr[14 + 9] == 50:
            res = check_esp_out(c, w, fr, xf, ck, ak, tbar, df, sender_id, want_esp,
                                WAN_MAC if macs else None)
            if res:
                got_esp.append(res[0])
                seqs.append(res[1])
                ivs.append(res[2])
                outer_ids.append(res[3])
        else:
            i = check_clear_out(c, w, fr, WAN_HOP, WAN_MAC if macs else None, want_clear)
            if i is not None:
                got_clear.append(i)
    check_id_sets(c, f"{what}: outbound ESP", got_esp, want_esp)
    check_id_sets(c, f"{what}: outbound clear", got_clear, want_clear)
    c.check(sorted(seqs) == list(range(1, len(seqs) + 1)), f"{what}: ESP seqs {sorted(seqs)}")
    if oc.TRANSFORMS[xf]["iv"]:
        c.check(len(set(ivs)) == len(ivs), f"{what}: IVs repeat")
    c.check(len(set(outer_ids)) == len(outer_ids), f"{what}: outer IP ids repeat")
    if not macs:
        srcs = {fr[6:12] for fr in r.wan_out}
        c.check(len(srcs) == 1 and not (next(iter(srcs))[0] & 1),
                f"{what}: src MACs without wan.mac: {srcs}")
    # Inbound: every ESP and clear frame from the WAN is its inner packet on the LAN.
    want_in = {ident(p): p for p in in_prot + in_clear}
    got_in = []
    for k, fr in enumerate(r.lan_out):
        i = check_clear_out(c, f"{what}: LAN frame {k}", fr, LAN_HOP, LAN_MAC if macs else None,
                            want_in)
        if i is not None:
            got_in.append(i)
    check_id_sets(c, f"{what}: inbound", got_in, want_in)
    sa = r.stats["sas"][0] if r.stats["sas"] else {}
    c.check(sa.get("transform") == xf and sa.get("spi") == SPI, f"{what}: SA stats {sa}")
    c.check(sa.get("encaps") == len(prot) and sa.get("decaps") == len(in_prot),
            f"{what}: encaps/decaps {sa.get('encaps')}/{sa.get('decaps')}, "
            f"want {len(prot)}/{len(in_prot)}")
    rp = r.stats["replay"]
    want_rp = (len(prot), len(in_prot)) if tbar else (0, 0)
    c.check((rp["output_packets"], rp["input_packets"]) == want_rp,
            f"{what}: replay counters {rp}, want output/input {want_rp}")
    c.check(f"#pkts encaps: {len(prot)}," in r.out, f"{what}: show output {r.out[:200]!r}")


# --- hostile WAN input ---------------------------------------------------------------------


def hostile_run(c, tmp, rng, xf, tbar):
    what = f"hostile {xf} tbar={'on' if tbar else 'off'}"
    ck, ak = oc.keys_for(rng, xf)
    t = oc.TRANSFORMS[xf]
    ids = Ids(rng)
    s = Sealer(rng, xf, ck, ak)
    stamp = (lambda: s.stamp()) if tbar else (lambda: None)  # noqa: E731
    cases = []  # (description, frame, where the counter is or "pass", expected inner)

    def add(desc, fr, want, inner=None):
        cases.append((desc, fr, want, inner))

    def udp(size=20, **kw):
        return ipv4(ids, UDP(sport=3000, dport=3001), rng=rng, size=size, **kw)

    def flip(pos):
        def f(esp):
            b = bytearray(esp)
            b[pos] ^= 0x01
            return bytes(b)
        return f

    for _ in range(3):
        p = udp()
        add("valid", s.frame(p, pt_ms=stamp()), "pass", p)
    add("unknown SPI", s.frame(udp(), pt_ms=stamp(), spi=SPI ^ 0x5A5A5A5A), "no_sa:unknown_spi")
    add("ICV bit flipped", s.frame(udp(), pt_ms=stamp(), mutate=flip(-1)), "sa:icv_mismatch")
    add("ciphertext bit flipped", s.frame(udp(40), pt_ms=stamp(), mutate=flip(8 + t["iv"] + 5)),
        "sa:icv_mismatch")
    add("ESP cut by one block (whole blocks: only the ICV can tell)",
        s.frame(udp(64), pt_ms=stamp(), mutate=lambda e: e[:-t["block"]]), "sa:icv_mismatch")
    add("ESP cut by one byte", s.frame(udp(), pt_ms=stamp(), mutate=lambda e: e[:-1]),
        "sa:bad_length")
    add("ESP header only", s.frame(udp(), pt_ms=stamp(), mutate=lambda e: e[:8]),
        "sa:bad_length")
    add("ESP shorter than its header", s.frame(udp(), pt_ms=stamp(), mutate=lambda e: e[:6]),
        "no_sa:bad_length")
    good = s.frame(udp(), pt_ms=stamp())
    add("frame cut short of the outer total length", good[:-7], "no_sa:bad_outer_ip")
    add("outer IHL 4", good[:14] + b"\x44" + good[15:], "no_sa:bad_outer_ip")
    add("outer fragment (MF)", s.frame(udp(), pt_ms=stamp(), outer_kw=dict(flags=1)),
        "no_sa:outer_fragment")
    add("outer fragment (offset)", s.frame(udp(), pt_ms=stamp(), outer_kw=dict(frag=185)),
        "no_sa:outer_fragment")
    if tbar:
        add("TBAR stamp 60 s old", s.frame(udp(), pt_ms=PT0 - 60000), "sa:tbar_replay")
        add("TBAR stamp 60 s ahead", s.frame(udp(), pt_ms=PT0 + 60000), "sa:tbar_replay")
        add("TBAR stamp 0", s.frame(udp(), pt_ms=0), "sa:tbar_replay")
        add("TBAR stamp 2^64-1", s.frame(udp(), pt_ms=(1 << 64) - 1), "sa:tbar_replay")
        add("TBAR SA, packet without metadata", s.frame(udp(), pt_ms=None), "sa:tbar_missing")
    # Valid ICV, broken contents.
    bad_md = oc.tbar_metadata(PT0, 5, length=15) + udp()
    add("TBAR metadata length 15", eth(oc.outer_ipv4(
        b"\x0a\x01\x01\x01", b"\x0a\x02\x02\x02", s.esp(bad_md, oc.TBAR_NH))),
        "sa:bad_tbar_metadata")
    add("next header 17", eth(oc.outer_ipv4(b"\x0a\x01\x01\x01", b"\x0a\x02\x02\x02",
                                            s.esp(udp(), 17))), "sa:bad_next_header")
    lying = bytearray(udp(30))
    lying[2:4] = struct.pack("!H", len(lying) + 4)
    add("inner total length lies", s.frame(bytes(lying), pt_ms=stamp()), "sa:bad_decrypted_ip")
    # Inner packets the policy does not protect, encrypted anyway by a peer.
    add("ICMP encrypted (ACL denies ICMP)", s.frame(ipv4(ids, ICMP(), rng=rng, size=8),
                                                    pt_ms=stamp()), "sa:inner_policy_mismatch")
    add("GDOI 848<->848 encrypted", s.frame(ipv4(ids, UDP(sport=848, dport=848)), pt_ms=stamp()),
        "sa:inner_policy_mismatch")
    add("multicast encrypted", s.frame(ipv4(ids, UDP(sport=9, dport=9), dst="224.1.1.1"),
                                       pt_ms=stamp()), "sa:inner_policy_mismatch")
    add("SSH encrypted (local deny)", s.frame(ipv4(ids, TCP(sport=5555, dport=22)),
                                              pt_ms=stamp()), "sa:inner_policy_mismatch")
    # Legal but unusual inner packets: decrypted and forwarded unchanged but for the TTL.
    p = udp(11, options=[IPOption_NOP(), IPOption_NOP(), IPOption_NOP(), IPOption_EOL()])
    add("inner with IP options", s.frame(p, pt_ms=stamp()), "pass", p)
    p = udp(7, options=[IPOption_Router_Alert()], tos=0x2E)
    add("inner with router alert", s.frame(p, pt_ms=stamp()), "pass", p)
    p = ipv4(ids, UDP(sport=3000, dport=3001), mf=True, rng=rng, size=48)
    add("inner first fragment", s.frame(p, pt_ms=stamp()), "pass", p)
    p = ipv4(ids, None, proto=17, frag=6, rng=rng, size=33)
    add("inner later fragment", s.frame(p, pt_ms=stamp()), "pass", p)
    p = udp(5)
    add("outer with IP options", s.frame(p, pt_ms=stamp(), outer_kw=dict(
        version_ihl=0x46, options=b"\x01\x01\x01\x00")), "pass", p)
    p = udp(5)
    add("Ethernet padding after the ESP", s.frame(p, pt_ms=stamp()) + bytes(11), "pass", p)
    add("inner TTL 1", s.frame(udp(ttl=1), pt_ms=stamp()), "wan:ttl_expired")
    # Clear packets on the WAN: fail-close for protected traffic, bypass traffic passes.
    add("clear UDP (protected)", eth(udp()), "wan:clear_protected")
    add("clear TCP (protected)", eth(ipv4(ids, TCP(sport=1234, dport=80))), "wan:clear_protected")
    add("clear GRE (protected)", eth(ipv4(ids, None, proto=47, rng=rng, size=24)),
        "wan:clear_protected")
    add("clear UDP later fragment (protected)", eth(ipv4(ids, None, proto=17, frag=9, rng=rng,
                                                         size=16)), "wan:clear_protected")
    add("clear UDP 848 to 5000 (protected)", eth(ipv4(ids, UDP(sport=848, dport=5000))),
        "wan:clear_protected")
    for p in bypass_mix(rng, ids):
        add("clear bypass", eth(p), "pass", p)
    add("clear, IHL 4 (unparseable)", eth(b"\x44" + udp()[1:]), "wan:policy_discard")
    # Not IPv4 at all.
    add("ARP", bytes(Ether() / ARP()), "wan:not_ipv4")
    add("IPv6", bytes(Ether() / IPv6() / UDP()), "wan:not_ipv4")
    add("802.1Q-tagged IPv4", bytes(Ether() / Dot1Q(vlan=5) / IP(bytes(udp()))), "wan:not_ipv4")
    add("runt: IPv4 ethertype, 20 bytes", eth(b"\x45" + bytes(5)), "wan:not_ipv4")
    add("Ethernet header only", eth(b""), "wan:not_ipv4")
    for _ in range(2):
        p = udp()
        add("valid after all of the above", s.frame(p, pt_ms=stamp()), "pass", p)
    rng.shuffle(cases)
    # Some LAN traffic at the same time, so both directions share the bursts.
    lan_prot = protected_mix(rng, ids, 10)
    r = run_gm(tmp, f"hostile-{xf}", config_text(xf, ck, ak, tbar=tbar),
               [eth(p) for p in lan_prot], [fr for _, fr, _, _ in cases])
    if not ran_ok(c, what, r):
        return
    check_accounting(c, what, r)
    want = {"lan": {}, "wan": {}, "no_sa": {}, "sa": {}}
    for desc, _, where, _ in cases:
        if where != "pass":
            part, reason = where.split(":")
            want[part][reason] = want[part].get(reason, 0) + 1
    st = r.stats
    got = {"lan": st["lan"]["drops"], "wan": st["wan"]["drops"], "no_sa": st["no_sa_drops"],
           "sa": st["sas"][0]["drops"] if st["sas"] else {}}
    for part in want:
        c.check(got[part] == want[part], f"{what}: {part} drops {got[part]}, want {want[part]}")
    if tbar:
        n_replay = sum(1 for _, _, w, _ in cases if w in ("sa:tbar_replay", "sa:tbar_missing"))
        c.check(st["replay"]["input_error_packets"] == n_replay,
                f"{what}: replay input_error_packets {st['replay']} want {n_replay}")
        c.check(st["replay"]["max_time_delta_ms"] >= (1 << 63),
                f"{what}: max_time_delta_ms {st['replay']['max_time_delta_ms']}")
    passing = {ident(inner): inner for _, _, w, inner in cases if w == "pass"}
    got_ids = []
    for k, fr in enumerate(r.lan_out):
        i = check_clear_out(c, f"{what}: LAN frame {k}", fr, LAN_HOP, LAN_MAC, passing)
        if i is not None:
            got_ids.append(i)
    check_id_sets(c, f"{what}: passed", got_ids, passing)
    c.check(len(r.wan_out) == len(lan_prot), f"{what}: {len(r.wan_out)} WAN frames")


# --- migration modes ---------------------------------------------------------------------


def migration_runs(c, tmp, rng):
    xf = "aes-cbc-128-sha256"
    for mode in ("receive-only", "passive", "normal"):
        what = f"migration {mode}"
        ck, ak = oc.keys_for(rng, xf)
        ids = Ids(rng)
        s = Sealer(rng, xf, ck, ak)
        lan_prot = protected_mix(rng, ids, 12)
        lan_clear = bypass_mix(rng, ids)
        wan_clear_prot = protected_mix(rng, ids, 12)
        wan_esp = protected_mix(rng, ids, 12)
        wan_bypass = bypass_mix(rng, ids)
        wan_in = [eth(p) for p in wan_clear_prot + wan_bypass] + \
            [s.frame(p, pt_ms=s.stamp()) for p in wan_esp]
        rng.shuffle(wan_in)
        r = run_gm(tmp, f"migration-{mode}",
                   config_text(xf, ck, ak, migration=mode, df="clear"),
                   [eth(p) for p in lan_prot + lan_clear], wan_in)
        if not ran_ok(c, what, r):
            continue
        check_accounting(c, what, r)
        # Inbound: ESP always decrypted; clear protected traffic accepted unless normal.
        want_in = {ident(p): p for p in wan_esp + wan_bypass}
        if mode != "normal":
            want_in.update({ident(p): p for p in wan_clear_prot})
            check_drops(c, what, r, {})
        else:
            check_drops(c, what, r, {"clear_protected": len(wan_clear_prot)})
        got = [check_clear_out(c, f"{what}: LAN frame {k}", fr, LAN_HOP, LAN_MAC, want_in)
               for k, fr in enumerate(r.lan_out)]
        check_id_sets(c, f"{what}: inbound", got, want_in)
        # Outbound: receive-only sends everything clear; passive and normal encrypt.
        want_clear = {ident(p): p for p in lan_clear}
        want_esp = {ident(p): p for p in lan_prot}
        if mode == "receive-only":
            want_clear.update(want_esp)
            want_esp = {}
        got_clear, got_esp = [], []
        for k, fr in enumerate(r.wan_out):
            w = f"{what}: WAN frame {k}"
            if fr[14 + 9] == 50:
                res = check_esp_out(c, w, fr, xf, ck, ak, True, "clear", 1, want_esp)
                got_esp.append(res[0] if res else None)
            else:
                got_clear.append(check_clear_out(c, w, fr, WAN_HOP, WAN_MAC, want_clear))
        check_id_sets(c, f"{what}: outbound ESP", got_esp, want_esp)
        check_id_sets(c, f"{what}: outbound clear", got_clear, want_clear)


# --- two data planes back to back -----------------------------------------------------------


def back_to_back(c, tmp, rng, xf, tbar):
    what = f"back-to-back {xf} tbar={'on' if tbar else 'off'}"
    ck, ak = oc.keys_for(rng, xf)
    ids = Ids(rng)
    cfg_a = config_text(xf, ck, ak, tbar=tbar, sender_id=7, df="set")
    cfg_b = config_text(xf, ck, ak, tbar=tbar, sender_id=8, df="copy", macs=False)

    def traffic(n):
        delivered = protected_mix(rng, ids, n, min_ttl=3) + bypass_mix(rng, ids, min_ttl=3) + \
            bypass_mix(rng, ids, min_ttl=3)
        dropped = {"ttl_expired": [ipv4(ids, UDP(), ttl=1), ipv4(ids, ICMP(), ttl=1),
                                   # TTL 2: A forwards with TTL 1, B cannot forward it.
                                   ipv4(ids, UDP(sport=5, dport=6), ttl=2),
                                   ipv4(ids, ICMP(), ttl=2)],
                   "not_ipv4": [bytes(Ether() / ARP())]}
        frames = [eth(p, pad=True) for p in delivered] + \
            [eth(p, pad=True) for p in dropped["ttl_expired"]]
        rng.shuffle(frames)
        frames += [dropped["not_ipv4"][0]]
        return delivered, frames

    a_delivered, a_frames = traffic(150)
    b_delivered, b_frames = traffic(90)
    ra = run_gm(tmp, f"b2b-A-{xf}", cfg_a, a_frames, [])
    if not ran_ok(c, f"{what} A", ra):
        return
    rb = run_gm(tmp, f"b2b-B-{xf}", cfg_b, b_frames, ra.wan_out)
    if not ran_ok(c, f"{what} B", rb):
        return
    ra2 = run_gm(tmp, f"b2b-A2-{xf}", cfg_a, [], rb.wan_out)
    if not ran_ok(c, f"{what} A2", ra2):
        return
    for name, r in (("A", ra), ("B", rb), ("A2", ra2)):
        check_accounting(c, f"{what} {name}", r)
    for sent, out, name in ((a_delivered, rb.lan_out, "A->B"),
                            (b_delivered, ra2.lan_out, "B->A")):
        want = {ident(p): p for p in sent}
        mac = None if out is rb.lan_out else LAN_MAC  # B has no lan.mac: the port's own
        got = [check_clear_out(c, f"{what} {name}: LAN frame {k}", fr, LAN_HOP, mac, want,
                               ttl_dec=2)
               for k, fr in enumerate(out)]
        check_id_sets(c, f"{what} {name}", got, want)
    # Every packet counted: what the LANs sent = what the LANs received + counted drops.
    sent = len(a_frames) + len(b_frames)
    received = len(rb.lan_out) + len(ra2.lan_out)
    dropped = {}
    for r in (ra, rb, ra2):
        for k, v in drops(r).items():
            dropped[k] = dropped.get(k, 0) + v
    c.check(sent == received + sum(dropped.values()),
            f"{what}: sent {sent} != received {received} + dropped {dropped}")
    c.check(dropped == {"ttl_expired": 8, "not_ipv4": 2}, f"{what}: drops {dropped}")
    n_prot_a = sum(1 for fr in ra.wan_out if fr[14 + 9] == 50)
    c.check(rb.stats["sas"][0]["decaps"] == n_prot_a,
            f"{what}: B decapsulated {rb.stats['sas'][0]['decaps']} of {n_prot_a}")
    if tbar:
        c.check(rb.stats["replay"]["input_packets"] == n_prot_a,
                f"{what}: B TBAR input_packets {rb.stats['replay']}")


# --- bad configs ---------------------------------------------------------------------------


def bad_configs(c, tmp, rng):
    ck, ak = oc.keys_for(rng, "aes-cbc-128-sha1")
    base = config_text("aes-cbc-128-sha1", ck, ak, tbar=True)
    lines = base.splitlines()

    def line_of(prefix, start=0):
        for i in range(start, len(lines)):
            if lines[i].startswith(prefix):
                return i + 1
        raise KeyError(prefix)

    def replace(prefix, new):
        n = line_of(prefix)
        ls = list(lines)
        ls[n - 1] = new
        return "\n".join(ls) + "\n", n

    def insert_after(prefix, new):
        n = line_of(prefix)
        ls = list(lines)
        ls.insert(n, new)
        return "\n".join(ls) + "\n", n + 1

    def drop_block(prefix):
        n = line_of(prefix)
        ls = list(lines)
        end = n
        while end < len(ls) and ls[end].startswith("  "):
            end += 1
        del ls[n - 1:end]
        return "\n".join(ls) + "\n"

    acl0 = line_of("    - ", line_of("  acl:"))
    cases = []  # (description, text, mode, line, field, what regex)
    t, n = insert_after("sender_id:", "speed: 10g")
    cases.append(("unknown top-level field", t, 0o600, n, "speed", "unknown field"))
    t, n = insert_after("  dev: net_pcap1", "  vlan: 5")
    cases.append(("unknown field in wan", t, 0o600, n, "wan.vlan", "unknown field"))
    t, n = insert_after("  replay:", "  lifetime: 3600")
    cases.append(("unknown field in static_group", t, 0o600, n, "static_group.lifetime",
                  "unknown field"))
    t, n = replace("  key:", f'  key: "{ck.hex()}00"')
    cases.append(("key one byte long", t, 0o600, n, "static_group.key", "needs 16 key bytes"))
    t, n = replace("  key:", f'  key: "{ck[:8].hex()}"')
    cases.append(("key half length", t, 0o600, n, "static_group.key", "got 8"))
    t, n = replace("  key:", '  key: "zz112233445566778899aabbccddeeff"')
    cases.append(("key not hex", t, 0o600, n, "static_group.key", "hex"))
    t, n = replace("  auth_key:", f'  auth_key: "{ak[:16].hex()}"')
    cases.append(("auth key 16 bytes for SHA-1", t, 0o600, n, "static_group.auth_key",
                  "needs 20 bytes"))
    t, n = replace("  transform:", "  transform: aes-ctr-128")
    cases.append(("unknown transform", t, 0o600, n, "static_group.transform",
                  "unknown transform 'aes-ctr-128'"))
    t, n = replace("  transform:", "  transform: [aes-gcm-128]")
    cases.append(("transform not a string", t, 0o600, n, "static_group.transform",
                  "wrong type"))
    ls = list(lines)
    ls[acl0 + 2] = "    - permit tcp any any eq 99999"
    cases.append(("ACE port out of range", "\n".join(ls) + "\n", 0o600, acl0 + 3,
                  "static_group.acl[3]", "."))
    ls = list(lines)
    ls[acl0 - 1] = "    - allow ip any any"
    cases.append(("ACE verb", "\n".join(ls) + "\n", 0o600, acl0, "static_group.acl[0]", "."))
    ls = list(lines)
    ls[acl0 + 4] = "    - permit ip 10.0.0.0 0.255.0.255 any"
    cases.append(("ACE non-contiguous wildcard", "\n".join(ls) + "\n", 0o600, acl0 + 5,
                  "static_group.acl[5]", "."))
    t, n = insert_after("local_acl:", "  - permit ip any any")
    cases.append(("local ACL permit", t, 0o600, n, "local_acl[0]", "may only deny"))
    t = drop_block("lan:")
    cases.append(("missing lan", t, 0o600, 2, "lan", "is required"))
    t = drop_block("static_group:").replace("local_acl:", "static_group:\n  spi: 0x1000\n"
                                            "local_acl:")
    n = t.splitlines().index("static_group:") + 2
    cases.append(("static_group without transform", t, 0o600, n, "static_group.transform",
                  "is required"))
    t, n = replace("  next_hop_mac:", '  next_hop_mac: "02:00:00:00:0a"')
    cases.append(("short MAC", t, 0o600, n, "lan.next_hop_mac", "MAC"))
    t, n = insert_after("  dev: net_pcap1", '  next_hop_ip: "192.0.2.1"')
    cases.append(("next hop by MAC and by ARP", t, 0o600, n, "wan.next_hop_ip", "not both"))
    t, n = replace("  next_hop_mac:", '  next_hop_ip: "10.1.1.2"')
    cases.append(("next_hop_ip without ip", t, 0o600, n, "lan.next_hop_ip",
                  "needs ip: the address ARP asks from"))
    t, n = replace("  next_hop_mac:", '  next_hop_ip: "10.1.1.256"')
    cases.append(("next_hop_ip not an address", t, 0o600, n, "lan.next_hop_ip",
                  "not an IPv4 address"))
    t = base.replace(f'  next_hop_mac: "{WAN_HOP}"\n', "")
    cases.append(("no next hop", t, 0o600, line_of("  dev: net_pcap1"), "wan.next_hop_mac",
                  "is required .or next_hop_ip"))
    t, n = replace("df_bit:", "df_bit: sometimes")
    cases.append(("bad df_bit", t, 0o600, n, "df_bit", "copy, set or clear"))
    t, n = replace("  spi:", "  spi: 0")
    cases.append(("reserved SPI", t, 0o600, n, "static_group.spi", "reserved"))
    t, n = replace("  window:", "  window: 0")
    cases.append(("TBAR window 0", t, 0o600, n, "static_group.window", "at least 1"))
    t, n = replace("mtu:", "mtu: jumbo")
    cases.append(("mtu not a number", t, 0o600, n, "mtu", "number"))
    t, n = insert_after("idle_backoff:", "link_wait_ms: 600000")
    cases.append(("link wait over 2 minutes", t, 0o600, n, "link_wait_ms", "at most 120000"))
    t, n = insert_after("idle_backoff:", "migration: sometimes")
    cases.append(("bad migration", t, 0o600, n, "migration", "receive-only"))
    ls = list(lines)
    n = line_of("  dev: net_pcap1")
    ls[n - 1], ls[n] = ls[n], "  dev: net_pcap0"  # dev after next_hop_mac this time
    cases.append(("wan.dev = lan.dev", "\n".join(ls) + "\n", 0o600, n + 1, "wan.dev",
                  "must differ"))
    t, n = insert_after("  dev: net_pcap0", "  dev: net_pcap9")
    cases.append(("duplicate field", t, 0o600, n, "lan.dev", "duplicate"))
    cases.append(("world-readable key file", base, 0o644, line_of("  key:"), "static_group.key",
                  "world-readable"))

    for desc, text, mode, line, field, what_re in cases:
        w = f"bad config '{desc}'"
        r = run_gm(tmp, "badcfg", text, [], [], mode=mode)
        c.check(r.rc not in (0, "timeout") and isinstance(r.rc, int) and r.rc > 0,
                f"{w}: exit status {r.rc}")
        m = re.search(r"^gm-dataplane: config error: (.+?):(\d+): ([\w.\[\]]+): (.+)$", r.err,
                      re.M)
        if c.check(m is not None, f"{w}: no 'FILE:LINE: field: what' message in {r.err!r}"):
            c.check(m.group(1) == r.cfg, f"{w}: file {m.group(1)!r} != {r.cfg!r}")
            c.check(int(m.group(2)) == line, f"{w}: line {m.group(2)} != {line}: {m.group(0)}")
            c.check(m.group(3) == field, f"{w}: field {m.group(3)!r} != {field!r}")
            c.check(re.search(what_re, m.group(4)) is not None,
                    f"{w}: message {m.group(4)!r} lacks /{what_re}/")
        # Nothing touched: EAL never started, so no runtime directory and no output pcap.
        c.check(not r.prefix_existed, f"{w}: EAL created its runtime directory")
        c.check(r.lan_out is None and r.wan_out is None, f"{w}: a port was opened")
        c.check("EAL:" not in r.err, f"{w}: EAL ran: {r.err[-300:]!r}")
    # The unbroken file, readable by its owner only, does start.
    r = run_gm(tmp, "goodcfg", base, [], [])
    c.check(r.rc == 0, f"the unbroken config: exit {r.rc}: {r.err[-500:]}")


# --- main ----------------------------------------------------------------------------------


def main():
    gm_from_argv()
    c = oc.Checker("gm-dataplane pcap integration")
    rng = random.Random(SEED)

    def section(name, fn, *args):
        c.section(name, fn, tmp, rng, *args)

    with tempfile.TemporaryDirectory(prefix="gm-dp-it-") as tmp:
        dfs = ["copy", "set", "clear"]
        for k, xf in enumerate(XFS):
            for tbar in (True, False):
                df = dfs[(2 * k + tbar) % 3]
                sender = 1 + 2 * k + tbar
                section(f"matrix {xf} tbar={tbar} df={df}", transform_run, xf, tbar, df, sender,
                        (k + tbar) % 4 != 0)
        section("hostile aes-gcm-128 tbar", hostile_run, "aes-gcm-128", True)
        section("hostile 3des-cbc-sha1 tbar", hostile_run, "3des-cbc-sha1", True)
        section("hostile aes-cbc-256-sha1 no tbar", hostile_run, "aes-cbc-256-sha1", False)
        section("migration", migration_runs)
        section("back-to-back aes-gcm-256 tbar", back_to_back, "aes-gcm-256", True)
        section("back-to-back null-sha1 no tbar", back_to_back, "null-sha1", False)
        section("bad configs", bad_configs)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
