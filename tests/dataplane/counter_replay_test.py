#!/usr/bin/python3
"""Counter-based anti-replay (the two-GM alternative to TBAR) through gm-dataplane: ESP
packets built by the python3-cryptography codec with chosen sequence numbers arrive on
WAN; replays and packets behind the 64-packet window are dropped as counter_replay, the
rest reach LAN. Also: counter replay with more than one worker is refused by the config."""
import json
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "esp"))
from oracle_common import esp_seal, outer_ipv4, read_pcap, trailer, write_pcap  # noqa: E402

DP = sys.argv[1]
KEY = bytes(range(1, 21))  # aes-gcm-128 key || salt
SPI = 0x5000
failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg, flush=True)
    if not cond:
        failures.append(msg)


def inner(seq):
    udp = struct.pack("!HHHH", 1000, 2000, 8 + 4, 0) + struct.pack("!I", seq)
    return outer_ipv4(bytes([10, 2, 0, 1]), bytes([10, 1, 0, 1]), udp, proto=17, ttl=64)


def esp_frame(seq):
    pt = inner(seq)
    esp = esp_seal("aes-gcm-128", KEY, b"", SPI, seq, struct.pack("!Q", seq),
                   pt + trailer(len(pt), 4, 4))
    eth = bytes.fromhex("020000000a01020000000b01") + b"\x08\x00"
    return eth + outer_ipv4(bytes([10, 2, 0, 1]), bytes([10, 1, 0, 1]), esp)


def config(tmp, workers):
    path = os.path.join(tmp, "gm-%d.yaml" % workers)
    with open(path, "w") as f:
        f.write('lan: {dev: net_pcap0, next_hop_mac: "02:00:00:00:0a:01"}\n'
                'wan: {dev: net_pcap1, next_hop_mac: "02:00:00:00:0b:01"}\n'
                "workers: %d\nstatic_group:\n  transform: aes-gcm-128\n  spi: %d\n"
                "  key: \"%s\"\n  replay: counter\n  window: 64\n"
                "  acl: [\"permit ip any any\"]\n" % (workers, SPI, KEY.hex()))
    os.chmod(path, 0o600)
    return path


def main():
    tmp = tempfile.mkdtemp(prefix="gm-counter-")
    seqs = [1, 2, 2, 5, 3, 1, 200, 100, 137, 136, 201, 201]
    want = [1, 2, 5, 3, 200, 137, 201]  # 136 is 64 behind 200: outside the window
    write_pcap(os.path.join(tmp, "wan.pcap"), [esp_frame(s) for s in seqs])
    write_pcap(os.path.join(tmp, "empty.pcap"), [])
    stats = os.path.join(tmp, "stats.json")
    p = subprocess.run([DP, "-l", "0,1", "--no-huge", "-m", "256", "--no-pci",
                        "--file-prefix", "gmcounter%d" % os.getpid(),
                        "--vdev", "net_pcap0,rx_pcap=%s,tx_pcap=%s" % (
                            os.path.join(tmp, "empty.pcap"), os.path.join(tmp, "lan.pcap")),
                        "--vdev", "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (
                            os.path.join(tmp, "wan.pcap"), os.path.join(tmp, "wan-out.pcap")),
                        "--log-level=lib.eal:error", "--", "--config", config(tmp, 1),
                        "--exit-when-idle-ms", "300", "--stats-json", stats],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "gm-dataplane ran (rc %d) %s" % (p.returncode, p.stderr[-300:]))
    got = [struct.unpack("!I", f[14 + 28:14 + 32])[0]
           for f in read_pcap(os.path.join(tmp, "lan.pcap"))]
    check(got == want, "forwarded sequence numbers %s, expected %s" % (got, want))
    with open(stats) as f:
        st = json.load(f)
    drops = st["sas"][0]["drops"]
    check(drops.get("counter_replay") == len(seqs) - len(want),
          "counter_replay drops: %s" % drops)
    check(st["sas"][0]["decaps"] == len(seqs), "every packet verified before the window check")

    p = subprocess.run([DP, "-l", "0,1,2", "--no-huge", "-m", "256", "--no-pci",
                        "--file-prefix", "gmcounterx%d" % os.getpid(), "--",
                        "--config", config(tmp, 2)], capture_output=True, text=True, timeout=60)
    check(p.returncode != 0 and "static_group.replay: counter replay needs workers: 1" in p.stderr,
          "counter replay with two workers is refused: " + p.stderr.strip()[-160:])
    subprocess.run(["rm", "-rf", tmp])
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
