#!/usr/bin/python3
"""Events from the data plane to the control process: ESP with an unknown SPI and TBAR
failures reach the events ring (read here with `gm-dpctl events`), rate-limited to 10 a
second per lcore however fast the bad packets come. Needs hugepages (multi-process);
skipped (exit 77) without them."""
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "esp"))
from oracle_common import esp_seal, outer_ipv4, tbar_metadata, trailer, write_pcap  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from labnet import free_hugepages, remove_runtime  # noqa: E402

DP, DPCTL = sys.argv[1], sys.argv[2]
PREFIX = "gmevents%d" % os.getpid()
KEY = bytes(range(1, 21))
failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg, flush=True)
    if not cond:
        failures.append(msg)


def frame(spi, pt_ms):
    udp = struct.pack("!HHHH", 1000, 2000, 8, 0)
    inner = outer_ipv4(bytes([10, 2, 0, 7]), bytes([10, 1, 0, 1]), udp, proto=17)
    pt = tbar_metadata(pt_ms, 9) + inner
    esp = esp_seal("aes-gcm-128", KEY, b"", spi, 1, b"\0" * 8, pt + trailer(len(pt), 4, 99))
    eth = bytes.fromhex("020000000a01020000000b01") + b"\x08\x00"
    return eth + outer_ipv4(bytes([10, 2, 0, 7]), bytes([10, 1, 0, 1]), esp)


def main():
    if free_hugepages() < 128:
        print("SKIP: needs >= 128 free 2 MB hugepages (tools/setup --hugepages 512)")
        return 77
    tmp = tempfile.mkdtemp(prefix="gm-events-")
    # Known SPI 0x6000 with a stamp 1000 s old (TBAR failure), and unknown SPI 0x7777.
    write_pcap(os.path.join(tmp, "wan.pcap"), [frame(0x6000, 5_000_000 - 1_000_000),
                                               frame(0x7777, 5_000_000)])
    cfg = os.path.join(tmp, "gm.yaml")
    with open(cfg, "w") as f:
        f.write('lan: {dev: net_null0, next_hop_mac: "02:00:00:00:0a:01"}\n'
                'wan: {dev: net_pcap0, next_hop_mac: "02:00:00:00:0b:01"}\n'
                "static_group:\n  transform: aes-gcm-128\n  spi: 0x6000\n"
                "  key: \"%s\"\n  window: 4\n  pseudotime_ms: 5000000\n"
                "  acl: [\"permit ip any any\"]\n" % KEY.hex())
    os.chmod(cfg, 0o600)
    dp = subprocess.Popen([DP, "-l", "0,1", "-m", "256", "--no-pci", "--file-prefix", PREFIX,
                           "--vdev", "net_null0,no-rx=1",
                           "--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % os.path.join(tmp, "wan.pcap"),
                           "--log-level=lib.eal:error", "--", "--config", cfg],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        import time
        time.sleep(1.5)
        p = subprocess.run([DPCTL, "--file-prefix", PREFIX, "--", "events", "--seconds", "3"],
                           capture_output=True, text=True, timeout=60)
        out = p.stdout
        inv = re.findall(r"RECVD_PKT_INV_SPI: spi 0x7777 src 10.2.0.7 dst 10.1.0.1", out)
        tbar = re.findall(r"TIMEBASED_REPLAY_FAILED: src 10.2.0.7 my_pseudotime (\S+) secs, "
                          r"peer_pseudotime (\S+) secs, replay_window 4 secs", out)
        check(len(inv) >= 1, "unknown-SPI events reach the control side (%d)" % len(inv))
        check(len(tbar) >= 1, "TBAR failure samples reach the control side (%d)" % len(tbar))
        if tbar:
            my, peer = float(tbar[0][0]), float(tbar[0][1])
            check(abs(my - peer - 1000) < 10, "the sample says the peer is ~1000 s behind "
                  "(my %.2f, peer %.2f)" % (my, peer))
        # Millions of bad packets a second; the events stay within the per-lcore budgets
        # (10/s per type; TBAR samples are also held to 10 a minute by the history).
        check(len(inv) <= 10 * 5 + 10, "unknown-SPI events are rate-limited (%d in 4.5 s)"
              % len(inv))
        check(len(tbar) <= 10 * 2 + 2, "TBAR samples are limited to 10 a minute (%d)" % len(tbar))
    finally:
        dp.send_signal(signal.SIGINT)
        try:
            dp.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            dp.kill()
        subprocess.run(["rm", "-rf", tmp])
        remove_runtime(PREFIX)
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
