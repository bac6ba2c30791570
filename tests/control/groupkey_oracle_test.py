"""Independent checks of GROUPKEY-PULL and GROUPKEY-PUSH as our code sends them.

groupkey-sample-tool runs a registration and builds rekeys, and writes the datagrams as
sent (encrypted) with the keys a checker needs. This script, with no code of ours:
  - decrypts the four GROUPKEY-PULL messages itself (python3-cryptography, AES-256-CBC,
    RFC 2409 App. B IV chain: hash(phase-1 IV | M-ID), then each message's last cipher
    block) and recomputes HASH(1)..HASH(4) of RFC 6407 3.2 with HMAC-SHA256;
  - decrypts each GROUPKEY-PUSH (AES or 3DES; RFC 6407 IV sent after the header, or the
    static KD IV) and verifies its RSA signature over "rekey" | HDR | payloads before SIG
    with the openssl CLI: `openssl dgst -verify` for the DigestInfo form and
    `openssl pkeyutl -verify` over the bare hash for the raw-hash form, and checks that each
    form does not verify as the other;
  - rewrites every message in plaintext (E flag cleared, length fixed) and has tshark
    decode it: no malformed/error expert info, the payload sequence of each message, SEQ,
    the group ID, the SA TEK SPIs and KD key packet SPIs, the KEK SPI.

usage: groupkey_oracle_test.py PATH/TO/groupkey-sample-tool
"""

import hashlib
import hmac
import json
import os
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

sys.dont_write_bytecode = True

HASH, SA, ID, SIG, NONCE, DELETE, KD, SEQ, GAP = 8, 1, 5, 9, 10, 12, 17, 18, 22


class Checker:
    def __init__(self):
        self.failures = 0
        self.checks = 0

    def eq(self, got, want, what):
        self.checks += 1
        if got != want:
            self.failures += 1
            print(f"FAIL: {what}: got {got!r}, want {want!r}", flush=True)

    def true(self, cond, what):
        self.eq(bool(cond), True, what)


def cbc_decrypt(cipher, key, iv, data):
    algo = algorithms.AES(key) if cipher == "aes" else algorithms.TripleDES(key)
    d = Cipher(algo, modes.CBC(iv)).decryptor()
    return d.update(data) + d.finalize()


def walk(first, chain):
    """[(type, offset, length)] of a generic payload chain; stops at next payload 0."""
    out, off, t = [], 0, first
    while t != 0:
        nxt, _, length = struct.unpack_from("!BBH", chain, off)
        out.append((t, off, length))
        off += length
        t = nxt
    return out


def body(chain, p):
    return chain[p[1] + 4:p[1] + p[2]]


def plaintext_message(dgram, chain, payloads):
    """The message as tshark can read it: E flag cleared, no IV, no padding."""
    end = payloads[-1][1] + payloads[-1][2]
    hdr = bytearray(dgram[:28])
    hdr[19] &= 0xFE
    struct.pack_into("!I", hdr, 24, 28 + end)
    return bytes(hdr) + chain[:end]


