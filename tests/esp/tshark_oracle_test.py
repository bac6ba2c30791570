"""tshark (Wireshark's ESP dissector, libgcrypt) as an independent oracle: packets encrypted
by gm-esp-tool must decrypt in tshark with the ICV reported correct, the inner IPv4 header
must decode with the right fields, and both IP checksums must verify. Fails if tshark
cannot decrypt. Wireshark state lives only in a temporary HOME.

usage: tshark_oracle_test.py PATH/TO/gm-esp-tool
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
warnings.filterwarnings("ignore")

import oracle_common as oc  # noqa: E402

SEED = 20240612
N_PER_RUN = 24
SENDER_ID = 0x0102

FIELDS = ["frame.number", "ip.src", "ip.dst", "ip.len", "ip.dsfield", "ip.ttl",
          "ip.checksum.status", "esp.spi", "esp.sequence", "esp.pad_len", "esp.protocol",
          "esp.icv_good", "esp.icv_bad", "_ws.malformed"]


def dotted(b):
    return ".".join(str(x) for x in b)


def run_tshark(tmp, pcap, xf, ck, ak, spi):
    t = oc.TRANSFORMS[xf]
    # Wireshark 4.0 esp_sa UAT: protocol, src, dst, SPI, encryption, key, authentication,
    # auth key (GCM keys carry the 4-byte salt, as GDOI delivers them).
    sa = '"IPv4","*","*","{:#010x}","{}","{}","{}","{}"'.format(
        spi, t["ws_enc"], "0x" + ck.hex() if ck else "", t["ws_auth"],
        "0x" + ak.hex() if ak else "")
    home = os.path.join(tmp, "home")
    os.makedirs(os.path.join(home, ".config", "wireshark"), exist_ok=True)
    env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"))
    cmd = ["tshark", "-n", "-r", pcap,
           "-o", "esp.enable_encryption_decode:TRUE",
           "-o", "esp.enable_authentication_check:TRUE",
           "-o", "ip.check_checksum:TRUE",
           "-o", "uat:esp_sa:" + sa,
           # A payload dissector that throws on random bytes (DNS on port 53, ...) unwinds
           # the ESP dissector before it adds the ICV verdict; the inner IP is what we check.
           "--disable-protocol", "udp", "--disable-protocol", "tcp",
           "--disable-protocol", "icmp",
           "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"tshark exited {p.returncode}: {p.stderr}")
    rows = []
    for line in p.stdout.splitlines():
        cols = line.split("\t")
        rows.append({f: (cols[i].split(",") if i < len(cols) and cols[i] else [])
                     for i, f in enumerate(FIELDS)})
    return rows


def check_run(c, tool, tmp, rng, xf, tbar):
    t = oc.TRANSFORMS[xf]
    ck, ak = oc.keys_for(rng, xf)
    spi = rng.randrange(0x100, 1 << 32)
    what = f"{xf} tbar={tbar}"
    inners = [oc.random_inner(rng, i) for i in range(N_PER_RUN)]
    frames = [oc.eth_header(rng) + p for p in inners]
    extra = ["--sender-id", str(SENDER_ID)]
    if tbar:
        extra += ["--tbar", "--pseudotime-ms", "1234567"]
    results, outs = oc.run_tool(tool, tmp, "encrypt", xf, ck, ak, spi, frames, extra)
    if not c.check(all(r[0] == "ok" for r in results) and len(outs) == len(inners),
                   f"{what}: gm-esp-tool dropped packets: {results}"):
        return
    pcap = os.path.join(tmp, "tshark-in.pcap")
    oc.write_pcap(pcap, outs)
    rows = run_tshark(tmp, pcap, xf, ck, ak, spi)
    os.unlink(pcap)
    if not c.check(len(rows) == len(inners), f"{what}: tshark printed {len(rows)} rows"):
        return
    for i, (row, inner) in enumerate(zip(rows, inners)):
        w = f"{what} pkt {i} ({len(inner)} bytes)"
        src, dst = dotted(inner[12:16]), dotted(inner[16:20])
        good, bad = row["esp.icv_good"], row["esp.icv_bad"]
        if not c.check(good == ["1"] and bad == ["0"],
                       f"{w}: tshark ICV verdict good={good} bad={bad} (not decrypted, "
                       f"unchecked or incorrect)"):
            continue
        c.check([int(x, 0) for x in row["esp.spi"]] == [spi], f"{w}: esp.spi {row['esp.spi']}")
        c.check(row["esp.sequence"] == [str(i + 1)], f"{w}: esp.sequence {row['esp.sequence']}")
        c.check(not row["_ws.malformed"], f"{w}: tshark flags the packet malformed")
        outer_len = len(outs[i]) - oc.ETH_LEN
        if tbar:
            # tshark has no dissector for next header 99, so it shows neither the trailer
            # nor the inner header: the ICV verdict and the outer header are what it checks.
            c.check(row["ip.src"] == [src] and row["ip.dst"] == [dst],
                    f"{w}: outer addresses {row['ip.src']} -> {row['ip.dst']}")
            c.check(row["ip.len"] == [str(outer_len)], f"{w}: ip.len {row['ip.len']}")
            c.check(row["ip.checksum.status"] == ["1"],
                    f"{w}: outer checksum status {row['ip.checksum.status']}")
            continue
        c.check(row["esp.protocol"] == ["0x04"], f"{w}: next header {row['esp.protocol']}")
        c.check(len(row["esp.pad_len"]) == 1 and int(row["esp.pad_len"][0]) < t["block"],
                f"{w}: pad length {row['esp.pad_len']}")
        c.check(row["ip.src"] == [src, src] and row["ip.dst"] == [dst, dst],
                f"{w}: outer/inner addresses {row['ip.src']} -> {row['ip.dst']}, "
                f"want {src} -> {dst} twice")
        c.check(row["ip.len"] == [str(outer_len), str(len(inner))],
                f"{w}: ip.len {row['ip.len']}, want {outer_len}, {len(inner)}")
        tos = f"0x{inner[1]:02x}"
        c.check(row["ip.dsfield"] == [tos, tos], f"{w}: ip.dsfield {row['ip.dsfield']}")
        c.check(row["ip.ttl"] == [str(inner[8])] * 2, f"{w}: ip.ttl {row['ip.ttl']}")
        # ip.checksum.status: 0 bad, 1 good, 2 unverified.
        c.check(row["ip.checksum.status"] == ["1", "1"],
                f"{w}: IP checksum status {row['ip.checksum.status']} (outer, inner)")


def main():
    tool = oc.tool_path()
    if shutil.which("tshark") is None:
        print("tshark not installed")
        return 1
    ver = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout
    print(ver.splitlines()[0] if ver else "tshark: unknown version", flush=True)
    c = oc.Checker("tshark oracle")
    rng = oc.seeded(SEED)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gm-tshark-oracle-") as tmp:
        for xf in oc.TRANSFORMS:
            n0 = len(c.failures)
            for tbar in (False, True):
                try:
                    check_run(c, tool, tmp, rng, xf, tbar)
                except Exception as e:  # noqa: BLE001
                    c.check(False, f"{xf} tbar={tbar}: {e!r}")
            print(f"{xf}: {'ok' if len(c.failures) == n0 else 'FAILED'} "
                  f"({time.monotonic() - start:.1f}s)", flush=True)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
