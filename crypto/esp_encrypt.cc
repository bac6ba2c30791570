#include "crypto/esp_encrypt.h"

#include <array>
#include <cstring>

#include <rte_byteorder.h>
#include <rte_esp.h>
#include <rte_ip.h>
#include <rte_prefetch.h>

#include "crypto/burst.h"
#include "tbar/metadata.h"

namespace gm::crypto {

namespace {

constexpr uint32_t outer_len = sizeof(rte_ipv4_hdr);
constexpr uint32_t esp_hdr_len = sizeof(rte_esp_hdr);
constexpr uint8_t ipproto_esp = 50;
constexpr uint8_t ipproto_ipip = 4;

struct layout {
  uint32_t padded;  // payload + pad + 2, a multiple of the block
  uint32_t pad;
  uint32_t head;  // outer IP + ESP header + IV + TBAR metadata
  uint32_t tail;  // pad + pad length + next header + ICV
};

// What prepare() needs from the SA and its transform, copied once per chunk into a local:
// prepare()'s byte stores into packets may alias anything reached through a pointer, so
// fields read through `sa`/`t` would be reloaded after every one of them.
struct sa_consts {
  const sa_keys* keys;
  uint32_t mask;      // pad block - 1
  uint32_t meta_len;  // TBAR metadata in the payload, or 0
  uint32_t head;      // outer IP + ESP header + IV + TBAR metadata
  uint32_t iv_len;
  uint32_t icv_len;
  uint32_t spi_be;
  uint32_t sender_id;
  uint16_t slot;
  int16_t ttl;  // -1: copy the inner TTL
  df_mode df;
  bool gcm;
  bool tbar;
  uint8_t salt[4];
};

sa_consts consts_of(const esp_sa& sa, const esp_lcore* lc) {
  const transform_info& t = info(sa.keys.xf);
  sa_consts k;
  k.keys = &sa.keys;
  k.mask = t.block - 1u;
  k.meta_len = sa.tbar ? tbar::metadata_len : 0;
  k.head = outer_len + esp_hdr_len + t.iv_len + k.meta_len;
  k.iv_len = t.iv_len;
  k.icv_len = t.icv_len;
  k.spi_be = rte_cpu_to_be_32(sa.spi);
  k.sender_id = lc != nullptr ? lc->sender_id : 0;
  k.slot = sa.slot;
  k.ttl = sa.ttl;
  k.df = sa.df;
  k.gcm = t.cipher == IMB_CIPHER_GCM;
  k.tbar = sa.tbar;
  std::memcpy(k.salt, sa.keys.salt, sizeof(k.salt));
  return k;
}

layout plan(const sa_consts& k, uint32_t inner_len) {
  layout l;
  const uint32_t payload = k.meta_len + inner_len;
  l.padded = (payload + 2 + k.mask) & ~k.mask;
  l.pad = l.padded - payload - 2;
  l.head = k.head;
  l.tail = l.pad + 2 + k.icv_len;
  return l;
}

// The ESP trailer for each pad length (0..15), as one 16-byte store: the RFC 4303 default
// pad bytes 1, 2, 3, ..., the pad length, then the next header (IP-in-IP, or TBAR's
// metadata). Byte stores of up to 15 pad bytes were ~10 % of the CBC stage at 64 B.
using trailer_template = std::array<uint8_t, 16>;
constexpr std::array<trailer_template, 16> make_trailer_templates(uint8_t next_header) {
  std::array<trailer_template, 16> t{};
  for (uint32_t pad = 0; pad < 16; ++pad) {
    for (uint32_t i = 0; i < pad; ++i) {
      t[pad][i] = static_cast<uint8_t>(i + 1);
    }
    t[pad][pad] = static_cast<uint8_t>(pad);
    if (pad + 1 < 16) t[pad][pad + 1] = next_header;  // pad 15: written after the copy
  }
  return t;
}
alignas(64) constexpr std::array<trailer_template, 16> trailer_templates[2] = {
    make_trailer_templates(ipproto_ipip), make_trailer_templates(tbar::esp_next_header)};
constexpr bool pads_fit_the_templates() {  // pad < block <= 16
  for (const auto& t : transform_table) {
    if (t.block > 16) return false;
  }
  return true;
}
static_assert(pads_fit_the_templates());

// The outer header checksum (what rte_ipv4_cksum() gives) from the values being written,
// not read back: loading the header right after its narrower stores stalls on store
// forwarding. Host-order words; the one's-complement sum does not care about byte order.
uint16_t outer_cksum(uint8_t tos, uint16_t total_len, uint16_t id, uint16_t frag, uint8_t ttl,
                     uint32_t src, uint32_t dst) {
  uint32_t sum = (uint32_t{RTE_IPV4_VHL_DEF} << 8 | tos) + total_len + id + frag +
                 (uint32_t{ttl} << 8 | ipproto_esp) + (src >> 16) + (src & 0xffff) +
                 (dst >> 16) + (dst & 0xffff);
  sum = (sum >> 16) + (sum & 0xffff);
  sum = (sum >> 16) + (sum & 0xffff);
  return rte_cpu_to_be_16(static_cast<uint16_t>(~sum));
}

// Per-chunk state prepare() advances, kept in locals and written back to the lcore once:
// the outer IP id, the SA's sequence number, and the CBC IVs computed together up front
// (prepare() takes them in order; the chunk consumes only those taken, so the sequence is
// the one next_cbc_iv() gives).
struct chunk_state {
  uint16_t ip_id;
  uint32_t seq;
  uint16_t cbc_used = 0;
  uint8_t cbc_ivs[max_burst][16];
};

// What the cipher pass needs of a prepared packet: the ESP header's address and the
// padded payload length (the ICV follows the payload).
using prepared = esp_span;

// Validates and prepares one packet (headers, IV, TBAR metadata, trailer; for GCM the
// 12-byte nonce at `nonce`); on success fills `out` and returns drop_reason::count.
drop_reason prepare(esp_lcore& lc, const sa_consts& k, rte_mbuf* m, prepared& prep,
                    uint8_t* nonce, uint64_t pt_ms, uint32_t& inner_len, chunk_state& st) {
  if (m->nb_segs != 1) [[unlikely]] {
    return drop_reason::chained_mbuf;
  }
  const uint32_t len = rte_pktmbuf_data_len(m);
  if (len < sizeof(rte_ipv4_hdr)) [[unlikely]] {
    return drop_reason::bad_inner_ip;
  }
  const auto* in = rte_pktmbuf_mtod(m, const rte_ipv4_hdr*);
  if ((in->version_ihl >> 4) != 4) [[unlikely]] {
    return drop_reason::unsupported_inner;
  }
  const uint32_t ihl = (in->version_ihl & 0xf) * 4u;
  const uint32_t tl = rte_be_to_cpu_16(in->total_length);
  if (ihl < sizeof(rte_ipv4_hdr) || tl < ihl || tl > len) [[unlikely]] {
    return drop_reason::bad_inner_ip;
  }
  inner_len = tl;
  const layout l = plan(k, tl);
  if (rte_pktmbuf_headroom(m) < l.head) [[unlikely]] {
    return drop_reason::no_headroom;
  }
  if (rte_pktmbuf_tailroom(m) + (len - tl) < l.tail) [[unlikely]] {
    return drop_reason::no_tailroom;
  }
  if (l.head + l.padded + k.icv_len > UINT16_MAX) [[unlikely]] {
    return drop_reason::bad_inner_ip;
  }
  alignas(8) uint8_t gcm_iv[8];
  const uint8_t* iv = gcm_iv;
  if (k.gcm) {
    if (!lc.next_gcm_iv(gcm_iv)) [[unlikely]] {
      return drop_reason::iv_exhausted;
    }
  } else if (k.iv_len != 0) {
    iv = st.cbc_ivs[st.cbc_used++];
  }

  // Inner fields first: the outer header is written into the headroom in front of them.
  const uint8_t tos = in->type_of_service;  // DSCP copied; ECN copied (RFC 6040 normal mode)
  const uint8_t ttl = in->time_to_live;
  const uint16_t inner_df = in->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
  const uint32_t src = in->src_addr;
  const uint32_t dst = in->dst_addr;

  // One segment (checked above): trim, prepend and append are plain field updates, without
  // rte_pktmbuf_lastseg()'s walk over the mbuf's second cache line.
  m->data_off = static_cast<uint16_t>(m->data_off - l.head);  // Ethernet padding dropped
  m->data_len = static_cast<uint16_t>(l.head + tl + l.tail);
  m->pkt_len = m->pkt_len - (len - tl) + l.head + l.tail;
  auto* out = rte_pktmbuf_mtod(m, rte_ipv4_hdr*);
  uint8_t* trailer = rte_pktmbuf_mtod_offset(m, uint8_t*, l.head + tl);

  const auto total_len = static_cast<uint16_t>(l.head + l.padded + k.icv_len - k.meta_len);
  const uint16_t ip_id = st.ip_id++;
  uint16_t frag;  // host order
  switch (k.df) {
    case df_mode::copy:
      frag = rte_be_to_cpu_16(inner_df);
      break;
    case df_mode::set:
      frag = RTE_IPV4_HDR_DF_FLAG;
      break;
    case df_mode::clear:
    default:
      frag = 0;
      break;
  }
  const uint8_t out_ttl = k.ttl < 0 ? ttl : static_cast<uint8_t>(k.ttl);
  out->version_ihl = RTE_IPV4_VHL_DEF;
  out->type_of_service = tos;
  out->total_length = rte_cpu_to_be_16(total_len);
  out->packet_id = rte_cpu_to_be_16(ip_id);
  out->fragment_offset = rte_cpu_to_be_16(frag);
  out->time_to_live = out_ttl;
  out->next_proto_id = ipproto_esp;
  out->src_addr = src;
  out->dst_addr = dst;
  out->hdr_checksum = outer_cksum(tos, total_len, ip_id, frag, out_ttl, rte_be_to_cpu_32(src),
                                  rte_be_to_cpu_32(dst));

  auto* esp = reinterpret_cast<rte_esp_hdr*>(out + 1);
  esp->spi = k.spi_be;
  esp->seq = rte_cpu_to_be_32(++st.seq);
  uint8_t* esp_bytes = reinterpret_cast<uint8_t*>(esp);
  if (k.iv_len == 8) {  // fixed sizes: inline moves rather than a memcpy call
    std::memcpy(esp_bytes + esp_hdr_len, iv, 8);
  } else if (k.iv_len == 16) {
    std::memcpy(esp_bytes + esp_hdr_len, iv, 16);
  }
  if (k.tbar) {
    tbar::encode(esp_bytes + esp_hdr_len + k.iv_len, {ipproto_ipip, pt_ms, k.sender_id});
  }
  if (k.mask >= 7 && l.tail >= sizeof(trailer_template)) {
    // CBC and 3DES pad up to 15 and 7 bytes: one 16-byte store, whose bytes past the next
    // header are ICV, written later. GCM pads to 4 bytes (none at all for a 64-byte frame),
    // where the table load and wide store measured slower than the byte stores below.
    std::memcpy(trailer, trailer_templates[k.tbar][l.pad].data(), sizeof(trailer_template));
    if (l.pad == 15) [[unlikely]] {
      trailer[16] = k.tbar ? tbar::esp_next_header : ipproto_ipip;
    }
  } else {
    for (uint32_t i = 0; i < l.pad; ++i) {
      trailer[i] = static_cast<uint8_t>(i + 1);
    }
    trailer[l.pad] = static_cast<uint8_t>(l.pad);
    trailer[l.pad + 1] = k.tbar ? tbar::esp_next_header : ipproto_ipip;
  }

  if (k.gcm) {
    std::memcpy(nonce, k.salt, 4);
    std::memcpy(nonce + 4, iv, 8);
  }
  prep.esp = esp_bytes;
  prep.len = l.padded;
  meta(m)->sa_slot = k.slot;
  return drop_reason::count;
}

// CBC/HMAC and 3DES go through the job manager, which takes a crypto_op.
void fill_op(const sa_consts& k, const prepared& p, crypto_op& op) {
  esp_job_op(k.keys, p.esp, esp_hdr_len, k.iv_len, p.len, direction::encrypt, op);
}

uint16_t encrypt_chunk(esp_lcore& lc, const esp_sa& sa, rte_mbuf** pkts, uint16_t n,
                       uint64_t pt_ms) {
  sa_counters& c = lc.sa[sa.slot];
  detail::burst_split split;
  auto& s = lc.scratch;
  rte_mbuf* queued[max_burst];
  uint32_t inner_len[max_burst];
  prepared prep[max_burst];
  uint16_t nops = 0;
  if (!lc.enabled[static_cast<std::size_t>(sa.keys.xf)]) [[unlikely]] {
    for (uint16_t i = 0; i < n; ++i) {
      split.drop(pkts[i], drop_reason::transform_disabled, c);
    }
    return split.write_back(pkts);
  }
  // A few packets ahead: the inner header (read), the headroom line the outer headers go
  // to and the line the trailer goes to (written), and the mbuf's second line (meta()).
  constexpr uint16_t prefetch_ahead = 4;
  auto prefetch = [](rte_mbuf* m) {
    auto* d = rte_pktmbuf_mtod(m, uint8_t*);
    rte_prefetch0(d);
    __builtin_prefetch(d - 1, 1, 3);  // rte_prefetch0_write() is still experimental in 22.11
    __builtin_prefetch(d + rte_pktmbuf_data_len(m), 1, 3);
    rte_prefetch0(&m->cacheline1);
  };
  for (uint16_t i = 0; i < n && i < prefetch_ahead; ++i) {
    prefetch(pkts[i]);
  }
  const sa_consts k = consts_of(sa, &lc);
  chunk_state st;
  st.ip_id = lc.next_ip_id;
  st.seq = lc.seq_out[sa.slot];
  const bool cbc_iv = !k.gcm && k.iv_len != 0;
  // AES-CBC + HMAC: jobs filled straight from prep[] by the crypto context, no crypto_op.
  const bool cbc_burst = crypto_ctx::cbc_hmac_burst(sa.keys.xf);
  if (cbc_iv) {
    lc.peek_cbc_ivs(st.cbc_ivs, n);
  }
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    if (i + prefetch_ahead < n) {
      prefetch(pkts[i + prefetch_ahead]);
    }
    const drop_reason r = prepare(lc, k, m, prep[nops], s.nonce[nops], pt_ms, inner_len[nops], st);
    if (r != drop_reason::count) [[unlikely]] {
      split.drop(m, r, c);
      continue;
    }
    if (!k.gcm && !cbc_burst) {
      fill_op(k, prep[nops], s.ops[nops]);
    }
    queued[nops++] = m;
  }
  lc.next_ip_id = st.ip_id;
  lc.seq_out[sa.slot] = st.seq;
  if (cbc_iv) {
    lc.consume_cbc_ivs(st.cbc_used);
  }
  if (k.gcm) {
    // A second pass, not a call right after each prepare(): ipsec-mb reads the nonce, the
    // AAD (SPI, seq) and the last partial block with AVX-512 masked loads, which cannot
    // take their data from stores still in the store buffer and wait for them to reach
    // L1. Called right after prepare() wrote them, the GCM call cost ~95 cycles at 64 B
    // against ~53 once those stores are a few packets old (perf/results/2026-11-25/
    // r3-micro.log); one wide store instead of several narrow ones only gets it to ~70.
    // The chunk's packets (max_burst of them) are still in L1 for this pass. No crypto_op:
    // the routine is looked up once, and AAD (SPI || seq, RFC 4106), payload and ICV
    // follow from the ESP header's address.
    crypto_ctx& cc = lc.crypto();
    const aes_gcm_enc_dec_t fn = cc.gcm_fn(sa.keys.xf, direction::encrypt);
    for (uint16_t i = 0; i < nops; ++i) {
      uint8_t* esp = prep[i].esp;
      uint8_t* payload = esp + esp_hdr_len + k.iv_len;
      cc.gcm_encrypt(fn, *k.keys, payload, prep[i].len, s.nonce[i], esp, esp_hdr_len,
                     payload + prep[i].len, k.icv_len);
    }
  } else if (cbc_burst) {
    lc.crypto().esp_cbc_hmac_encrypt(*k.keys, prep, nops);
  } else {
    lc.crypto().process(s.op_ptrs, nops);  // 3DES, NULL: the job manager's lanes
  }
  const bool via_ops = !k.gcm && !cbc_burst;
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < nops; ++i) {
    if (via_ops && !s.ops[i].ok) [[unlikely]] {  // GCM and CBC-HMAC bursts cannot fail
      split.drop(queued[i], drop_reason::crypto_error, c);
      continue;
    }
    bytes += inner_len[i];
    split.good[split.ngood++] = queued[i];
  }
  c.encaps += split.ngood;
  c.encrypt += split.ngood;
  c.digest += split.ngood;
  c.bytes_out += bytes;
  return split.write_back(pkts);
}

}  // namespace

