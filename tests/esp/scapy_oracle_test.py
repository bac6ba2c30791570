"""scapy (and a small python3-cryptography ESP codec) as independent oracles for the ESP
engine, through gm-esp-tool, for every transform in both directions:

  ours -> scapy   gm-esp-tool encrypts random inner packets; scapy decrypts them to the
                  identical bytes, and the outer header follows the header-preservation
                  rules (spec GETVPN-GM.md section 3); TBAR metadata per section 4.
  scapy -> ours   scapy encrypts (plain and TBAR); gm-esp-tool decrypts to identical bytes.
  malformed       crafted bad packets: each gets its expected drop reason, nothing crashes.

usage: scapy_oracle_test.py PATH/TO/gm-esp-tool
"""

import struct
import sys
import tempfile
import time
import warnings

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
warnings.filterwarnings("ignore")

from scapy.config import conf  # noqa: E402

conf.verb = 0

from scapy.layers.inet import IP  # noqa: E402
from scapy.layers.ipsec import _ESPPlain  # noqa: E402
from scapy.packet import Raw  # noqa: E402

import oracle_common as oc  # noqa: E402

SEED = 20240611
SENDER_ID = 0xA5B6C7D8
N_PER_RUN = 40  # more than one 32-packet tool burst


def df_of(ip_bytes):
    return bool(ip_bytes[6] & 0x40)


def check_outer(c, what, outer, inner, spi, df_mode, ttl):
    """Header preservation: returns the parsed (ip id, esp seq, iv bytes) for run-wide checks."""
    t_ok = c.check(len(outer) >= 28, f"{what}: outer packet too short ({len(outer)})")
    if not t_ok:
        return None
    c.check(outer[0] == 0x45, f"{what}: outer version/ihl {outer[0]:#x}")
    c.check(outer[1] == inner[1], f"{what}: outer ToS {outer[1]:#x} != inner {inner[1]:#x}")
    c.check(struct.unpack_from("!H", outer, 2)[0] == len(outer),
            f"{what}: outer total length does not match the packet")
    frag = struct.unpack_from("!H", outer, 6)[0]
    want_df = {"copy": df_of(inner), "set": True, "clear": False}[df_mode]
    c.check(bool(frag & 0x4000) == want_df, f"{what}: DF={bool(frag & 0x4000)}, df {df_mode} "
            f"with inner DF={df_of(inner)}")
    c.check(frag & 0xBFFF == 0, f"{what}: outer reserved/MF/offset bits set ({frag:#x})")
    want_ttl = inner[8] if ttl is None else ttl
    c.check(outer[8] == want_ttl, f"{what}: outer TTL {outer[8]} != {want_ttl}")
    c.check(outer[9] == 50, f"{what}: outer protocol {outer[9]}")
    c.check(oc.ip_checksum(outer[:20]) == 0, f"{what}: bad outer IP checksum")
    c.check(outer[12:20] == inner[12:20], f"{what}: outer src/dst differ from the inner")
    c.check(struct.unpack_from("!I", outer, 20)[0] == spi, f"{what}: wrong SPI")
    return struct.unpack_from("!H", outer, 4)[0], struct.unpack_from("!I", outer, 24)[0]


