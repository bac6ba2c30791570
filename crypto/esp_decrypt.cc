#include "crypto/esp_decrypt.h"

#include <cstring>

#include <rte_byteorder.h>
#include <rte_esp.h>
#include <rte_ip.h>
#include <rte_prefetch.h>

#include "crypto/burst.h"
#include "tbar/metadata.h"

namespace gm::crypto {

namespace {

constexpr uint32_t esp_hdr_len = sizeof(rte_esp_hdr);
constexpr uint8_t ipproto_esp = 50;
constexpr uint8_t ipproto_ipip = 4;
constexpr uint8_t ecn_mask = 0x3;
constexpr uint8_t ecn_ce = 0x3;

// Single-segment trim (the stages check nb_segs first): rte_pktmbuf_trim() would walk to
// the last segment through the mbuf's second cache line.
inline void trim_one_seg(rte_mbuf* m, uint16_t len) {
  m->data_len = static_cast<uint16_t>(m->data_len - len);
  m->pkt_len -= len;
}

struct pending {
  rte_mbuf* m;
  const esp_sa* sa;
  uint8_t* esp;
  uint32_t outer_ihl;
  uint32_t ct_len;
  uint8_t outer_ecn;
  bool gcm;
};

// Outer checks and SPI lookup; on success fills `p` (and for GCM the 12-byte nonce at
// `nonce`) and returns drop_reason::count.
drop_reason prepare(esp_lcore& lc, const sa_lookup& lookup, rte_mbuf* m, uint8_t* nonce,
                    pending& p) {
  p.m = m;
  p.sa = nullptr;
  if (m->nb_segs != 1) [[unlikely]] {
    return drop_reason::chained_mbuf;
  }
  const uint32_t len = rte_pktmbuf_data_len(m);
  if (len < sizeof(rte_ipv4_hdr)) [[unlikely]] {
    return drop_reason::bad_outer_ip;
  }
  const auto* ip = rte_pktmbuf_mtod(m, const rte_ipv4_hdr*);
  const uint32_t ihl = (ip->version_ihl & 0xf) * 4u;
  const uint32_t tl = rte_be_to_cpu_16(ip->total_length);
  if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(rte_ipv4_hdr) || tl < ihl || tl > len)
      [[unlikely]] {
    return drop_reason::bad_outer_ip;
  }
  if (ip->next_proto_id != ipproto_esp) [[unlikely]] {
    return drop_reason::not_esp;
  }
  if ((ip->fragment_offset &
       rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0) [[unlikely]] {
    return drop_reason::outer_fragment;
  }
  if (tl - ihl < esp_hdr_len) [[unlikely]] {
    return drop_reason::bad_length;
  }
  if (tl < len) {
    trim_one_seg(m, static_cast<uint16_t>(len - tl));  // Ethernet padding
  }
  uint8_t* esp = rte_pktmbuf_mtod_offset(m, uint8_t*, ihl);
  const uint32_t spi = rte_be_to_cpu_32(reinterpret_cast<const rte_esp_hdr*>(esp)->spi);
  const esp_sa* sa = lookup(spi);
  if (sa == nullptr) [[unlikely]] {
    return drop_reason::unknown_spi;
  }
  p.sa = sa;
  const transform_info& t = info(sa->keys.xf);
  if (!lc.enabled[static_cast<std::size_t>(sa->keys.xf)]) [[unlikely]] {
    return drop_reason::transform_disabled;
  }
  const uint32_t esp_len = tl - ihl;
  const uint32_t fixed = esp_hdr_len + t.iv_len + t.icv_len;
  if (esp_len < fixed + t.block) [[unlikely]] {
    return drop_reason::bad_length;
  }
  const uint32_t ct_len = esp_len - fixed;
  if ((ct_len & (t.block - 1u)) != 0) [[unlikely]] {
    return drop_reason::bad_length;
  }
  p.esp = esp;
  p.outer_ihl = ihl;
  p.ct_len = ct_len;
  p.outer_ecn = ip->type_of_service & ecn_mask;
  p.gcm = t.cipher == IMB_CIPHER_GCM;
  if (p.gcm) {
    std::memcpy(nonce, sa->keys.salt, 4);
    std::memcpy(nonce + 4, esp + esp_hdr_len, 8);
  }
  return drop_reason::count;
}

// CBC/HMAC and 3DES go through the job manager, which takes a crypto_op.
void fill_op(const pending& p, crypto_op& op) {
  esp_job_op(&p.sa->keys, p.esp, esp_hdr_len, info(p.sa->keys.xf).iv_len, p.ct_len,
             direction::decrypt, op);
}

// After a verified decrypt: trailer, next header, TBAR metadata, inner header, ECN, strip.
drop_reason finish(const pending& p, uint32_t& inner_bytes) {
  const esp_sa& sa = *p.sa;
  const transform_info& t = info(sa.keys.xf);
  rte_mbuf* m = p.m;
  uint8_t* ct = rte_pktmbuf_mtod_offset(m, uint8_t*, p.outer_ihl + esp_hdr_len + t.iv_len);
  const uint32_t pad = ct[p.ct_len - 2];
  const uint8_t nh = ct[p.ct_len - 1];
  if (pad + 2 > p.ct_len) [[unlikely]] {
    return drop_reason::bad_padding;
  }
  const uint8_t* pad_bytes = ct + p.ct_len - 2 - pad;
  for (uint32_t i = 0; i < pad; ++i) {
    if (pad_bytes[i] != i + 1) [[unlikely]] {
      return drop_reason::bad_padding;
    }
  }
  const uint32_t body = p.ct_len - 2 - pad;
  uint32_t meta_len = 0;
  pkt_meta* pm = meta(m);
  pm->has_tbar = 0;
  if (nh == tbar::esp_next_header) {
    tbar::metadata md;
    if (tbar::decode(ct, body, md) != tbar::decode_status::ok) [[unlikely]] {
      return drop_reason::bad_tbar_metadata;
    }
    if (md.inner_proto != ipproto_ipip) [[unlikely]] {
      return drop_reason::bad_next_header;  // IPv6 inner packets are not handled yet
    }
    meta_len = tbar::metadata_len;
    pm->has_tbar = 1;
    pm->pseudotime_ms = md.pseudotime_ms;
    pm->sender_id = md.sender_id;
  } else if (nh != ipproto_ipip) [[unlikely]] {
    return drop_reason::bad_next_header;
  }
  const uint32_t inner_len = body - meta_len;
  auto* in = reinterpret_cast<rte_ipv4_hdr*>(ct + meta_len);
  if (inner_len < sizeof(rte_ipv4_hdr) || (in->version_ihl >> 4) != 4 ||
      (in->version_ihl & 0xf) < 5 || (in->version_ihl & 0xf) * 4u > inner_len ||
      rte_be_to_cpu_16(in->total_length) != inner_len) [[unlikely]] {
    return drop_reason::bad_decrypted_ip;
  }
  // RFC 6040 decapsulation: congestion marked on the outer header survives on the inner.
  if (p.outer_ecn == ecn_ce) {
    const uint8_t inner_ecn = in->type_of_service & ecn_mask;
    if (inner_ecn == 0) [[unlikely]] {
      return drop_reason::ecn_not_ect;
    }
    if (inner_ecn != ecn_ce) {
      in->type_of_service |= ecn_ce;
      in->hdr_checksum = 0;
      in->hdr_checksum = rte_ipv4_cksum(in);
    }
  }
  rte_pktmbuf_adj(m, static_cast<uint16_t>(p.outer_ihl + esp_hdr_len + t.iv_len + meta_len));
  trim_one_seg(m, static_cast<uint16_t>(pad + 2 + t.icv_len));
  pm->sa_slot = sa.slot;
  inner_bytes = inner_len;
  return drop_reason::count;
}

uint16_t decrypt_chunk(esp_lcore& lc, const sa_lookup& lookup, rte_mbuf** pkts, uint16_t n) {
  detail::burst_split split;
  auto& s = lc.scratch;
  pending queued[max_burst];
  uint16_t nops = 0;
  uint16_t njobs = 0;  // the non-GCM ops, for the multi-buffer manager
  bool ok[max_burst];
  // A few packets ahead: the outer and ESP headers, and the mbuf's second line (meta()).
  constexpr uint16_t prefetch_ahead = 4;
  for (uint16_t i = 0; i < n && i < prefetch_ahead; ++i) {
    rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
    rte_prefetch0(&pkts[i]->cacheline1);
  }
  for (uint16_t i = 0; i < n; ++i) {
    if (i + prefetch_ahead < n) {
      rte_prefetch0(rte_pktmbuf_mtod(pkts[i + prefetch_ahead], void*));
      rte_prefetch0(&pkts[i + prefetch_ahead]->cacheline1);
    }
    pending& p = queued[nops];
    const drop_reason r = prepare(lc, lookup, pkts[i], s.nonce[nops], p);
    if (r != drop_reason::count) [[unlikely]] {
      split.drop(pkts[i], r, p.sa != nullptr ? lc.sa[p.sa->slot] : lc.no_sa);
      continue;
    }
    if (!p.gcm) {
      fill_op(p, s.ops[nops]);
      s.job_ops[njobs++] = &s.ops[nops];
    }
    ++nops;
  }
  // GCM in a second pass, once prepare()'s nonce stores have left the store buffer:
  // ipsec-mb's masked loads cannot forward from them (see esp_encrypt.cc's encrypt_chunk).
  // No crypto_op: AAD (SPI || seq), payload and ICV follow from the ESP header's address.
  crypto_ctx& cc = lc.crypto();
  for (uint16_t i = 0; i < nops; ++i) {
    const pending& p = queued[i];
    if (p.gcm) {
      const sa_keys& k = p.sa->keys;
      const uint32_t icv_len = info(k.xf).icv_len;
      uint8_t* payload = p.esp + esp_hdr_len + info(k.xf).iv_len;
      ok[i] = cc.gcm_decrypt(cc.gcm_fn(k.xf, direction::decrypt), k, payload, p.ct_len,
                             s.nonce[i], p.esp, esp_hdr_len, payload + p.ct_len, icv_len);
    }
  }
  if (njobs != 0) {
    cc.process(s.job_ops, njobs);
    for (uint16_t i = 0; i < nops; ++i) {
      if (!queued[i].gcm) {
        ok[i] = s.ops[i].ok;
      }
    }
  }
  for (uint16_t i = 0; i < nops; ++i) {
    const pending& p = queued[i];
    sa_counters& c = lc.sa[p.sa->slot];
    if (!ok[i]) [[unlikely]] {
      split.drop(p.m, drop_reason::icv_mismatch, c);
      continue;
    }
    uint32_t inner_bytes = 0;
    const drop_reason r = finish(p, inner_bytes);
    if (r != drop_reason::count) [[unlikely]] {
      split.drop(p.m, r, c);
      continue;
    }
    ++c.decaps;
    ++c.decrypt;
    ++c.verify;
    c.bytes_in += inner_bytes;
    split.good[split.ngood++] = p.m;
  }
  return split.write_back(pkts);
}

}  // namespace

uint16_t esp_decrypt_burst(esp_lcore& lc, const sa_lookup& lookup, rte_mbuf** pkts, uint16_t n) {
  return in_chunks(pkts, n, [&](rte_mbuf** p, uint16_t k) {
    return decrypt_chunk(lc, lookup, p, k);
  });
}

}  // namespace gm::crypto
