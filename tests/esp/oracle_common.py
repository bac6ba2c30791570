"""Shared pieces of the ESP oracle tests: the transform matrix, pcap files, gm-esp-tool
runs, random inner packets, and an ESP codec written directly on python3-cryptography
(a second, independent implementation next to scapy's)."""

import hashlib
import hmac
import os
import random
import struct
import subprocess
import sys
import time
import traceback

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# name -> scapy crypt/auth names, cipher key bytes (GCM: with the 4-byte salt), auth key bytes,
# IV bytes, pad block our engine uses, ICV bytes, tshark esp_sa UAT names.
TRANSFORMS = {
    "aes-gcm-128": dict(crypt="AES-GCM", auth=None, key=20, akey=0, iv=8, block=4, icv=16,
                        ws_enc="AES-GCM with 16 octet ICV [RFC4106]", ws_auth="NULL"),
    "aes-gcm-256": dict(crypt="AES-GCM", auth=None, key=36, akey=0, iv=8, block=4, icv=16,
                        ws_enc="AES-GCM with 16 octet ICV [RFC4106]", ws_auth="NULL"),
    "aes-cbc-128-sha1": dict(crypt="AES-CBC", auth="HMAC-SHA1-96", key=16, akey=20, iv=16,
                             block=16, icv=12, ws_enc="AES-CBC [RFC3602]",
                             ws_auth="HMAC-SHA-1-96 [RFC2404]"),
    "aes-cbc-256-sha1": dict(crypt="AES-CBC", auth="HMAC-SHA1-96", key=32, akey=20, iv=16,
                             block=16, icv=12, ws_enc="AES-CBC [RFC3602]",
                             ws_auth="HMAC-SHA-1-96 [RFC2404]"),
    "aes-cbc-128-sha256": dict(crypt="AES-CBC", auth="SHA2-256-128", key=16, akey=32, iv=16,
                               block=16, icv=16, ws_enc="AES-CBC [RFC3602]",
                               ws_auth="HMAC-SHA-256-128 [RFC4868]"),
    "3des-cbc-sha1": dict(crypt="3DES", auth="HMAC-SHA1-96", key=24, akey=20, iv=8, block=8,
                          icv=12, ws_enc="TripleDES-CBC [RFC2451]",
                          ws_auth="HMAC-SHA-1-96 [RFC2404]"),
    "null-sha1": dict(crypt="NULL", auth="HMAC-SHA1-96", key=0, akey=20, iv=0, block=4, icv=12,
                      ws_enc="NULL", ws_auth="HMAC-SHA-1-96 [RFC2404]"),
}

ETH_LEN = 14
TBAR_NH = 99


class Checker:
    """Collects failures instead of stopping at the first, and counts checks."""

    def __init__(self, name):
        self.name = name
        self.failures = []
        self.checks = 0
        self.start = time.monotonic()

    def check(self, cond, msg):
        self.checks += 1
        if not cond:
            self.failures.append(msg)
            if len(self.failures) <= 50:
                print(f"FAIL: {msg}", flush=True)
        return cond

    def section(self, name, fn, *args):
        """Runs fn(self, *args) as one named part of a test: an exception counts as a
        failure (and the next part still runs); prints the part's verdict and the time."""
        n0 = len(self.failures)
        try:
            fn(self, *args)
        except Exception as e:  # noqa: BLE001
            traceback.print_exc()
            self.check(False, f"{name}: {e!r}")
        print(f"{name}: {'ok' if len(self.failures) == n0 else 'FAILED'} "
              f"({time.monotonic() - self.start:.1f}s)", flush=True)

    def finish(self):
        print(f"{self.name}: {self.checks} checks, {len(self.failures)} failures", flush=True)
        return 1 if self.failures else 0


# --- pcap files (classic format, microsecond, DLT_EN10MB) ------------------------------


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i, i, len(fr), len(fr)))
            f.write(fr)


