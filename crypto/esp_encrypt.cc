#include "crypto/esp_encrypt.h"

#include <cstring>

#include <rte_byteorder.h>
#include <rte_esp.h>
#include <rte_ip.h>

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

layout plan(const esp_sa& sa, const transform_info& t, uint32_t inner_len) {
  layout l;
  const uint32_t meta_len = sa.tbar ? tbar::metadata_len : 0;
  const uint32_t payload = meta_len + inner_len;
  l.padded = (payload + 2 + t.block - 1) / t.block * t.block;
  l.pad = l.padded - payload - 2;
  l.head = outer_len + esp_hdr_len + t.iv_len + meta_len;
  l.tail = l.pad + 2 + t.icv_len;
  return l;
}

// Validates and prepares one packet; on success fills `op` and returns drop_reason::count.
drop_reason prepare(esp_lcore& lc, const esp_sa& sa, const transform_info& t, rte_mbuf* m,
                    crypto_op& op, uint8_t* nonce, uint64_t pt_ms, uint32_t& inner_len) {
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
  const layout l = plan(sa, t, tl);
  if (rte_pktmbuf_headroom(m) < l.head) [[unlikely]] {
    return drop_reason::no_headroom;
  }
  if (rte_pktmbuf_tailroom(m) + (len - tl) < l.tail) [[unlikely]] {
    return drop_reason::no_tailroom;
  }
  if (l.head + l.padded + t.icv_len > UINT16_MAX) [[unlikely]] {
    return drop_reason::bad_inner_ip;
  }
  uint8_t iv[16];
  if (t.cipher == IMB_CIPHER_GCM) {
    if (!lc.next_gcm_iv(iv)) [[unlikely]] {
      return drop_reason::iv_exhausted;
    }
  } else if (t.iv_len != 0) {
    lc.next_cbc_iv(iv, t.iv_len);
  }

  // Inner fields first: the outer header is written into the headroom in front of them.
  const uint8_t tos = in->type_of_service;  // DSCP copied; ECN copied (RFC 6040 normal mode)
  const uint8_t ttl = in->time_to_live;
  const uint16_t inner_df = in->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
  const uint32_t src = in->src_addr;
  const uint32_t dst = in->dst_addr;

  if (tl < len) {
    rte_pktmbuf_trim(m, static_cast<uint16_t>(len - tl));  // Ethernet padding, not payload
  }
  auto* out = reinterpret_cast<rte_ipv4_hdr*>(rte_pktmbuf_prepend(m, static_cast<uint16_t>(l.head)));
  auto* trailer = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(l.tail)));

  out->version_ihl = RTE_IPV4_VHL_DEF;
  out->type_of_service = tos;
  out->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(l.head + l.padded + t.icv_len -
                                                             (sa.tbar ? tbar::metadata_len : 0)));
  out->packet_id = rte_cpu_to_be_16(lc.next_ip_id++);
  switch (sa.df) {
    case df_mode::copy:
      out->fragment_offset = inner_df;
      break;
    case df_mode::set:
      out->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
      break;
    case df_mode::clear:
      out->fragment_offset = 0;
      break;
  }
  out->time_to_live = sa.ttl < 0 ? ttl : static_cast<uint8_t>(sa.ttl);
  out->next_proto_id = ipproto_esp;
  out->src_addr = src;
  out->dst_addr = dst;
  out->hdr_checksum = 0;
  out->hdr_checksum = rte_ipv4_cksum(out);

  auto* esp = reinterpret_cast<rte_esp_hdr*>(out + 1);
  esp->spi = rte_cpu_to_be_32(sa.spi);
  esp->seq = rte_cpu_to_be_32(++lc.seq_out[sa.slot]);
  uint8_t* esp_bytes = reinterpret_cast<uint8_t*>(esp);
  std::memcpy(esp_bytes + esp_hdr_len, iv, t.iv_len);
  if (sa.tbar) {
    tbar::encode(esp_bytes + esp_hdr_len + t.iv_len,
                 {ipproto_ipip, pt_ms, lc.sender_id});
  }
  for (uint32_t i = 0; i < l.pad; ++i) {
    trailer[i] = static_cast<uint8_t>(i + 1);  // RFC 4303 default pad bytes
  }
  trailer[l.pad] = static_cast<uint8_t>(l.pad);
  trailer[l.pad + 1] = sa.tbar ? tbar::esp_next_header : ipproto_ipip;

  op.keys = &sa.keys;
  op.buf = esp_bytes;
  op.cipher_off = esp_hdr_len + t.iv_len;
  op.cipher_len = l.padded;
  op.auth_off = 0;
  op.auth_len = esp_hdr_len + t.iv_len + l.padded;
  op.aad = esp_bytes;  // GCM AAD = SPI || Seq (RFC 4106)
  op.aad_len = esp_hdr_len;
  if (t.cipher == IMB_CIPHER_GCM) {
    std::memcpy(nonce, sa.keys.salt, 4);
    std::memcpy(nonce + 4, iv, 8);
    op.iv = nonce;
  } else {
    op.iv = esp_bytes + esp_hdr_len;
  }
  op.icv = trailer + l.pad + 2;
  op.dir = direction::encrypt;
  op.auth_only = false;
  op.ok = false;
  meta(m)->sa_slot = sa.slot;
  return drop_reason::count;
}

uint16_t encrypt_chunk(esp_lcore& lc, const esp_sa& sa, rte_mbuf** pkts, uint16_t n,
                       uint64_t pt_ms) {
  const transform_info& t = info(sa.keys.xf);
  sa_counters& c = lc.sa[sa.slot];
  detail::burst_split split;
  auto& s = lc.scratch;
  rte_mbuf* queued[max_burst];
  uint32_t inner_len[max_burst];
  uint16_t nops = 0;
  const bool enabled = lc.enabled[static_cast<std::size_t>(sa.keys.xf)];
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    if (!enabled) [[unlikely]] {
      split.drop(m, drop_reason::transform_disabled, c);
      continue;
    }
    const drop_reason r =
        prepare(lc, sa, t, m, s.ops[nops], s.nonce[nops], pt_ms, inner_len[nops]);
    if (r != drop_reason::count) [[unlikely]] {
      split.drop(m, r, c);
      continue;
    }
    queued[nops++] = m;
  }
  lc.crypto().process(s.op_ptrs, nops);
  for (uint16_t i = 0; i < nops; ++i) {
    if (!s.ops[i].ok) [[unlikely]] {
      split.drop(queued[i], drop_reason::crypto_error, c);
      continue;
    }
    ++c.encaps;
    ++c.encrypt;
    ++c.digest;
    c.bytes_out += inner_len[i];
    split.good[split.ngood++] = queued[i];
  }
  return split.write_back(pkts);
}

}  // namespace

uint32_t esp_overhead(const esp_sa& sa, uint32_t inner_len) {
  const transform_info& t = info(sa.keys.xf);
  const layout l = plan(sa, t, inner_len);
  return l.head + l.padded + t.icv_len - inner_len - (sa.tbar ? tbar::metadata_len : 0);
}

uint16_t esp_encrypt_burst(esp_lcore& lc, const esp_sa& sa, rte_mbuf** pkts, uint16_t n,
                           uint64_t pseudotime_ms) {
  return detail::in_chunks(pkts, n, [&](rte_mbuf** p, uint16_t k) {
    return encrypt_chunk(lc, sa, p, k, pseudotime_ms);
  });
}

}  // namespace gm::crypto
