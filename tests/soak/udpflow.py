#!/usr/bin/python3
"""A numbered UDP flow for the soak and fault tests: `send` paces datagrams at a fixed
rate, `recv` accounts for every one of them. Runs inside a lab namespace (ip netns exec).

Each datagram: magic, flow id, sequence number, then a filler derived from the sequence
number (sha256 of it, repeated), so the receiver tells a lost datagram from a corrupted one
from a duplicate or a late one without trusting anything but the payload itself.

  udpflow.py send --dst IP --port P --rate PPS --seconds S --out FILE [--size BYTES]
  udpflow.py recv --bind IP --port P --out FILE          (until SIGTERM/SIGINT)

Both write one JSON object to --out when they end. The sender's `t0` (CLOCK_MONOTONIC,
the same clock in every namespace of the machine) and `rate` place any sequence number in
time: datagram n left at t0 + n / rate (the sender keeps an absolute schedule).
"""
import argparse
import hashlib
import json
import signal
import socket
import struct
import time

MAGIC = 0x534F414B  # "SOAK"
HEADER = struct.Struct("!IIQ")


def filler(seq, size):
    block = hashlib.sha256(struct.pack("!Q", seq)).digest()
    return (block * (size // len(block) + 1))[:size]


def payload(flow, seq, size):
    return HEADER.pack(MAGIC, flow, seq) + filler(seq, max(0, size - HEADER.size))


def send(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((a.dst, a.port))
    total = int(a.rate * a.seconds)
    t0 = time.monotonic()
    sent = errors = 0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    for seq in range(total):
        if stop:
            break
        delay = t0 + seq / a.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        try:
            s.send(payload(a.flow, seq, a.size))
            sent += 1
        except OSError:
            # A local send error (ENOBUFS): counted apart, the receiver sees it as lost.
            errors += 1
    with open(a.out, "w") as f:
        json.dump({"t0": t0, "rate": a.rate, "sent": sent, "attempted": sent + errors,
                   "send_errors": errors, "end": time.monotonic()}, f)


def ranges(seqs):
    """Sorted sequence numbers as [[first, last], ...]."""
    out = []
    for n in sorted(seqs):
        if out and n == out[-1][1] + 1:
            out[-1][1] = n
        else:
            out.append([n, n])
    return out


def recv(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((a.bind, a.port))
    s.settimeout(0.2)
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(1))
    seen = set()
    received = dups = reordered = corrupt = foreign = 0
    highest = -1
    first = last = None
    while not stop:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        now = time.monotonic()
        if len(d) < HEADER.size:
            foreign += 1
            continue
        magic, flow, seq = HEADER.unpack_from(d)
        if magic != MAGIC or flow != a.flow:
            foreign += 1
            continue
        received += 1
        first = first if first is not None else now
        last = now
        if d[HEADER.size:] != filler(seq, len(d) - HEADER.size) or len(d) != a.size:
            corrupt += 1
            continue
        if seq in seen:
            dups += 1
            continue
        seen.add(seq)
        if seq < highest:
            reordered += 1  # arrived after a higher number: late, not lost
        highest = max(highest, seq)
    with open(a.out, "w") as f:
        json.dump({"received": received, "unique": len(seen), "duplicates": dups,
                   "reordered": reordered, "corrupt": corrupt, "foreign": foreign,
                   "highest": highest, "first": first, "last": last,
                   "ranges": ranges(seen)}, f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["send", "recv"])
    ap.add_argument("--dst")
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--size", type=int, default=200)
    ap.add_argument("--flow", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    (send if a.mode == "send" else recv)(a)


if __name__ == "__main__":
    main()