def ours_to_scapy(c, tool, tmp, rng, xf):
    t = oc.TRANSFORMS[xf]
    ck, ak = oc.keys_for(rng, xf)
    spi = rng.randrange(0x100, 1 << 32)
    all_ivs = []
    runs = [("copy", None, False), ("set", None, False), ("clear", None, False),
            ("copy", 7, False), ("clear", None, True)]
    for df_mode, ttl, tbar in runs:
        what = f"{xf} ours->scapy df={df_mode} ttl={ttl} tbar={tbar}"
        pseudotime = rng.getrandbits(64) if tbar else 0
        inners = [oc.random_inner(rng, i) for i in range(N_PER_RUN)]
        frames = []
        for i, inner in enumerate(inners):
            fr = oc.eth_header(rng) + inner
            if i % 7 == 3:
                fr += rng.randbytes(rng.randint(1, 18))  # Ethernet trailer: not payload
            frames.append(fr)
        extra = ["--df", df_mode, "--sender-id", str(SENDER_ID)]
        if ttl is not None:
            extra += ["--ttl", str(ttl)]
        if tbar:
            extra += ["--tbar", "--pseudotime-ms", str(pseudotime)]
        results, outs = oc.run_tool(tool, tmp, "encrypt", xf, ck, ak, spi, frames, extra)
        if not c.check(all(r[0] == "ok" for r in results), f"{what}: drops {results}"):
            continue
        if not c.check(len(outs) == len(inners), f"{what}: {len(outs)} output frames"):
            continue
        sa = oc.scapy_sa(xf, ck, ak, spi, IP(src="0.0.0.0", dst="0.0.0.0"))
        ids, seqs, ivs = [], [], []
        for i, (fr_in, fr_out, inner) in enumerate(zip(frames, outs, inners)):
            w = f"{what} pkt {i} ({len(inner)} bytes)"
            c.check(fr_out[:oc.ETH_LEN] == fr_in[:oc.ETH_LEN], f"{w}: Ethernet header changed")
            outer = fr_out[oc.ETH_LEN:]
            parsed = check_outer(c, w, outer, inner, spi, df_mode, ttl)
            if parsed is None:
                continue
            ids.append(parsed[0])
            seqs.append(parsed[1])
            esp = outer[20:]
            ivs.append(esp[8:8 + t["iv"]])
            c.check((len(esp) - 8 - t["iv"] - t["icv"]) % t["block"] == 0,
                    f"{w}: ciphertext not a multiple of {t['block']}")
            # Oracle 1: scapy's SecurityAssociation.
            try:
                dec = sa.decrypt(IP(outer))
            except Exception as e:  # noqa: BLE001
                c.check(False, f"{w}: scapy could not decrypt: {e!r}")
                continue
            # Oracle 2: the cryptography codec, for the trailer scapy does not check.
            try:
                _, _, _, pt = oc.esp_open(xf, ck, ak, esp)
            except Exception as e:  # noqa: BLE001
                c.check(False, f"{w}: cryptography could not decrypt: {e!r}")
                continue
            padlen, nh = pt[-2], pt[-1]
            body = pt[:-2 - padlen]
            c.check(pt[-2 - padlen:-2] == bytes(range(1, padlen + 1)),
                    f"{w}: pad bytes are not 1, 2, 3, ...")
            c.check(padlen < t["block"], f"{w}: pad length {padlen} not minimal")
            if tbar:
                c.check(nh == oc.TBAR_NH, f"{w}: next header {nh}, want 99")
                c.check(isinstance(dec, Raw) or not dec.haslayer(IP),
                        f"{w}: scapy parsed a TBAR payload as {dec.summary()}")
                raw = bytes(dec)
                c.check(raw == body, f"{w}: scapy and cryptography disagree on the payload")
                want_md = oc.tbar_metadata(pseudotime, SENDER_ID)
                c.check(raw[:16] == want_md,
                        f"{w}: TBAR metadata {raw[:16].hex()} != {want_md.hex()}")
                c.check(raw[16:] == inner, f"{w}: inner packet after TBAR metadata differs")
            else:
                c.check(nh == 4, f"{w}: next header {nh}, want 4")
                c.check(bytes(dec) == inner, f"{w}: scapy's decrypt differs from the inner")
                c.check(body == inner, f"{w}: cryptography's decrypt differs from the inner")
        c.check(len(set(ids)) == len(ids), f"{what}: outer IP ids repeat: {ids}")
        c.check(seqs == list(range(1, len(seqs) + 1)), f"{what}: ESP seq not 1, 2, ...: {seqs}")
        if t["iv"]:
            c.check(len(set(ivs)) == len(ivs), f"{what}: IVs repeat within a run")
            all_ivs += ivs
        if t["crypt"] == "AES-GCM":
            c.check(all(iv[:2] == struct.pack("!H", SENDER_ID & 0xFFFF) for iv in ivs),
                    f"{what}: GCM IVs do not start with the sender id")
    if t["iv"]:
        c.check(len(set(all_ivs)) == len(all_ivs), f"{xf}: IVs repeat across runs (same key)")


