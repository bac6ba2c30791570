#!/usr/bin/python3
"""gm-dataplane with two worker lcores (`workers: 2`), end to end over pcap files.

Each port gets two RX and two TX queues (net_pcap: one pcap file per queue) and worker i
owns queue i of both ports. The same oracles as pcap_integration_test (python3-cryptography
and scapy) check what the workers did, for AES-GCM with TBAR and AES-CBC-SHA1 without:

- every LAN packet leaves the WAN once, encrypted, on the queue it came in on (the worker
  that read it sent it), and every WAN ESP packet reaches the LAN once, decrypted;
- ESP sequence numbers are per worker: 1..n on each queue (as documented:
  docs/cisco-interop.md, counter replay needs one worker);
- AES-GCM IVs carry the sender id, the worker's index and a counter: the two workers'
  IVs differ in the worker byte, and no IV repeats across both queues;
- the stats JSON sums both workers: rx = sent, and received = sent on + counted drops.

Runs on two CPUs: EAL lcores 0 (main), 1 and 2, with 2 mapped onto CPU 1 (`--lcores`).

  multiworker_test.py PATH/TO/gm-dataplane
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pcap_integration_test as pit  # noqa: E402
from pcap_integration_test import oc  # noqa: E402

SEED = 0x6D77  # "mw"
SENDER_ID = 0x2A5


def run_two_workers(tmp, tag, cfg, lan_in, wan_in):
    """Feeds lan_in[q] / wan_in[q] to queue q of each port; returns the Result with
    lan_out / wan_out as per-queue lists of frames."""
    d = os.path.join(tmp, tag)
    os.mkdir(d)
    p = lambda n: os.path.join(d, n)  # noqa: E731
    with open(p("gm.yaml"), "w") as f:
        f.write(cfg)
    os.chmod(p("gm.yaml"), 0o600)
    vdevs = []
    for dev, side, frames in (("net_pcap0", "lan", lan_in), ("net_pcap1", "wan", wan_in)):
        args = [dev]
        for q in range(2):
            oc.write_pcap(p(f"{side}_in{q}.pcap"), frames[q])
            args.append(f"rx_pcap={p(f'{side}_in{q}.pcap')}")
        for q in range(2):
            args.append(f"tx_pcap={p(f'{side}_out{q}.pcap')}")
        vdevs += ["--vdev", ",".join(args)]
    prefix = f"gmmw-{os.getpid()}-{tag}"
    cmd = [pit.GM, "--lcores", "0@0,1@1,2@1", "--no-huge", "-m", "256", "--no-pci",
           "--file-prefix", prefix, "--log-level", "lib.eal:warning"] + vdevs + \
          ["--", "--config", p("gm.yaml"), "--exit-when-idle-ms", "500",
           "--stats-json", p("stats.json")]
    r = pit.Result()
    try:
        cp = subprocess.run(cmd, capture_output=True, text=True, timeout=pit.RUN_TIMEOUT_S)
        r.rc, r.out, r.err = cp.returncode, cp.stdout, cp.stderr
    except subprocess.TimeoutExpired as e:
        r.rc, r.out, r.err = "timeout", str(e.stdout or ""), str(e.stderr or "")
    shutil.rmtree(os.path.join("/var/run/dpdk", prefix), ignore_errors=True)
    r.lan_q = [oc.read_pcap(p(f"lan_out{q}.pcap")) if os.path.exists(p(f"lan_out{q}.pcap"))
               else None for q in range(2)]
    r.wan_q = [oc.read_pcap(p(f"wan_out{q}.pcap")) if os.path.exists(p(f"wan_out{q}.pcap"))
               else None for q in range(2)]
    r.lan_out = sum(r.lan_q, []) if None not in r.lan_q else None
    r.wan_out = sum(r.wan_q, []) if None not in r.wan_q else None
    r.stats = None
    if os.path.exists(p("stats.json")):
        import json
        with open(p("stats.json")) as f:
            r.stats = json.load(f)
    r.n_lan_in = len(lan_in[0]) + len(lan_in[1])
    r.n_wan_in = len(wan_in[0]) + len(wan_in[1])
    return r


def one_transform(c, tmp, rng, xf, tbar):
    what = f"two workers, {xf} tbar={'on' if tbar else 'off'}"
    ck, ak = oc.keys_for(rng, xf)
    ids = pit.Ids(rng)
    # Per queue: protected traffic and clear bypass traffic on the LAN; ESP from a peer and
    # clear bypass traffic on the WAN.
    lan_prot = [pit.protected_mix(rng, ids, 40) for _ in range(2)]
    lan_clear = [pit.bypass_mix(rng, ids) for _ in range(2)]
    sealer = pit.Sealer(rng, xf, ck, ak)
    wan_prot = [pit.protected_mix(rng, ids, 30) for _ in range(2)]
    lan_in, wan_in = [], []
    for q in range(2):
        items = [pit.eth(x, pad=True) for x in lan_prot[q] + lan_clear[q]]
        rng.shuffle(items)
        lan_in.append(items)
        frames = [sealer.frame(x, pt_ms=sealer.stamp() if tbar else None) for x in wan_prot[q]]
        rng.shuffle(frames)
        wan_in.append(frames)
    cfg = pit.config_text(xf, ck, ak, tbar=tbar, sender_id=SENDER_ID, workers=2)
    r = run_two_workers(tmp, f"{xf}-{int(tbar)}", cfg, lan_in, wan_in)
    if not pit.ran_ok(c, what, r):
        return
    pit.check_accounting(c, what, r)
    pit.check_drops(c, what, r, {})
    all_ivs = []
    worker_bytes = []
    for q in range(2):
        wq = f"{what}: queue {q}"
        want_esp = {pit.ident(x): x for x in lan_prot[q]}
        want_clear = {pit.ident(x): x for x in lan_clear[q]}
        got_esp, got_clear, seqs, ivs = [], [], [], []
        for k, fr in enumerate(r.wan_q[q]):
            w = f"{wq}: WAN frame {k}"
            if len(fr) > 23 and fr[14 + 9] == 50:
                res = pit.check_esp_out(c, w, fr, xf, ck, ak, tbar, "copy", SENDER_ID, want_esp)
                if res:
                    got_esp.append(res[0])
                    seqs.append(res[1])
                    ivs.append(res[2])
            else:
                i = pit.check_clear_out(c, w, fr, pit.WAN_HOP, pit.WAN_MAC, want_clear)
                if i is not None:
                    got_clear.append(i)
        # What came in on queue q went out on queue q: the worker that read it sent it.
        pit.check_id_sets(c, f"{wq}: outbound ESP", got_esp, want_esp)
        pit.check_id_sets(c, f"{wq}: outbound clear", got_clear, want_clear)
        c.check(sorted(seqs) == list(range(1, len(seqs) + 1)),
                f"{wq}: ESP sequence numbers per worker 1..{len(seqs)}: {sorted(seqs)}")
        if oc.TRANSFORMS[xf]["crypt"] == "AES-GCM":
            # IV: sender id (16 bits) | worker index (8) | counter (40).
            sids = {int.from_bytes(iv[:2], "big") for iv in ivs}
            workers = {iv[2] for iv in ivs}
            c.check(sids == {SENDER_ID & 0xFFFF}, f"{wq}: IV sender ids {sids}")
            c.check(len(workers) == 1, f"{wq}: one worker index in the IVs: {workers}")
            worker_bytes.append(workers)
        all_ivs += ivs
        # Inbound: every ESP frame of queue q decrypted onto LAN queue q.
        want_in = {pit.ident(x): x for x in wan_prot[q]}
        got_in = []
        for k, fr in enumerate(r.lan_q[q]):
            i = pit.check_clear_out(c, f"{wq}: LAN frame {k}", fr, pit.LAN_HOP, pit.LAN_MAC,
                                    want_in)
            if i is not None:
                got_in.append(i)
        pit.check_id_sets(c, f"{wq}: inbound decrypted", got_in, want_in)
    c.check(len(set(all_ivs)) == len(all_ivs),
            f"{what}: no IV used twice across the two workers ({len(all_ivs)} IVs)")
    if len(worker_bytes) == 2:
        c.check(worker_bytes[0].isdisjoint(worker_bytes[1]),
                f"{what}: the workers' IVs carry different worker indices {worker_bytes}")
    # The stats sum both workers.
    sa = r.stats["sas"][0] if r.stats["sas"] else {}
    c.check(sa.get("encaps") == len(lan_prot[0]) + len(lan_prot[1]) and
            sa.get("decaps") == len(wan_prot[0]) + len(wan_prot[1]),
            f"{what}: SA encaps/decaps summed over the workers: {sa.get('encaps')}/{sa.get('decaps')}")


def main():
    pit.gm_from_argv()
    c = oc.Checker("gm-dataplane with two workers")
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory(prefix="gm-dp-mw-") as tmp:
        for xf, tbar in (("aes-gcm-128", True), ("aes-cbc-128-sha1", False)):
            c.section(f"two workers {xf}", one_transform, tmp, rng, xf, tbar)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
