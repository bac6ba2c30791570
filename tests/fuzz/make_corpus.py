#!/usr/bin/python3
"""Writes the seed corpora of the data-plane fuzz targets into tests/fuzz/corpus/<target>/.

Frames are the shapes the pcap integration test sends (tests/dataplane/
pcap_integration_test.py), built with scapy; valid ESP is sealed by the independent codec in
tests/esp/oracle_common.py with the keys tests/dataplane_world.h installs. The config
and ACE seeds are configs/*.yaml and the seed ACL of spec section 3. Re-run after changing
the harness keys or input layout:  /usr/bin/python3 tests/fuzz/make_corpus.py
"""

import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "esp"))
import oracle_common as oc  # noqa: E402

from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_NOP, IPOption_EOL  # noqa: E402
from scapy.layers.inet6 import IPv6  # noqa: E402
from scapy.layers.l2 import ARP, Dot1Q, Ether  # noqa: E402

# As in dataplane_world.h: transform order of crypto/transform.h, SPI 0x1000 + index,
# cipher key bytes 0x10 + index, auth key bytes 0x60 + index, pseudotime 5,000,000 ms.
XFS = ["aes-gcm-128", "aes-gcm-256", "aes-cbc-128-sha1", "aes-cbc-256-sha1",
       "aes-cbc-128-sha256", "3des-cbc-sha1", "null-sha1"]
REPLAY = {"aes-gcm-256": "none", "aes-cbc-128-sha256": "counter"}
PT0 = 5_000_000
LAN_MAC = "02:00:00:00:00:01"
WAN_MAC = "02:00:00:00:01:01"


def keys(i):
    t = oc.TRANSFORMS[XFS[i]]
    return bytes([0x10 + i]) * t["key"], bytes([0x60 + i]) * t["akey"]


def inner_packets():
    pay = bytes(range(32))
    return [
        IP(src="10.1.1.1", dst="10.2.2.2", ttl=64) / UDP(sport=3000, dport=3001) / pay,
        IP(src="10.1.1.1", dst="10.2.2.2", ttl=2, flags="DF") / TCP(sport=1234, dport=80,
                                                                     flags="S",
                                                                     options=[("MSS", 1460)]),
        IP(src="10.1.1.1", dst="10.2.2.2") / ICMP() / pay,
        IP(src="10.1.1.1", dst="10.2.2.2") / UDP(sport=848, dport=848) / pay,
        IP(src="10.1.1.1", dst="224.0.0.5", proto=89) / pay,
        IP(src="10.1.1.1", dst="10.2.2.2", options=[IPOption_NOP(), IPOption_EOL()]) /
        UDP(sport=9, dport=9) / pay,
        IP(src="10.1.1.1", dst="10.2.2.2", flags="MF") / UDP(sport=5, dport=6) / pay,
        IP(src="10.1.1.1", dst="10.2.2.2", frag=100, proto=17) / pay,
        IP(src="10.1.1.1", dst="10.2.2.2", flags="DF") / UDP(sport=1, dport=2) / bytes(1600),
        IP(src="10.1.1.1", dst="10.2.2.2") / UDP(sport=1, dport=2) / bytes(3000),
        IP(src="10.1.1.1", dst="10.2.2.2", ttl=1) / UDP(sport=1, dport=2),
    ]


def other_frames(mac, ip):
    """`ip`: the port's address in dataplane_world.h, which it answers ARP and pings for."""
    udp = bytes(IP(src="10.1.1.1", dst="10.2.2.2") / UDP(sport=1, dport=2))
    return [
        bytes(Ether(dst=mac) / ARP()),
        bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src="02:00:00:00:09:09") /
              ARP(op=1, hwsrc="02:00:00:00:09:09", psrc="10.9.9.9", pdst=ip)),
        bytes(Ether(dst=mac, src="02:00:00:00:09:09") /
              ARP(op=2, hwsrc="02:00:00:00:09:09", psrc="10.9.9.9", hwdst=mac, pdst=ip)),
        bytes(Ether(dst=mac) / IP(src="10.9.9.9", dst=ip) / ICMP(id=7, seq=1) / (b"p" * 24)),
        bytes(Ether(dst=mac) / IP(src="10.9.9.9", dst=ip) / UDP(sport=1, dport=2)),
        bytes(Ether(dst=mac) / IPv6() / UDP()),
        bytes(Ether(dst=mac) / Dot1Q(vlan=5) / IP(udp)),
        bytes(Ether(dst=mac, type=0x0800)) + b"\x45" + bytes(5),
        bytes(Ether(dst=mac)),
        bytes(Ether(dst=mac, type=0x0800)) + b"\x44" + udp[1:],
        bytes(Ether(dst=mac, type=0x0800)) + udp[:2] + b"\xff\xff" + udp[4:],
    ]