def check_pull(c, d, want):
    enc_key = bytes.fromhex(want["enc_key"])
    skeyid_a = bytes.fromhex(want["skeyid_a"])
    mid = struct.pack("!I", want["message_id"])
    iv = hashlib.sha256(bytes.fromhex(want["phase1_iv"]) + mid).digest()[:16]
    plains, chains = [], []
    for n in range(1, 5):
        with open(os.path.join(d, f"pull_{n}.bin"), "rb") as f:
            dgram = f.read()
        c.eq(dgram[18], 32, f"pull {n} exchange type")
        c.eq(dgram[19] & 1, 1, f"pull {n} E flag")
        c.eq(dgram[20:24], mid, f"pull {n} message id")
        ct = dgram[28:]
        chain = cbc_decrypt("aes", enc_key, iv, ct)
        iv = ct[-16:]
        ps = walk(dgram[16], chain)
        chains.append((chain, ps))
        plains.append(plaintext_message(dgram, chain, ps))
    types = [[p[0] for p in ps] for _, ps in chains]
    c.eq(types[0], [HASH, NONCE, ID], "message 1 payloads")
    c.eq(types[1], [HASH, NONCE, SA], "message 2 payloads")
    c.eq(types[2], [HASH, GAP], "message 3 payloads (GAP: sender id requested)")
    c.eq(types[3], [HASH, SEQ, KD], "message 4 payloads")

    def rest(n):
        chain, ps = chains[n]
        return chain[ps[1][1]:ps[-1][1] + ps[-1][2]] if len(ps) > 1 else b""

    ni_b = body(chains[0][0], chains[0][1][1])
    nr_b = body(chains[1][0], chains[1][1][1])
    want_hashes = [
        mid + rest(0),                  # HASH(1) = prf(SKEYID_a, M-ID | Ni | ID)
        mid + ni_b + rest(1),           # HASH(2) = prf(SKEYID_a, M-ID | Ni_b | Nr | SA)
        mid + ni_b + nr_b + rest(2),    # HASH(3) = prf(SKEYID_a, M-ID | Ni_b | Nr_b | GAP)
        mid + ni_b + nr_b + rest(3),    # HASH(4) = prf(SKEYID_a, M-ID | Ni_b | Nr_b | SEQ | KD)
    ]
    for n, data in enumerate(want_hashes):
        chain, ps = chains[n]
        c.eq(body(chain, ps[0]).hex(), hmac.new(skeyid_a, data, hashlib.sha256).hexdigest(),
             f"HASH({n + 1})")
    c.eq(body(chains[0][0], chains[0][1][2])[4:].hex(),
         struct.pack("!I", want["group"]).hex(), "message 1 ID data = group number")
    c.eq(struct.unpack("!I", body(chains[3][0], chains[3][1][1]))[0], want["seq"], "message 4 SEQ")
    return plains


def openssl(args, data=None):
    return subprocess.run(["openssl"] + args, input=data, capture_output=True)


def check_push(c, d, v, pub_pem, tmp):
    with open(os.path.join(d, f"push_{v['name']}.bin"), "rb") as f:
        dgram = f.read()
    what = f"push {v['name']}"
    c.eq(dgram[18], 33, f"{what} exchange type")
    c.eq(dgram[20:24], b"\0\0\0\0", f"{what} message id")
    c.eq(dgram[0:16].hex(), v["kek_spi"], f"{what} cookies = KEK SPI")
    c.eq(struct.unpack_from("!I", dgram, 24)[0], len(dgram), f"{what} header length")
    block = 16 if v["cipher"] == "aes" else 8
    key = bytes.fromhex(v["key"])
    if v["static_iv"]:
        iv, ct = bytes.fromhex(v["iv"]), dgram[28:]
    else:
        iv, ct = dgram[28:28 + block], dgram[28 + block:]
    chain = cbc_decrypt(v["cipher"], key, iv, ct)
    ps = walk(dgram[16], chain)
    c.eq([p[0] for p in ps], [SEQ, DELETE, SA, KD, SIG], f"{what} payloads")
    c.eq(struct.unpack("!I", body(chain, ps[0]))[0], v["seq"], f"{what} SEQ")
    sig = body(chain, ps[-1])
    signed = b"rekey" + dgram[:28] + chain[:ps[-1][1]]
    h = hashlib.new(v["hash"], signed).digest()
    paths = {n: os.path.join(tmp, f"{v['name']}.{n}") for n in ("sig", "data", "hash")}
    for n, b in (("sig", sig), ("data", signed), ("hash", h)):
        with open(paths[n], "wb") as f:
            f.write(b)
    digest_info = openssl(["dgst", f"-{v['hash']}", "-verify", pub_pem, "-signature",
                           paths["sig"], paths["data"]])
    raw = openssl(["pkeyutl", "-verify", "-pubin", "-inkey", pub_pem, "-in", paths["hash"],
                   "-sigfile", paths["sig"], "-pkeyopt", "rsa_padding_mode:pkcs1"])
    want_di = v["form"] == "digest-info"
    c.eq(digest_info.returncode == 0, want_di, f"{what}: openssl dgst -verify (DigestInfo)")
    c.eq(raw.returncode == 0, not want_di, f"{what}: openssl pkeyutl -verify (raw hash)")
    bad = bytearray(signed)
    bad[-1] ^= 1
    with open(paths["data"], "wb") as f:
        f.write(bytes(bad))
    tampered = openssl(["dgst", f"-{v['hash']}", "-verify", pub_pem, "-signature", paths["sig"],
                        paths["data"]])
    c.eq(tampered.returncode == 0, False, f"{what}: tampered data does not verify")
    return plaintext_message(dgram, chain, ps)


