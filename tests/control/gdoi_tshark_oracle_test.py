"""tshark (Wireshark's ISAKMP/GDOI dissector) as an independent oracle for the GDOI codec.

gdoi-sample-tool writes plaintext (E=0) GROUPKEY-PULL messages 1-4, the SEQ+KD+SA chain of
the codec tests and a GROUPKEY-PUSH, plus expected.json (values taken from the structs, not
the bytes). This script wraps them as UDP 848 datagrams in a pcap and checks:
  - `tshark -V` shows no "Malformed" and no "Expert Info (Error" / "(Warning" lines;
  - the PDML tree shows the header, every top-level payload, the SA (DOI 2, situation 0),
    the SA KEK (IDs with 1-byte lengths, SPI, attributes), every SA TEK (protocol-id,
    IDs with 2-byte lengths, transform, SPI, attributes incl. 14/15 by name and our private
    32001-32003), KD key packets, SEQ, ID key id, GAP, Delete, HASH/Nonce/SIG data, with
    the values the codec was asked to encode. Wireshark 4.0 does not dissect a GAP nested in
    the SA (it stops after the SA TEKs); the check there is the last TEK's next payload.

usage: gdoi_tshark_oracle_test.py PATH/TO/gdoi-sample-tool
"""

import json
import os
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True

SUBNET_TYPES = (4, 7)


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


def udp_frame(payload, n):
    udp = struct.pack("!HHHH", 848, 848, 8 + len(payload), 0) + payload
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n, 0, 64, 17, 0,
                               bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])))
    struct.pack_into("!H", ip, 10, ip_checksum(ip))
    return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + bytes(ip) + udp


def write_pcap(path, payloads):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, p in enumerate(payloads):
            fr = udp_frame(p, i + 1)
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(fr), len(fr)) + fr)


def tv(attr_type, value):
    """An independent TV attribute encoding (for the raw GAP bytes tshark shows)."""
    return struct.pack("!HH", 0x8000 | attr_type, value).hex()


def fields(elem, name):
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


def attrs_of(elem, attr_name):
    """[(type, int value or hex)] of the attribute children of elem, in order."""
    out = []
    for a in fields(elem, attr_name):
        t = int(show(a, attr_name + ".type"))
        v = value(a, attr_name + ".value") or ""
        out.append((t, v))
    return out


def as_expected(attrs):
    """tshark's (type, hex) -> (type, int) for short values, hex for long ones."""
    return sorted((t, int(v, 16) if len(v) <= 16 else v) for t, v in attrs)


def want_attrs(pairs):
    return sorted((t, v) for t, v in pairs)


def check_identity(c, elem, prefix, want, side, width, what):
    c.eq(num(elem, f"{prefix}.{side}_id_type"), want[f"{side}_type"], f"{what} {side} id type")
    c.eq(num(elem, f"{prefix}.{side}_id_port"), want[f"{side}_port"], f"{what} {side} port")
    c.eq(num(elem, f"{prefix}.{side}_id_length"), len(want[f"{side}_data"]) // 2,
         f"{what} {side} id length")
    f = first(elem, f"{prefix}.{side}_id_length")
    c.eq(int(f.get("size")) if f is not None else None, width, f"{what} {side} id length width")
    c.eq(value(elem, f"{prefix}.{side}_id_data"), want[f"{side}_data"], f"{what} {side} id data")
    if want[f"{side}_type"] in SUBNET_TYPES and prefix.endswith("sat"):
        d = first(elem, f"{prefix}.{side}_id_data")
        data = bytes.fromhex(want[f"{side}_data"])
        c.eq(show(d, "isakmp.id.data.ipv4_addr") if d is not None else None,
             ".".join(str(b) for b in data[:4]), f"{what} {side} subnet address")
        c.eq(show(d, "isakmp.id.data.ipv4_subnet") if d is not None else None,
             ".".join(str(b) for b in data[4:]), f"{what} {side} subnet mask")