def scapy_to_ours(c, tool, tmp, rng, xf):
    t = oc.TRANSFORMS[xf]
    ck, ak = oc.keys_for(rng, xf)
    spi = rng.randrange(0x100, 1 << 32)
    for tbar in (False, True):
        what = f"{xf} scapy->ours tbar={tbar}"
        inners = [oc.random_inner(rng, i) for i in range(N_PER_RUN)]
        frames, stamps = [], []
        for i, inner in enumerate(inners):
            ip_in = IP(inner)
            tunnel = IP(src=ip_in.src, dst=ip_in.dst, tos=ip_in.tos, flags=ip_in.flags,
                        ttl=ip_in.ttl, id=rng.randrange(65536))
            sa = oc.scapy_sa(xf, ck, ak, spi, tunnel)
            iv = rng.randbytes(t["iv"])
            if not tbar:
                outer = bytes(sa.encrypt(ip_in, seq_num=i + 1, iv=iv))
            else:
                pt_ms, sid = rng.getrandbits(64), rng.getrandbits(32)
                stamps.append((pt_ms, sid))
                # scapy's own ESP steps, with the metadata ahead of the inner packet.
                esp = _ESPPlain(spi=spi, seq=i + 1, iv=iv,
                                data=oc.tbar_metadata(pt_ms, sid) + inner, nh=oc.TBAR_NH)
                esp = sa.crypt_algo.pad(esp)
                esp = sa.crypt_algo.encrypt(sa, esp, sa.crypt_key, sa.crypt_icv_size)
                sa.auth_algo.sign(esp, sa.auth_key)
                tunnel.proto = 50
                outer = bytes(tunnel / esp)
            fr = oc.eth_header(rng) + outer
            if i % 9 == 4:
                fr += bytes(rng.randint(1, 12))  # Ethernet trailer
            frames.append(fr)
        results, outs = oc.run_tool(tool, tmp, "decrypt", xf, ck, ak, spi, frames)
        if not c.check(all(r[0] == "ok" for r in results), f"{what}: drops {results}"):
            continue
        if not c.check(len(outs) == len(inners), f"{what}: {len(outs)} output frames"):
            continue
        for i, (fr_in, fr_out, inner) in enumerate(zip(frames, outs, inners)):
            w = f"{what} pkt {i} ({len(inner)} bytes)"
            c.check(fr_out[:oc.ETH_LEN] == fr_in[:oc.ETH_LEN], f"{w}: Ethernet header changed")
            c.check(fr_out[oc.ETH_LEN:] == inner, f"{w}: decrypted packet differs from inner")
            fields = results[i][1]
            if tbar:
                pt_ms, sid = stamps[i]
                c.check(fields.get("pseudotime_ms") == str(pt_ms)
                        and fields.get("sender_id") == str(sid),
                        f"{w}: tool reported {fields}, want pseudotime {pt_ms} sender {sid}")
            else:
                c.check(not fields, f"{w}: tool reported TBAR fields {fields} for nh=4")