def udp_frame(payload, n):
    udp = struct.pack("!HHHH", 848, 848, 8 + len(payload), 0) + payload
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n, 0, 64, 17, 0,
                               bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])))
    s = sum((ip[i] << 8) | ip[i + 1] for i in range(0, 20, 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    struct.pack_into("!H", ip, 10, ~s & 0xFFFF)
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + bytes(ip) + udp


def write_pcap(path, payloads):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, p in enumerate(payloads):
            fr = udp_frame(p, i + 1)
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(fr), len(fr)) + fr)


def tshark_fields(pcap, fields):
    args = ["tshark", "-r", pcap, "-d", "udp.port==848,isakmp", "-T", "fields", "-E",
            "separator=/t", "-E", "aggregator=,"]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def check_tshark(c, pcap, n_frames, want):
    verbose = subprocess.run(["tshark", "-r", pcap, "-d", "udp.port==848,isakmp", "-V"],
                             capture_output=True, text=True, check=True).stdout
    c.eq("Malformed" in verbose, False, "tshark: no malformed packet")
    c.eq("Expert Info (Error" in verbose or "Expert Info (Warning" in verbose, False,
         "tshark: no error/warning expert info")
    pdml = subprocess.run(["tshark", "-r", pcap, "-d", "udp.port==848,isakmp", "-T", "pdml"],
                          capture_output=True, text=True, check=True).stdout
    packets = ET.fromstring(pdml).findall("packet")
    c.eq(len(packets), n_frames, "tshark: frames")
    for i, pkt in enumerate(packets):
        isakmp = [p for p in pkt.findall("proto") if p.get("name") == "isakmp"]
        c.eq(len(isakmp), 1, f"frame {i + 1}: ISAKMP decoded")
        if not isakmp:
            continue
        top = [int(f.get("show")) for f in isakmp[0].iter("field")
               if f.get("name") == "isakmp.typepayload"]
        exch = [f.get("show") for f in isakmp[0].iter("field")
                if f.get("name") == "isakmp.exchangetype"]
        c.eq(exch[:1], [str(want[i][0])], f"frame {i + 1}: exchange type")
        # SA TEKs nest inside the SA: compare the top-level sequence as a subsequence.
        it = iter(top)
        c.true(all(t in it for t in want[i][1]), f"frame {i + 1}: payloads {want[i][1]} in {top}")
    rows = tshark_fields(pcap, ["isakmp.seq.seq", "isakmp.sat.spi", "isakmp.kd.payload.spi",
                                "isakmp.sak.spi", "isakmp.id.data.key_id", "isakmp.hash",
                                "isakmp.sig"])
    return rows