def write(target, blobs):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for b in blobs:
        with open(os.path.join(d, hashlib.sha1(b).hexdigest()[:16]), "wb") as f:
            f.write(b)
    print(f"{target}: {len(blobs)} seeds")


def esp_frame(i, inner, seq):
    xf = XFS[i]
    ck, ak = keys(i)
    t = oc.TRANSFORMS[xf]
    tbar = REPLAY.get(xf, "time") == "time"
    body = (oc.tbar_metadata(PT0, 99) if tbar else b"") + inner
    plain = body + oc.trailer(len(body), t["block"], oc.TBAR_NH if tbar else 4)
    iv = bytes([seq]) * t["iv"]
    esp = oc.esp_seal(xf, ck, ak, 0x1000 + i, seq, iv, plain)
    return bytes(Ether(dst=WAN_MAC, type=0x0800)) + oc.outer_ipv4(inner[12:16], inner[16:20], esp)


def main():
    inners = [bytes(p) for p in inner_packets()]
    # outbound: byte 0 = outbound SA, then the LAN frame.
    out = []
    for k, p in enumerate(inners):
        out.append(bytes([k % len(XFS)]) + bytes(Ether(dst=LAN_MAC, type=0x0800)) + p)
    out += [bytes([2]) + f for f in other_frames(LAN_MAC, "10.0.0.1")]
    write("outbound_fuzz", out)
    # inbound: mode|SA|twice, skew ms, stamp offset ms, payload.
    inb = []
    for i in range(len(XFS)):
        for k, p in enumerate(inners[:8]):
            inb.append(bytes([0x80 if k == 0 else 0]) + bytes(4) + esp_frame(i, p, k + 1))
            inb.append(bytes([3 | i << 2]) + struct.pack("!hh", 0, 0) + p)
        inb.append(bytes([2 | i << 2]) + struct.pack("!hh", 0, 3999) + inners[0])
        inb.append(bytes([3 | i << 2 | 0x80]) + struct.pack("!hh", -4001, 0) + inners[0])
        inb.append(bytes([1 | i << 2]) + bytes(4) + oc.tbar_metadata(PT0, 1) + inners[0] +
                   b"\x01\x02\x02\x63")
        # Through the tunnel to the GM's own LAN address: a ping it answers.
        inb.append(bytes([3 | i << 2]) + struct.pack("!hh", 0, 0) +
                   bytes(IP(src="10.2.2.2", dst="10.0.0.1") / ICMP(id=9, seq=1) / (b"t" * 24)))
    inb += [bytes(5) + f for f in other_frames(WAN_MAC, "192.0.2.1")]
    inb.append(bytes(5) + bytes(Ether(dst=WAN_MAC, type=0x0800)) + inners[0])
    write("inbound_fuzz", inb)
    # config: the example configuration and the static groups of every transform.
    with open(os.path.join(TOP, "configs", "static-gcm.yaml"), "rb") as f:
        base = f.read()
    cfgs = [base]
    for i, xf in enumerate(XFS):
        ck, ak = keys(i)
        text = base.replace(b"transform: aes-gcm-128", b"transform: " + xf.encode())
        text = text.replace(b'"2b7e151628aed2a6abf7158809cf4f3cdeadbeef"', b'"' + ck.hex().encode()
                            + b'"')
        if ak:
            text = text.replace(b"  replay: time", b'  auth_key: "' + ak.hex().encode() +
                                b'"\n  replay: ' + REPLAY.get(xf, "time").encode())
        cfgs.append(text)
    write("config_parse_fuzz", cfgs)
    aces = [b"deny icmp any any", b"deny eigrp any any", b"deny ip any 224.0.0.0 0.255.255.255",
            b"deny ip 224.0.0.0 0.255.255.255 any", b"deny udp any port = 848 any port = 848",
            b"permit ip any any", b"deny tcp any any eq 22",
            b"permit tcp host 10.0.0.1 gt 1023 10.2.0.0 0.0.255.255 range 80 90",
            b"permit udp any lt 1024 any eq gdoi", b"permit 47 any any"]
    write("ace_parse_fuzz", aces)


if __name__ == "__main__":
    main()