def malformed(c, tool, tmp, rng, xf):
    """Bad packets through the tool's decrypt; each with the drop reason it must get."""
    t = oc.TRANSFORMS[xf]
    ck, ak = oc.keys_for(rng, xf)
    spi = rng.randrange(0x100, 1 << 32)
    src, dst = bytes([10, 1, 2, 3]), bytes([10, 4, 5, 6])
    seq = [0]

    def inner_pkt(size=20, tos=0):
        return bytes(IP(src="10.9.8.7", dst="10.6.5.4", tos=tos, proto=17, id=7) /
                     rng.randbytes(size))

    def esp_for(body, nh=4, padlen=None, pad=None, spi_=None, iv=None):
        seq[0] += 1
        iv = rng.randbytes(t["iv"]) if iv is None else iv
        pt = body + oc.trailer(len(body), t["block"], nh, padlen, pad)
        return oc.esp_seal(xf, ck, ak, spi if spi_ is None else spi_, seq[0], iv, pt)

    def frame(ip_bytes):
        return oc.eth_header(rng) + ip_bytes

    def outer(esp, **kw):
        return oc.outer_ipv4(src, dst, esp, **kw)

    cases = []  # (description, frame bytes, expected "ok" or drop reason, inner or None)

    def add(desc, fr, want, inner=None):
        cases.append((desc, fr, want, inner))

    good = inner_pkt(37)
    add("valid", frame(outer(esp_for(good))), "ok", good)
    e = bytearray(esp_for(inner_pkt()))
    e[-1] ^= 0x01
    add("ICV bit flip", frame(outer(bytes(e))), "icv_mismatch")
    e = bytearray(esp_for(inner_pkt()))
    e[8 + t["iv"] + 3] ^= 0x80
    add("ciphertext bit flip", frame(outer(bytes(e))), "icv_mismatch")
    e = bytearray(esp_for(inner_pkt()))
    e[7] ^= 0x01
    add("sequence number altered", frame(outer(bytes(e))), "icv_mismatch")
    if t["iv"]:
        e = bytearray(esp_for(inner_pkt()))
        e[8] ^= 0x01
        add("IV altered", frame(outer(bytes(e))), "icv_mismatch")
    add("ESP truncated by one byte", frame(outer(esp_for(inner_pkt())[:-1])), "bad_length")
    # Still a whole number of blocks: only the ICV can tell.
    add("ESP truncated by one block", frame(outer(esp_for(inner_pkt(60))[:-t["block"]])),
        "icv_mismatch")
    add("ESP header only", frame(outer(esp_for(inner_pkt())[:8])), "bad_length")
    add("ESP shorter than its header", frame(outer(esp_for(inner_pkt())[:5])), "bad_length")
    add("no ESP payload at all", frame(outer(b"")), "bad_length")
    body = inner_pkt(30)
    minimal = -(len(body) + 2) % t["block"]
    add("pad bytes wrong, ICV valid",
        frame(outer(esp_for(body, padlen=minimal + t["block"],
                            pad=bytes(minimal + t["block"])))), "bad_padding")
    body = inner_pkt(30)
    padlen = minimal + t["block"]
    bad_pad = bytearray(range(1, padlen + 1))
    bad_pad[-1] ^= 0x55
    add("last pad byte wrong, ICV valid",
        frame(outer(esp_for(body, padlen=padlen, pad=bytes(bad_pad)))), "bad_padding")
    # pad length claims more bytes than the payload holds (only the two trailer bytes are
    # real; the body is the "pad").
    small = inner_pkt(0)
    sz = len(small) + 2 + (-(len(small) + 2) % t["block"])
    add("pad length beyond the payload, ICV valid",
        frame(outer(esp_for(b"", nh=4, padlen=250, pad=small + bytes(sz - len(small) - 2)))),
        "bad_padding")
    big = inner_pkt(rng.randint(0, 200))
    big_pad = 255 - (len(big) + 2 + 255) % t["block"]
    add("non-minimal padding (RFC 4303 allows up to 255)",
        frame(outer(esp_for(big, padlen=big_pad))), "ok", big)
    add("next header 17, ICV valid", frame(outer(esp_for(inner_pkt(), nh=17))),
        "bad_next_header")
    add("next header 41 (IPv6), ICV valid", frame(outer(esp_for(inner_pkt(), nh=41))),
        "bad_next_header")
    garbage = bytes([0x60]) + rng.randbytes(39)
    add("inner not IPv4, ICV valid", frame(outer(esp_for(garbage))), "bad_decrypted_ip")
    lying = bytearray(inner_pkt(40))
    lying[2:4] = struct.pack("!H", len(lying) + 8)
    add("inner total length lies, ICV valid", frame(outer(esp_for(bytes(lying)))),
        "bad_decrypted_ip")
    add("inner shorter than an IPv4 header, ICV valid",
        frame(outer(esp_for(inner_pkt()[:12]))), "bad_decrypted_ip")
    tb_inner = inner_pkt(11)
    add("TBAR metadata, valid", frame(outer(esp_for(
        oc.tbar_metadata(123456789012, 42) + tb_inner, nh=99))), "ok", tb_inner)
    add("TBAR metadata length 15", frame(outer(esp_for(
        oc.tbar_metadata(1, 2, length=15) + inner_pkt(), nh=99))), "bad_tbar_metadata")
    add("TBAR metadata option 2", frame(outer(esp_for(
        oc.tbar_metadata(1, 2, option=2) + inner_pkt(), nh=99))), "bad_tbar_metadata")
    add("TBAR metadata inner proto 17", frame(outer(esp_for(
        oc.tbar_metadata(1, 2, inner_proto=17) + inner_pkt(), nh=99))), "bad_tbar_metadata")
    add("TBAR metadata truncated", frame(outer(esp_for(b"\x04\x10\x01\x0c\0\0", nh=99))),
        "bad_tbar_metadata")
    add("TBAR metadata inner proto 41", frame(outer(esp_for(
        oc.tbar_metadata(1, 2, inner_proto=41) + inner_pkt(), nh=99))), "bad_next_header")
    good_esp = esp_for(inner_pkt())
    add("outer total length longer than the frame",
        frame(outer(good_esp, total_length=20 + len(good_esp) + 1)), "bad_outer_ip")
    add("outer total length 65535", frame(outer(good_esp, total_length=65535)), "bad_outer_ip")
    add("outer total length below the header", frame(outer(good_esp, total_length=19)),
        "bad_outer_ip")
    add("outer total length cuts the ESP", frame(outer(good_esp, total_length=20 + 8 + 1)),
        "bad_length")
    add("outer version 6", frame(outer(good_esp, version_ihl=0x65)), "bad_outer_ip")
    add("outer IHL 4", frame(outer(good_esp, version_ihl=0x44)), "bad_outer_ip")
    add("outer IHL 15 beyond the packet", frame(outer(b"\0" * 8, version_ihl=0x4F)),
        "bad_outer_ip")
    opt_inner = inner_pkt(5)
    add("outer with IP options, valid",
        frame(outer(esp_for(opt_inner), version_ihl=0x46, options=b"\x01\x01\x01\x00")), "ok",
        opt_inner)
    tr_inner = inner_pkt(3)
    add("valid, Ethernet trailer after the IP packet",
        frame(outer(esp_for(tr_inner))) + bytes(9), "ok", tr_inner)
    add("zero-length IP payload", frame(b""), "bad_outer_ip")
    add("1-byte IP payload", frame(b"\x45"), "bad_outer_ip")
    add("19-byte IP payload", frame(outer(b"")[:19]), "bad_outer_ip")
    add("frame shorter than Ethernet", oc.eth_header(rng)[:9], "runt_frame")
    add("empty frame", b"", "runt_frame")
    add("unknown SPI", frame(outer(esp_for(inner_pkt(), spi_=spi ^ 0x5A5A))), "unknown_spi")
    add("SPI 0", frame(outer(esp_for(inner_pkt(), spi_=0))), "unknown_spi")
    add("UDP, not ESP", frame(outer(inner_pkt(), proto=17)), "not_esp")
    add("AH, not ESP", frame(outer(good_esp, proto=51)), "not_esp")
    add("outer fragment (MF)", frame(outer(good_esp, flags=1)), "outer_fragment")
    add("outer fragment (offset)", frame(outer(good_esp, frag=100)), "outer_fragment")
    # RFC 6040 decapsulation.
    ect = inner_pkt(9, tos=0xB8 | 0x2)
    ect_ce = bytearray(ect)
    ect_ce[1] |= 0x3
    ect_ce[10:12] = b"\0\0"
    ect_ce[10:12] = struct.pack("!H", oc.ip_checksum(bytes(ect_ce[:20])))
    add("outer CE over ECT(0) inner: CE copied in", frame(outer(esp_for(ect), tos=0xB8 | 0x3)),
        "ok", bytes(ect_ce))
    add("outer CE over Not-ECT inner", frame(outer(esp_for(inner_pkt(tos=0xB8)), tos=0xB8 | 3)),
        "ecn_not_ect")
    ect1 = inner_pkt(9, tos=0x1)
    add("outer ECT(1) over ECT(1) inner", frame(outer(esp_for(ect1), tos=0x1)), "ok", ect1)
    last = inner_pkt(64)
    add("valid after all of the above", frame(outer(esp_for(last))), "ok", last)
    # Shuffle so good and bad packets interleave across the tool's burst boundaries.
    order = list(range(len(cases)))
    rng.shuffle(order)
    cases = [cases[i] for i in order]

    results, outs = oc.run_tool(tool, tmp, "decrypt", xf, ck, ak, spi,
                                [fr for _, fr, _, _ in cases], tag="malformed")
    out_iter = iter(outs)
    for (desc, fr, want, inner), res in zip(cases, results):
        got = "ok" if res[0] == "ok" else res[1]
        c.check(got == want, f"{xf} malformed '{desc}': got {got}, want {want}")
        if res[0] == "ok":
            out = next(out_iter, None)
            if inner is not None and out is not None:
                c.check(out[oc.ETH_LEN:] == inner, f"{xf} malformed '{desc}': output differs")
                c.check(out[:oc.ETH_LEN] == fr[:oc.ETH_LEN],
                        f"{xf} malformed '{desc}': Ethernet header changed")
    c.check(next(out_iter, None) is None, f"{xf} malformed: more output frames than ok lines")


