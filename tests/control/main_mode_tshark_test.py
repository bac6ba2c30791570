"""tshark (Wireshark's ISAKMP dissector) as an independent oracle for Main Mode.

main-mode-sample-tool runs our initiator and responder in memory for several suites and
prints the six datagrams of each exchange with the configuration, the lab PSK, the initiator
cookie and the encryption key. This script writes them as UDP 848 between 10.0.0.1 (GM,
messages 1/3/5) and 10.0.0.2 (KS, 2/4/6) and checks, per suite:

  as sent (SA DOI 2, spec 5):
    - `tshark -V` shows no "Malformed" and no "Expert Info (Error"/"(Warning" lines;
    - header fields, the payload chain of every message (SA / SA / KE Nonce / KE Nonce /
      encrypted), the SA's DOI 2 and situation 0, KE length = the group's, E flag on 5/6;
  with the SA's DOI rewritten to the IPsec DOI (1, SIT_IDENTITY_ONLY) in messages 1/2:
    Wireshark 4.0 dissects every DOI-2 SA as a GDOI group SA (SA KEK/TEK), so it shows the
    phase-1 proposal and learns the negotiated cipher and hash only from a DOI-1 copy. The
    bytes after the situation are untouched. Then, given the decryption table (initiator
    cookie, encryption key), Wireshark computes the phase-1 IV itself from the KE payloads:
    - the proposal (ISAKMP, 1 transform, KEY_IKE) and every transform attribute;
    - messages 5/6 decrypt to ID (ID_IPV4_ADDR of the sender) + HASH;
    - HASH_I / HASH_R equal what Python's hmac computes from the PSK, the nonces and DH
      values tshark shows, the cookies, SAi_b and the decrypted ID bodies (RFC 2409 5).

usage: main_mode_tshark_test.py PATH/TO/main-mode-sample-tool
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

sys.dont_write_bytecode = True

GM = bytes([10, 0, 0, 1])
KS = bytes([10, 0, 0, 2])
HASHES = {2: hashlib.sha1, 4: hashlib.sha256}


class Checker:
    def __init__(self):
        self.failures = []
        self.checks = 0

    def eq(self, got, want, what):
        self.checks += 1
        if got != want:
            self.failures.append(f"{what}: got {got!r}, want {want!r}")
            print(f"FAIL: {what}: got {got!r}, want {want!r}", flush=True)


def ip_checksum(h):
    s = sum((h[i] << 8) | h[i + 1] for i in range(0, len(h), 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_frame(payload, n, src, dst):
    udp = struct.pack("!HHHH", 848, 848, 8 + len(payload), 0) + payload
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n, 0, 64, 17, 0,
                               src, dst))
    struct.pack_into("!H", ip, 10, ip_checksum(ip))
    return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + bytes(ip) + udp


def write_pcap(path, msgs):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, m in enumerate(msgs):
            src, dst = (GM, KS) if i % 2 == 0 else (KS, GM)
            fr = udp_frame(m, i + 1, src, dst)
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(fr), len(fr)) + fr)


def fields(elem, name):
    return [c for c in elem.iter("field") if c.get("name") == name]


def children(elem, name):
    return [c for c in elem if c.tag == "field" and c.get("name") == name]


def first(elem, name):
    f = fields(elem, name)
    return f[0] if f else None


def show(elem, name):
    f = first(elem, name)
    return None if f is None else f.get("show")


def value(elem, name):
    f = first(elem, name)
    return None if f is None else f.get("value")


def num(elem, name):
    s = show(elem, name)
    return None if s is None else int(s, 0)


def tshark(c, pcap, extra, env, what):
    base = ["tshark", "-n", "-r", pcap, "-d", "udp.port==848,isakmp"] + extra
    v = subprocess.run(base + ["-V"], capture_output=True, text=True, env=env, timeout=120)
    c.eq(v.returncode, 0, f"{what}: tshark -V exit status")
    bad = [ln for ln in v.stdout.splitlines()
           if "Malformed" in ln or "Expert Info (Error" in ln or "Expert Info (Warn" in ln]
    c.eq(bad, [], f"{what}: tshark -V malformed/expert lines")
    x = subprocess.run(base + ["-T", "pdml"], capture_output=True, text=True, env=env,
                       timeout=120)
    c.eq(x.returncode, 0, f"{what}: tshark -T pdml exit status")
    packets = ET.fromstring(x.stdout).findall("packet")
    out = []
    for p in packets:
        isakmp = [pr for pr in p.findall("proto") if pr.get("name") == "isakmp"]
        out.append(isakmp[0] if isakmp else None)
    c.eq(sum(1 for m in out if m is not None), 6, f"{what}: ISAKMP messages")
    return out


def payload_types(m):
    """Top-level payload types in order (nested proposal/transform payloads excluded)."""
    out = []
    for p in fields(m, "isakmp.typepayload"):
        t = int(p.get("show"))
        if t not in (2, 3):
            out.append(t)
    return out


def check_as_sent(c, s, ms, what):
    for i, m in enumerate(ms):
        n = i + 1
        if m is None:
            continue
        c.eq(num(m, "isakmp.exchangetype"), 2, f"{what} msg {n} exchange type")
        c.eq(value(m, "isakmp.ispi"), s["icookie"], f"{what} msg {n} initiator cookie")
        c.eq(value(m, "isakmp.rspi"), "0" * 16 if n == 1 else s["rcookie"],
             f"{what} msg {n} responder cookie")
        c.eq(int(value(m, "isakmp.messageid"), 16), 0, f"{what} msg {n} message id")
        c.eq(show(m, "isakmp.flag_e"), "1" if n >= 5 else "0", f"{what} msg {n} E flag")
        if n <= 2:
            c.eq(payload_types(m), [1], f"{what} msg {n} payloads")
            c.eq(num(m, "isakmp.sa.doi"), 2, f"{what} msg {n} SA DOI")
            c.eq(value(m, "isakmp.sa.situation"), "00000000", f"{what} msg {n} situation")
        elif n <= 4:
            c.eq(payload_types(m), [4, 10], f"{what} msg {n} payloads")
            ke = value(m, "isakmp.key_exchange.data") or ""
            c.eq(len(ke) // 2, s["dh_len"], f"{what} msg {n} KE length")
            c.eq(len(value(m, "isakmp.nonce") or "") // 2, 32, f"{what} msg {n} nonce length")


def ike_attrs(m):
    out = {}
    for a in fields(m, "isakmp.ike.attr"):
        out[int(show(a, "isakmp.ike.attr.type"))] = int(value(a, "isakmp.ike.attr.value"), 16)
    return out


def check_decrypted(c, s, msgs, ms, what):
    want = {1: s["attrs"]["encryption"], 2: s["attrs"]["hash"], 3: s["attrs"]["auth"],
            4: s["attrs"]["group"], 11: s["attrs"]["life_type"],
            12: s["attrs"]["life_duration"]}
    if s["attrs"]["key_length"] is not None:
        want[14] = s["attrs"]["key_length"]
    for n in (1, 2):
        m = ms[n - 1]
        if m is None:
            continue
        c.eq(num(m, "isakmp.prop.protoid"), 1, f"{what} msg {n} proposal protocol ISAKMP")
        c.eq(num(m, "isakmp.prop.transforms"), 1, f"{what} msg {n} transform count")
        c.eq(num(m, "isakmp.trans.id"), 1, f"{what} msg {n} transform KEY_IKE")
        c.eq(ike_attrs(m), want, f"{what} msg {n} transform attributes")
    if any(m is None for m in ms):
        return
    ids = {}
    hashes = {}
    for n, addr in ((5, s["gm_addr"]), (6, s["ks_addr"])):
        m = ms[n - 1]
        c.eq(first(m, "isakmp.enc.data") is not None, True, f"{what} msg {n} encrypted data")
        c.eq(payload_types(m), [5, 8], f"{what} msg {n} decrypted payloads")
        c.eq(num(m, "isakmp.id.type"), 1, f"{what} msg {n} ID type IPV4_ADDR")
        c.eq(show(m, "isakmp.id.data.ipv4_addr"), addr, f"{what} msg {n} ID address")
        id_payload = [p for p in fields(m, "isakmp.typepayload") if p.get("show") == "5"]
        ids[n] = bytes.fromhex(id_payload[0].get("value"))[4:] if id_payload else b""
        hashes[n] = value(m, "isakmp.hash")
    # RFC 2409 5 with Python's hmac over what tshark shows.
    h = HASHES[s["attrs"]["hash"]]
    ni = bytes.fromhex(value(ms[2], "isakmp.nonce"))
    nr = bytes.fromhex(value(ms[3], "isakmp.nonce"))
    gxi = bytes.fromhex(value(ms[2], "isakmp.key_exchange.data"))
    gxr = bytes.fromhex(value(ms[3], "isakmp.key_exchange.data"))
    cky_i = bytes.fromhex(s["icookie"])
    cky_r = bytes.fromhex(s["rcookie"])
    m1 = msgs[0]
    sa_len = struct.unpack("!H", m1[30:32])[0]
    sai_b = m1[32:28 + sa_len]  # as sent: DOI 2
    skeyid = hmac.new(bytes.fromhex(s["psk"]), ni + nr, h).digest()
    hash_i = hmac.new(skeyid, gxi + gxr + cky_i + cky_r + sai_b + ids[5], h).hexdigest()
    hash_r = hmac.new(skeyid, gxr + gxi + cky_r + cky_i + sai_b + ids[6], h).hexdigest()
    c.eq(hashes[5], hash_i, f"{what} HASH_I")
    c.eq(hashes[6], hash_r, f"{what} HASH_R")


def with_ipsec_doi(msg):
    m = bytearray(msg)
    m[32:40] = struct.pack("!II", 1, 1)  # DOI, situation of the SA (the first payload)
    return bytes(m)


def main():
    tool = sys.argv[1]
    c = Checker()
    out = subprocess.run([tool], capture_output=True, text=True, check=True, timeout=120)
    suites = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    c.eq(len(suites) >= 4, True, "suites from the tool")
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=os.path.join(tmp, ".config"))
        for s in suites:
            what = s["suite"]
            msgs = [bytes.fromhex(m) for m in s["msgs"]]
            pcap = os.path.join(tmp, what + ".pcap")
            write_pcap(pcap, msgs)
            check_as_sent(c, s, tshark(c, pcap, [], env, what), what)
            patched = [with_ipsec_doi(m) if i < 2 else m for i, m in enumerate(msgs)]
            pcap_ipsec = os.path.join(tmp, what + "-doi1.pcap")
            write_pcap(pcap_ipsec, patched)
            table = ["-o", f"uat:ikev1_decryption_table:{s['icookie']},{s['enc_key']}"]
            ms = tshark(c, pcap_ipsec, table, env, what + " (DOI 1, decrypted)")
            check_decrypted(c, s, msgs, ms, what)
    print(f"main mode tshark oracle: {len(suites)} suites, {c.checks} checks, "
          f"{len(c.failures)} failures")
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
