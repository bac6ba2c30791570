#!/usr/bin/python3
"""A WAN in user space: carries every Ethernet frame between two interfaces (AF_PACKET) and
impairs them as netem would, for kernels built without sch_netem. Runs in the lab's "wan"
namespace (tools/labnet.py Lab.build(wan_hop=True)).

  wanrelay.py --ifaces wA wB --params FILE --out FILE

FILE holds a JSON object: {"loss": 0.05} (drop each frame with that probability),
{"delay_ms": 5, "reorder": 0.25} (as netem `delay 5ms reorder 25%`: a quarter of the
frames go at once, the rest after the delay, so a frame sent at once overtakes the
delayed ones before it), {"duplicate": 0.1} (send a second copy). SIGHUP: write the
counters of the settings in force to --out (one JSON line), zero them and read FILE
again. SIGTERM: write the counters and exit.
"""
import argparse
import heapq
import json
import random
import select
import signal
import socket
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ifaces", nargs=2, required=True)
    ap.add_argument("--params", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    socks = []
    for name in a.ifaces:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((name, 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        socks.append(s)
    other = {socks[0].fileno(): socks[1], socks[1].fileno(): socks[0]}
    events = []

    def load():
        with open(a.params) as f:
            return json.load(f)

    def zero():
        return {"frames": 0, "forwarded": 0, "dropped": 0, "duplicated": 0, "delayed": 0,
                "sent_at_once": 0}

    params = load()
    stats = zero()
    signal.signal(signal.SIGHUP, lambda *_: events.append("hup"))
    signal.signal(signal.SIGTERM, lambda *_: events.append("term"))
    pending = []  # (due, n, socket, frame)
    n = 0

    def dump():
        with open(a.out, "a") as f:
            f.write(json.dumps({"params": params, **stats}) + "\n")

    while True:
        if events:
            what = events.pop(0)
            # Frames still held go out first: they belong to the settings that delayed them.
            for _, _, s, frame in sorted(pending):
                s.send(frame)
                stats["forwarded"] += 1
            pending = []
            dump()
            if what == "term":
                return
            params = load()
            stats = zero()
            continue
        timeout = max(0.0, pending[0][0] - time.monotonic()) if pending else 0.2
        try:
            ready, _, _ = select.select(socks, [], [], timeout)
        except InterruptedError:
            continue
        for s in ready:
            frame, addr = s.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING:
                continue  # our own transmission on this interface
            stats["frames"] += 1
            out = other[s.fileno()]
            if rnd.random() < params.get("loss", 0):
                stats["dropped"] += 1
                continue
            copies = 2 if rnd.random() < params.get("duplicate", 0) else 1
            stats["duplicated"] += copies - 1
            delay = params.get("delay_ms", 0) / 1000.0
            if delay and rnd.random() >= params.get("reorder", 0):
                stats["delayed"] += 1
                for _ in range(copies):
                    n += 1
                    heapq.heappush(pending, (time.monotonic() + delay, n, out, frame))
                continue
            if delay:
                stats["sent_at_once"] += 1
            for _ in range(copies):
                out.send(frame)
                stats["forwarded"] += 1
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, _, out, frame = heapq.heappop(pending)
            out.send(frame)
            stats["forwarded"] += 1


if __name__ == "__main__":
    main()