uint32_t esp_overhead(const esp_sa& sa, uint32_t inner_len) {
  const sa_consts k = consts_of(sa, nullptr);
  const layout l = plan(k, inner_len);
  return l.head + l.padded + k.icv_len - inner_len - k.meta_len;
}

uint32_t esp_max_inner_len(const esp_sa& sa, uint32_t mtu) {
  // L + overhead(L) = head + icv - meta + round_up(meta + L + 2, block), non-decreasing in
  // L; round_up(x, block) <= room exactly when x <= room rounded down to the block.
  const sa_consts k = consts_of(sa, nullptr);
  const uint32_t fixed = k.head + k.icv_len - k.meta_len;
  if (mtu <= fixed) {
    return 0;
  }
  const uint32_t room = (mtu - fixed) & ~k.mask;
  return room > k.meta_len + 2 ? room - k.meta_len - 2 : 0;
}

uint16_t esp_encrypt_burst(esp_lcore& lc, const esp_sa& sa, rte_mbuf** pkts, uint16_t n,
                           uint64_t pseudotime_ms) {
  return in_chunks(pkts, n, [&](rte_mbuf** p, uint16_t k) {
    return encrypt_chunk(lc, sa, p, k, pseudotime_ms);
  });
}

}  // namespace gm::crypto