def check_ack(c, ack, v):
    """RFC 8263 from its text: HDR (cookies = KEK SPI, next payload HASH, 1.0, exchange 35,
    flags 0, message id 0), HASH = prf(ack_key, SEQ | ID) with
    ack_key = prf(KEK key, "GROUPKEY-PUSH ACK" NUL | SPI | L=512), prf = HMAC-SHA-256
    (REKEY_ACK_KEK_SHA256); ID_IPV4_ADDR with protocol and port 0."""
    c.eq(ack[:16].hex(), v["kek_spi"], "ACK cookies = KEK SPI")
    c.eq(list(ack[16:20]), [HASH, 0x10, 35, 0], "ACK next payload, version, exchange, flags")
    c.eq(ack[20:24], bytes(4), "ACK message id 0")
    hash_len = struct.unpack_from("!H", ack, 28 + 2)[0] - 4
    rest = ack[28 + 4 + hash_len:]
    spi = bytes.fromhex(v["kek_spi"])
    ack_key = hmac.new(bytes.fromhex(v["kek_key"]),
                       b"GROUPKEY-PUSH ACK\0" + spi + struct.pack("!H", 512),
                       hashlib.sha256).digest()
    c.eq(ack[32:32 + hash_len].hex(), hmac.new(ack_key, rest, hashlib.sha256).hexdigest(),
         "ACK HASH = HMAC-SHA-256(ack_key, SEQ | ID) (RFC 8263 4.2)")
    c.eq(rest[-8:].hex(), "01000000" + bytes(map(int, v["member"].split("."))).hex(),
         "ACK ID: ID_IPV4_ADDR, protocol 0, port 0, the member's address")


def main():
    tool = sys.argv[1]
    c = Checker()
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([tool, d], check=True)
        with open(os.path.join(d, "expected.json")) as f:
            want = json.load(f)
        pub_pem = os.path.join(d, "ks_public.pem")
        subprocess.run(["openssl", "pkey", "-pubin", "-inform", "DER", "-in",
                        os.path.join(d, "ks_public.der"), "-out", pub_pem], check=True)
        plains = check_pull(c, d, want["pull"])
        for v in want["push"]:
            plains.append(check_push(c, d, v, pub_pem, d))
        with open(os.path.join(d, "ack.bin"), "rb") as f:
            ack = f.read()
        plains.append(ack)
        pcap = os.path.join(d, "groupkey.pcap")
        write_pcap(pcap, plains)
        expect = [(32, [HASH, NONCE, ID]), (32, [HASH, NONCE, SA]), (32, [HASH, GAP]),
                  (32, [HASH, SEQ, KD])]
        expect += [(33, [SEQ, DELETE, SA, KD, SIG])] * len(want["push"])
        expect += [(35, [HASH, SEQ, ID])]
        rows = check_tshark(c, pcap, len(plains), expect)
        spi_hex = lambda s: f"{s:08x}"
        pull, pushes = want["pull"], want["push"]
        c.eq(rows[3][0], str(pull["seq"]), "tshark: message 4 SEQ")
        c.eq(rows[1][1].split(","), [spi_hex(s) for s in pull["tek_spis"]],
             "tshark: message 2 SA TEK SPIs")
        c.eq(rows[1][3].replace(":", ""), pull["kek_spi"], "tshark: message 2 SA KEK SPI")
        permits = [spi_hex(s) for s in pull["tek_spis"] if s != 0]
        kd_spis = rows[3][2].split(",")
        c.true(all(p in kd_spis for p in permits), f"tshark: message 4 KD SPIs {kd_spis}")
        for i, v in enumerate(pushes):
            row = rows[4 + i]
            c.eq(row[0], str(v["seq"]), f"tshark: push {v['name']} SEQ")
            c.eq(row[1].split(","), [spi_hex(s) for s in v["tek_spis"]],
                 f"tshark: push {v['name']} SA TEK SPIs")
            c.eq(row[3].replace(":", ""), v["kek_spi"], f"tshark: push {v['name']} KEK SPI")
            c.true(row[6] != "", f"tshark: push {v['name']} SIG data shown")
        c.eq(rows[-1][0], str(want["ack"]["seq"]), "tshark: ACK SEQ")
        check_ack(c, ack, want["ack"])
    print(f"{c.checks} checks, {c.failures} failures")
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