def check_sa(c, sa_elem, want, what):
    c.eq(num(sa_elem, "isakmp.sa.doi"), 2, f"{what} SA DOI")
    c.eq(value(sa_elem, "isakmp.sa.situation"), "00000000", f"{what} SA situation")
    first_sub = 15 if want.get("kek") else 16
    c.eq(int(value(sa_elem, "isakmp.sa.next_attribute_payload"), 16), first_sub,
         f"{what} SA attribute next payload")
    teks = fields(sa_elem, "isakmp.typepayload")
    if want.get("kek"):
        k = want["kek"]
        c.eq(num(sa_elem, "isakmp.sak.protoid"), k["protocol"], f"{what} KEK protocol")
        check_identity(c, sa_elem, "isakmp.sak", k, "src", 1, f"{what} KEK")
        check_identity(c, sa_elem, "isakmp.sak", k, "dst", 1, f"{what} KEK")
        c.eq(value(sa_elem, "isakmp.sak.spi"), k["spi"], f"{what} KEK SPI")
        c.eq(num(sa_elem, "isakmp.sak.nextpayload"), 16 if want["teks"] else 0,
             f"{what} KEK next payload")
        # The KEK's attributes are the SA tree's attribute children before the first TEK.
        c.eq(as_expected(attrs_of(sa_elem, "isakmp.ipsec.attr")), want_attrs(k["attrs"]),
             f"{what} KEK attributes")
    c.eq(len(teks), len(want["teks"]), f"{what} number of SA TEKs")
    for i, (t, w) in enumerate(zip(teks, want["teks"])):
        tw = f"{what} TEK {i}"
        c.eq(int(t.get("show")), 16, f"{tw} payload type")
        c.eq(num(t, "isakmp.sat.protocol_id"), w["protocol_id"], f"{tw} protocol-id")
        c.eq(num(t, "isakmp.sat.protocol"), w["ip_protocol"], f"{tw} IP protocol")
        check_identity(c, t, "isakmp.sat", w, "src", 2, tw)
        check_identity(c, t, "isakmp.sat", w, "dst", 2, tw)
        c.eq(num(t, "isakmp.sat.transform_id"), w["transform"], f"{tw} transform id")
        c.eq(value(t, "isakmp.sat.spi"), w["spi"], f"{tw} SPI")
        c.eq(w["deny"], w["spi"] == "00000000", f"{tw} deny iff SPI 0")
        c.eq(as_expected(attrs_of(t, "isakmp.ipsec.attr")), want_attrs(w["attrs"]),
             f"{tw} attributes")
        wa = dict((a, v) for a, v in w["attrs"])
        names = {14: ("isakmp.ipsec.attr.addr_preservation",
                      {4: "Source-and-Destination"}),
                 15: ("isakmp.ipsec.attr.sa_direction", {3: "Symmetric"})}
        for attr_type, (fname, text) in names.items():
            if attr_type not in wa:
                continue
            got = [first(a, fname) for a in fields(t, "isakmp.ipsec.attr")
                   if show(a, "isakmp.ipsec.attr.type") == str(attr_type)]
            got = got[0] if got else None
            c.eq(int(got.get("show")) if got is not None else None, wa[attr_type],
                 f"{tw} attribute {attr_type} value")
            if wa[attr_type] in text:
                c.eq(text[wa[attr_type]] in (got.get("showname") if got is not None else ""),
                     True, f"{tw} attribute {attr_type} shown as {text[wa[attr_type]]}")
        last = i == len(want["teks"]) - 1
        c.eq(num(t, "isakmp.sat.nextpayload"),
             (22 if want.get("sa_gap") else 0) if last else 16, f"{tw} next payload")


