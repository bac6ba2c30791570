#!/usr/bin/python3
"""Frames for a pktgen-dpdk benchmark of gm-dataplane with configs/pktgen-gcm.yaml.

For each --sizes entry (cleartext Ethernet frame length, FCS excluded, as in perf/):
  lan-clear-SIZE.pcap  IPv4/UDP frames for the LAN port (the GM encrypts them);
  wan-esp-SIZE.pcap    the reply direction as a peer GM would send it: tunnel ESP,
                       AES-GCM-128 with the config's key and SPI 10, outer addresses = inner
                       addresses (GETVPN header preservation), no TBAR header (replay: none).
                       The inner packets go 192.168.1.z -> 10.1.x.y: the GM checks decrypted
                       packets against the mirrored ACL, as IOS does, so a frame in the LAN
                       direction would be dropped as inner_policy_mismatch.
Flows as shared/bench's gen_pcap.py: 10.1.x.y:1024+i -> 192.168.1.z:5001, --flows of them,
so RSS spreads them over workers. Replay with pktgen's `-s PORT:FILE` (docs/benchmarking.md).

  /usr/bin/python3 perf/pktgen/make_pcaps.py [--sizes "64 512 1420"] [--flows 256]
      [--gm-lan-mac MAC] [--gm-wan-mac MAC] [-o DIR]
"""
import argparse
import os

from scapy.all import Ether, IP, UDP, Raw, wrpcap
from scapy.layers.ipsec import ESP, SecurityAssociation

# configs/pktgen-gcm.yaml's static group: AES-128 key || 4-byte salt, SPI 10.
KEY = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c" "deadbeef")
SPI = 10
PKTGEN_MAC = ("02:00:00:00:00:01", "02:00:00:00:00:02")  # the config's next_hop_mac values


def inner(i, ip_len, reply=False):
    """IPv4/UDP packet number i of the flow set, ip_len bytes in all; reply: B -> A."""
    if ip_len < 28:
        raise SystemExit("size too small: a frame needs 14 + 28 bytes")
    a = ("10.1.%d.%d" % (i // 250, 1 + i % 250), 1024 + i % 60000)
    b = ("192.168.1.%d" % (1 + i % 250), 5001)
    src, dst = (b, a) if reply else (a, b)
    return (IP(src=src[0], dst=dst[0], ttl=64) / UDP(sport=src[1], dport=dst[1]) /
            Raw(b"\xa5" * (ip_len - 28)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="64 512 1420")
    ap.add_argument("--flows", type=int, default=256)
    ap.add_argument("--gm-lan-mac", default="02:00:00:00:0a:00",
                    help="destination MAC of LAN frames (the GM's LAN port)")
    ap.add_argument("--gm-wan-mac", default="02:00:00:00:0b:00",
                    help="destination MAC of ESP frames (the GM's WAN port)")
    ap.add_argument("-o", "--out", default=".")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for size in (int(s) for s in a.sizes.split()):
        clear, esp = [], []
        for i in range(a.flows):
            clear.append(Ether(src=PKTGEN_MAC[0], dst=a.gm_lan_mac) / inner(i, size - 14))
            r = inner(i, size - 14, reply=True)
            # Header preservation: the outer header carries the inner addresses.
            sa = SecurityAssociation(ESP, spi=SPI, crypt_algo="AES-GCM", crypt_key=KEY,
                                     tunnel_header=IP(src=r[IP].src, dst=r[IP].dst, ttl=64))
            esp.append(Ether(src=PKTGEN_MAC[1], dst=a.gm_wan_mac) / sa.encrypt(r))
        for name, frames in (("lan-clear-%d.pcap" % size, clear), ("wan-esp-%d.pcap" % size, esp)):
            path = os.path.join(a.out, name)
            wrpcap(path, frames)
            print("%s: %d frames, %d B each" % (path, len(frames), len(frames[0])))


if __name__ == "__main__":
    main()