def read_pcap(path):
    """Classic pcap, micro- or nanosecond (the pcap PMD writes nanosecond files)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack_from("<I", data, 0)[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D) or struct.unpack_from("<I", data, 20)[0] != 1:
        raise ValueError(f"{path}: not a little-endian Ethernet pcap")
    off, frames = 24, []
    while off < len(data):
        _, _, incl, _ = struct.unpack_from("<IIII", data, off)
        off += 16
        frames.append(data[off:off + incl])
        off += incl
    return frames


# --- gm-esp-tool -----------------------------------------------------------------------


def run_tool(tool, tmp, direction, xf, ck, ak, spi, frames, extra=(), tag="run"):
    """Runs gm-esp-tool over `frames`; returns (per-frame results, output frames).
    A result is ("ok", {fields}) or ("drop", reason)."""
    inp = os.path.join(tmp, f"{tag}-in.pcap")
    out = os.path.join(tmp, f"{tag}-out.pcap")
    write_pcap(inp, frames)
    cmd = [tool, direction, "--transform", xf, "--spi", str(spi)]
    if ck:
        cmd += ["--key", ck.hex()]
    if ak:
        cmd += ["--auth-key", ak.hex()]
    cmd += list(extra) + [inp, out]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stderr}{p.stdout}")
    results = []
    for line in p.stdout.splitlines():
        parts = line.split()
        if int(parts[0]) != len(results):
            raise RuntimeError(f"tool output out of order: {line!r}")
        if parts[1] == "ok":
            results.append(("ok", dict(kv.split("=", 1) for kv in parts[2:])))
        else:
            results.append(("drop", parts[2]))
    if len(results) != len(frames):
        raise RuntimeError(f"tool reported {len(results)} lines for {len(frames)} frames")
    out_frames = read_pcap(out)
    os.unlink(inp)
    os.unlink(out)
    return results, out_frames


# --- packets ---------------------------------------------------------------------------


def ip_checksum(hdr):
    if len(hdr) % 2:
        hdr += b"\0"
    s = sum(struct.unpack(f"!{len(hdr) // 2}H", hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth_header(rng):
    dst = bytes([rng.randrange(256) & 0xFE]) + rng.randbytes(5)
    src = bytes([rng.randrange(256) & 0xFE]) + rng.randbytes(5)
    return dst + src + b"\x08\x00"


EDGE_SIZES = [0, 1, 2, 3, 4, 5, 7, 8, 9, 13, 14, 15, 16, 17, 31, 32, 33, 255, 256, 1399, 1400]


def random_inner(rng, index):
    """A random IPv4 UDP/TCP/ICMP packet as bytes, built with scapy."""
    from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_NOP, IPOption_EOL

    size = EDGE_SIZES[index] if index < len(EDGE_SIZES) else rng.randint(0, 1400)
    kind = rng.choice(["udp", "tcp", "icmp"])
    ip = IP(src="10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(1, 255)),
            dst="172.%d.%d.%d" % (16 + rng.randrange(16), rng.randrange(256),
                                  rng.randrange(1, 255)),
            tos=rng.randrange(256), flags="DF" if rng.random() < 0.5 else 0,
            ttl=rng.randint(1, 255), id=rng.randrange(65536))
    if rng.random() < 0.1:
        ip.options = [IPOption_NOP(), IPOption_NOP(), IPOption_NOP(), IPOption_EOL()]
    if kind == "udp":
        l4 = UDP(sport=rng.randint(1024, 65535), dport=rng.randint(1024, 65535))
    elif kind == "tcp":
        l4 = TCP(sport=rng.randint(1024, 65535), dport=rng.randint(1, 65535), flags="PA",
                 seq=rng.getrandbits(32), ack=rng.getrandbits(32), window=rng.randrange(65536))
    else:
        l4 = ICMP(type=8, id=rng.randrange(65536), seq=rng.randrange(65536))
    return bytes(ip / l4 / rng.randbytes(size))


def outer_ipv4(src, dst, payload, tos=0, flags=0, frag=0, ttl=64, ident=1, proto=50,
               total_length=None, version_ihl=0x45, options=b""):
    """A raw outer IPv4 header + payload; total_length/version_ihl may lie on purpose."""
    ihl_len = 20 + len(options)
    tl = ihl_len + len(payload) if total_length is None else total_length
    hdr = struct.pack("!BBHHHBBH4s4s", version_ihl, tos, tl, ident, (flags << 13) | frag, ttl,
                      proto, 0, src, dst) + options
    hdr = hdr[:10] + struct.pack("!H", ip_checksum(hdr)) + hdr[12:]
    return hdr + payload


def tbar_metadata(pseudotime_ms, sender_id, inner_proto=4, length=16, option=1, opt_len=12):
    return struct.pack("!BBBBQI", inner_proto, length, option, opt_len, pseudotime_ms, sender_id)


# --- an ESP codec on python3-cryptography ----------------------------------------------


def trailer(payload_len, block, nh, padlen=None, pad=None):
    if padlen is None:
        padlen = -(payload_len + 2) % block
    if pad is None:
        pad = bytes(range(1, padlen + 1))
    return pad + bytes([padlen, nh])


def _cbc(xf, ck, iv):
    alg = algorithms.TripleDES(ck) if xf == "3des-cbc-sha1" else algorithms.AES(ck)
    return Cipher(alg, modes.CBC(iv))


def _hmac(xf, ak, data):
    t = TRANSFORMS[xf]
    h = hashlib.sha256 if t["auth"] == "SHA2-256-128" else hashlib.sha1
    return hmac.new(ak, data, h).digest()[: t["icv"]]


def esp_seal(xf, ck, ak, spi, seq, iv, plaintext):
    """SPI|Seq|IV|ct|ICV for a plaintext that already carries pad|padlen|nh."""
    t = TRANSFORMS[xf]
    hdr = struct.pack("!II", spi, seq)
    if t["crypt"] == "AES-GCM":
        return hdr + iv + AESGCM(ck[:-4]).encrypt(ck[-4:] + iv, plaintext, hdr)
    if t["crypt"] == "NULL":
        ct = plaintext
    else:
        e = _cbc(xf, ck, iv).encryptor()
        ct = e.update(plaintext) + e.finalize()
    return hdr + iv + ct + _hmac(xf, ak, hdr + iv + ct)


def esp_open(xf, ck, ak, esp):
    """Verifies and decrypts; returns (spi, seq, iv, plaintext with trailer) or raises."""
    t = TRANSFORMS[xf]
    spi, seq = struct.unpack_from("!II", esp, 0)
    iv = esp[8:8 + t["iv"]]
    body = esp[8 + t["iv"]:]
    if t["crypt"] == "AES-GCM":
        return spi, seq, iv, AESGCM(ck[:-4]).decrypt(ck[-4:] + iv, body, esp[:8])
    ct, icv = body[: -t["icv"]], body[-t["icv"]:]
    if not hmac.compare_digest(icv, _hmac(xf, ak, esp[: 8 + t["iv"]] + ct)):
        raise ValueError("ICV mismatch")
    if t["crypt"] == "NULL":
        return spi, seq, iv, ct
    d = _cbc(xf, ck, iv).decryptor()
    return spi, seq, iv, d.update(ct) + d.finalize()


def keys_for(rng, xf):
    t = TRANSFORMS[xf]
    return rng.randbytes(t["key"]), rng.randbytes(t["akey"])


def scapy_sa(xf, ck, ak, spi, tunnel_header):
    from scapy.layers.ipsec import ESP, SecurityAssociation

    t = TRANSFORMS[xf]
    return SecurityAssociation(ESP, spi=spi, crypt_algo=t["crypt"], crypt_key=ck or None,
                               auth_algo=t["auth"], auth_key=ak or None,
                               tunnel_header=tunnel_header)


def tool_path():
    if len(sys.argv) != 2 or not os.access(sys.argv[1], os.X_OK):
        sys.exit(f"usage: {sys.argv[0]} PATH/TO/gm-esp-tool")
    return os.path.abspath(sys.argv[1])


def seeded(seed):
    return random.Random(seed)