def check_kd(c, kd_elem, want, what):
    c.eq(num(kd_elem, "isakmp.kd.num_pkt"), len(want), f"{what} KD key packets")
    kps = fields(kd_elem, "isakmp.kd.payload")
    c.eq(len(kps), len(want), f"{what} KD key packets dissected")
    for i, (kp, w) in enumerate(zip(kps, want)):
        kw = f"{what} key packet {i}"
        c.eq(num(kp, "isakmp.kd.payload.type"), w["type"], f"{kw} type")
        c.eq(num(kp, "isakmp.kd.payload.spi_size"), len(w["spi"]) // 2, f"{kw} SPI size")
        c.eq(value(kp, "isakmp.kd.payload.spi"), w["spi"], f"{kw} SPI")
        c.eq(attrs_of(kp, "isakmp.key_download.attr"), [tuple(a) for a in w["attrs"]],
             f"{kw} key attributes")


def check_message(c, pkt, want, size):
    what = want["name"]
    isakmp = [p for p in pkt if p.tag == "proto" and p.get("name") == "isakmp"]
    c.eq(len(isakmp), 1, f"{what}: one ISAKMP layer")
    if not isakmp:
        return
    m = isakmp[0]
    c.eq(value(m, "isakmp.ispi"), want["icookie"], f"{what} initiator cookie")
    c.eq(value(m, "isakmp.rspi"), want["rcookie"], f"{what} responder cookie")
    c.eq(num(m, "isakmp.exchangetype"), want["exchange"], f"{what} exchange type")
    c.eq(int(value(m, "isakmp.messageid"), 16), want["message_id"], f"{what} message id")
    c.eq(show(m, "isakmp.version"), "0x10", f"{what} version")
    c.eq(num(m, "isakmp.length"), size, f"{what} length")
    flags = first(m, "isakmp.flags")
    c.eq(show(flags, "isakmp.flag_e") if flags is not None else None, "0", f"{what} E flag")
    payloads = fields(m, "isakmp.typepayload")
    c.eq([int(p.get("show")) for p in payloads], want["payloads"], f"{what} payload chain")
    for p in payloads:
        t = int(p.get("show"))
        if t == 8:
            c.eq(value(p, "isakmp.hash"), want["hash"], f"{what} HASH data")
        elif t == 10:
            c.eq(value(p, "isakmp.nonce"), want["nonce"], f"{what} Nonce data")
        elif t == 9:
            c.eq(value(p, "isakmp.sig"), want["sig"], f"{what} SIG data")
        elif t == 18:
            c.eq(num(p, "isakmp.seq.seq"), want["seq"], f"{what} SEQ")
        elif t == 5:
            c.eq(num(p, "isakmp.id.type"), want["id"]["type"], f"{what} ID type")
            d = first(p, "isakmp.id.data")
            c.eq(value(d, "isakmp.id.data.key_id") if d is not None else None,
                 want["id"]["data"], f"{what} ID_KEY_ID data")
            c.eq(int(want["id"]["data"], 16), want["id"]["group"], f"{what} group number")
        elif t == 22:
            c.eq(value(p, "isakmp.datapayload"),
                 "".join(tv(a, v) for a, v in want["gap"]), f"{what} GAP attributes")
        elif t == 12:
            c.eq(num(p, "isakmp.delete.doi"), want["delete"]["doi"], f"{what} Delete DOI")
            c.eq(num(p, "isakmp.delete.protoid"), want["delete"]["protocol_id"],
                 f"{what} Delete protocol-id")
            c.eq([f.get("value") for f in fields(p, "isakmp.delete.spi")],
                 want["delete"]["spis"], f"{what} Delete SPIs")
        elif t == 1:
            check_sa(c, p, want, what)
        elif t == 17:
            check_kd(c, p, want["kd"], what)


def main():
    tool = sys.argv[1]
    c = Checker()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([tool, tmp], check=True)
        with open(os.path.join(tmp, "expected.json")) as f:
            expected = json.load(f)
        msgs = []
        for e in expected:
            with open(os.path.join(tmp, e["name"] + ".bin"), "rb") as f:
                msgs.append(f.read())
        pcap = os.path.join(tmp, "gdoi.pcap")
        write_pcap(pcap, msgs)
        env = dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=os.path.join(tmp, ".config"))
        base = ["tshark", "-n", "-r", pcap, "-d", "udp.port==848,isakmp"]
        v = subprocess.run(base + ["-V"], capture_output=True, text=True, env=env, timeout=120)
        c.eq(v.returncode, 0, "tshark -V exit status")
        bad = [ln for ln in v.stdout.splitlines()
               if "Malformed" in ln or "Expert Info (Error" in ln or "Expert Info (Warn" in ln
               or "bogus" in ln]
        c.eq(bad, [], "tshark -V malformed/expert lines")
        c.eq(v.stdout.count("Internet Security Association and Key Management Protocol"),
             len(msgs), "ISAKMP layers in tshark -V")
        x = subprocess.run(base + ["-T", "pdml"], capture_output=True, text=True, env=env,
                           timeout=120)
        c.eq(x.returncode, 0, "tshark -T pdml exit status")
        packets = ET.fromstring(x.stdout).findall("packet")
        c.eq(len(packets), len(msgs), "packets in PDML")
        for pkt, want, raw in zip(packets, expected, msgs):
            check_message(c, pkt, want, len(raw))
    print(f"gdoi tshark oracle: {len(expected)} messages, {c.checks} checks, "
          f"{len(c.failures)} failures", flush=True)
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