def encrypt_rejects(c, tool, tmp, rng):
    """What the tool's encrypt refuses, with the engine's reasons."""
    xf = "aes-gcm-128"
    ck, ak = oc.keys_for(rng, xf)
    good = oc.random_inner(rng, 5)
    lying = bytearray(good)
    lying[2:4] = struct.pack("!H", len(good) + 1)
    v6 = bytes([0x60]) + good[1:]
    cases = [("valid", good, "ok"), ("empty", b"", "bad_inner_ip"),
             ("short", good[:19], "bad_inner_ip"), ("total length lies", bytes(lying),
                                                   "bad_inner_ip"),
             ("IPv6 version", v6, "unsupported_inner"),
             ("IHL 4", bytes([0x44]) + good[1:], "bad_inner_ip")]
    # Jumbo and near-maximum inner packets (one mbuf holds them in the tool).
    jumbo = bytes(IP(src="10.0.0.1", dst="10.0.0.2", proto=17) / rng.randbytes(9000 - 20))
    huge = bytes(IP(src="10.0.0.3", dst="10.0.0.4", proto=6) / rng.randbytes(65000 - 20))
    cases += [("9000-byte inner", jumbo, "ok"), ("65000-byte inner", huge, "ok")]
    frames = [oc.eth_header(rng) + p for _, p, _ in cases]
    results, outs = oc.run_tool(tool, tmp, "encrypt", xf, ck, ak, 0x1234, frames, tag="encbad")
    for (desc, _, want), res in zip(cases, results):
        got = "ok" if res[0] == "ok" else res[1]
        c.check(got == want, f"encrypt '{desc}': got {got}, want {want}")
    oks = [p for (_, p, want) in cases if want == "ok"]
    if c.check(len(outs) == len(oks), f"encrypt rejects: {len(outs)} output frames"):
        sa = oc.scapy_sa(xf, ck, ak, 0x1234, IP())
        for inner, fr in zip(oks, outs):
            dec = sa.decrypt(IP(fr[oc.ETH_LEN:]))
            c.check(bytes(dec) == inner, f"encrypt {len(inner)}-byte inner: scapy differs")


def main():
    tool = oc.tool_path()
    c = oc.Checker("scapy oracle")
    rng = oc.seeded(SEED)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gm-scapy-oracle-") as tmp:
        for xf in oc.TRANSFORMS:
            n0 = len(c.failures)
            for part in (ours_to_scapy, scapy_to_ours, malformed):
                try:
                    part(c, tool, tmp, rng, xf)
                except Exception as e:  # noqa: BLE001
                    c.check(False, f"{xf} {part.__name__}: {e!r}")
            print(f"{xf}: {'ok' if len(c.failures) == n0 else 'FAILED'} "
                  f"({time.monotonic() - start:.1f}s)", flush=True)
        try:
            encrypt_rejects(c, tool, tmp, rng)
        except Exception as e:  # noqa: BLE001
            c.check(False, f"encrypt_rejects: {e!r}")
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
