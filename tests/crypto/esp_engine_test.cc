// The ESP engine on real mbufs: round trips for every transform, the header-preservation
// rules, and the malformed-input matrix (each case gives its drop reason, no mbuf leaks).
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <random>
#include <set>
#include <vector>

#include <rte_byteorder.h>
#include <rte_esp.h>
#include <rte_ip.h>

#include "crypto/esp_decrypt.h"
#include "crypto/esp_encrypt.h"
#include "tbar/metadata.h"
#include "tests/esp_seal.h"
#include "tests/test_eal.h"

namespace gm::crypto {
namespace {

using bytes = std::vector<uint8_t>;

bytes make_inner(std::mt19937& rng, uint32_t payload, uint8_t tos, bool df, uint8_t ttl) {
  bytes p(20 + 8 + payload);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(p.data());
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->type_of_service = tos;
  ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(p.size()));
  ip->packet_id = rte_cpu_to_be_16(static_cast<uint16_t>(rng()));
  ip->fragment_offset = df ? rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG) : 0;
  ip->time_to_live = ttl;
  ip->next_proto_id = 17;
  ip->src_addr = rte_cpu_to_be_32(0x0a010000 | (rng() & 0xffff));
  ip->dst_addr = rte_cpu_to_be_32(0x0a020000 | (rng() & 0xffff));
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  for (std::size_t i = 20; i < p.size(); ++i) {
    p[i] = static_cast<uint8_t>(rng());
  }
  return p;
}

rte_mbuf* to_mbuf(const bytes& b) {
  rte_mbuf* m = rte_pktmbuf_alloc(test::g_pool);
  EXPECT_NE(m, nullptr);
  char* d = rte_pktmbuf_append(m, static_cast<uint16_t>(b.size()));
  EXPECT_NE(d, nullptr);
  if (!b.empty()) {
    std::memcpy(d, b.data(), b.size());
  }
  return m;
}

bytes from_mbuf(const rte_mbuf* m) {
  const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
  return bytes(d, d + rte_pktmbuf_data_len(m));
}

struct sa_fixture {
  std::unique_ptr<esp_sa> sa = std::make_unique<esp_sa>();
  sa_table table;
};

sa_fixture make_sa(esp_lcore& lc, transform_id xf, uint32_t spi, uint16_t slot, bool tbar = false,
                   df_mode df = df_mode::copy, uint32_t seed = 1) {
  sa_fixture f;
  std::mt19937 rng(seed);
  const transform_info& t = info(xf);
  bytes ck(std::size_t{t.key_len} + t.salt_len), ak(t.auth_key_len);
  for (auto& b : ck) b = static_cast<uint8_t>(rng());
  for (auto& b : ak) b = static_cast<uint8_t>(rng());
  EXPECT_EQ(f.sa->keys.init(lc.crypto().mgr(), xf, ck, ak), key_error::none);
  f.sa->spi = spi;
  f.sa->slot = slot;
  f.sa->tbar = tbar;
  f.sa->df = df;
  f.table.sas[0] = f.sa.get();
  f.table.count = 1;
  return f;
}

class esp_engine : public ::testing::Test {
 protected:
  void SetUp() override {
    lc = esp_lcore::create(0x1234, 3);
    ASSERT_NE(lc, nullptr);
    avail_before = rte_mempool_avail_count(test::g_pool);
  }
  void TearDown() override {
    // Every mbuf a test allocated was handed back and freed: nothing leaks.
    EXPECT_EQ(rte_mempool_avail_count(test::g_pool), avail_before);
  }
  std::unique_ptr<esp_lcore> lc;
  unsigned avail_before = 0;
};

struct roundtrip_case {
  transform_id xf;
  bool tbar;
};

class esp_roundtrip : public esp_engine, public ::testing::WithParamInterface<roundtrip_case> {};

TEST_P(esp_roundtrip, encrypt_then_decrypt_restores_the_inner_packet_and_preserves_headers) {
  const auto [xf, tbar] = GetParam();
  const transform_info& t = info(xf);
  std::mt19937 rng(static_cast<uint32_t>(xf) * 7 + tbar);
  for (df_mode df : {df_mode::copy, df_mode::set, df_mode::clear}) {
    auto f = make_sa(*lc, xf, 0x1000 + static_cast<uint32_t>(xf), 5, tbar, df);
    std::vector<bytes> inner;
    rte_mbuf* pkts[48];
    const uint16_t n = 48;
    for (uint16_t i = 0; i < n; ++i) {
      const uint32_t size = i < 3 ? i : rng() % 1401;
      inner.push_back(make_inner(rng, size, static_cast<uint8_t>(rng()), rng() & 1,
                                 static_cast<uint8_t>(1 + rng() % 255)));
      pkts[i] = to_mbuf(inner.back());
    }
    ASSERT_EQ(esp_encrypt_burst(*lc, *f.sa, pkts, n, 442843290), n);
    std::set<uint16_t> ids;
    std::set<bytes> ivs;
    uint32_t last_seq = 0;
    for (uint16_t i = 0; i < n; ++i) {
      const bytes out = from_mbuf(pkts[i]);
      const auto* o = reinterpret_cast<const rte_ipv4_hdr*>(out.data());
      const auto* in = reinterpret_cast<const rte_ipv4_hdr*>(inner[i].data());
      EXPECT_EQ(o->version_ihl, RTE_IPV4_VHL_DEF);
      EXPECT_EQ(o->next_proto_id, 50);
      EXPECT_EQ(o->src_addr, in->src_addr);
      EXPECT_EQ(o->dst_addr, in->dst_addr);
      EXPECT_EQ(o->type_of_service, in->type_of_service);  // DSCP and ECN copied
      EXPECT_EQ(o->time_to_live, in->time_to_live);
      const uint16_t odf = o->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
      const uint16_t idf = in->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
      EXPECT_EQ(odf, df == df_mode::copy ? idf : df == df_mode::set ? rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG) : 0);
      EXPECT_EQ(rte_be_to_cpu_16(o->total_length), out.size());
      EXPECT_EQ(rte_ipv4_cksum(o), 0);  // a correct checksum sums to zero
      ids.insert(o->packet_id);
      const auto* esp = reinterpret_cast<const rte_esp_hdr*>(out.data() + 20);
      EXPECT_EQ(rte_be_to_cpu_32(esp->spi), f.sa->spi);
      const uint32_t seq = rte_be_to_cpu_32(esp->seq);
      EXPECT_GT(seq, last_seq);
      last_seq = seq;
      ivs.insert(bytes(out.begin() + 28, out.begin() + 28 + t.iv_len));
      if (t.is_aead()) {
        EXPECT_EQ(out[28], 0x12);  // sender id
        EXPECT_EQ(out[29], 0x34);
        EXPECT_EQ(out[30], 3);  // lcore index
      }
      const uint32_t payload = inner[i].size() + (tbar ? 16 : 0);
      const uint32_t ct = (payload + 2 + t.block - 1) / t.block * t.block;
      EXPECT_EQ(out.size(), 20 + 8 + t.iv_len + ct + t.icv_len);
      EXPECT_EQ(out.size() - inner[i].size(), esp_overhead(*f.sa, inner[i].size()));
    }
    EXPECT_EQ(ids.size(), n);
    if (t.iv_len != 0) {
      EXPECT_EQ(ivs.size(), n);
    }
    ASSERT_EQ(esp_decrypt_burst(*lc, f.table.lookup(), pkts, n), n);
    for (uint16_t i = 0; i < n; ++i) {
      EXPECT_EQ(from_mbuf(pkts[i]), inner[i]) << "packet " << i;
      EXPECT_EQ(meta(pkts[i])->sa_slot, 5);
      EXPECT_EQ(meta(pkts[i])->has_tbar, tbar ? 1 : 0);
      if (tbar) {
        EXPECT_EQ(meta(pkts[i])->pseudotime_ms, 442843290u);
        EXPECT_EQ(meta(pkts[i])->sender_id, 0x1234u);
      }
      rte_pktmbuf_free(pkts[i]);
    }
  }
  const sa_counters& c = lc->sa[5];
  EXPECT_EQ(c.encaps, 3u * 48);
  EXPECT_EQ(c.encrypt, 3u * 48);
  EXPECT_EQ(c.digest, 3u * 48);
  EXPECT_EQ(c.decaps, 3u * 48);
  EXPECT_EQ(c.decrypt, 3u * 48);
  EXPECT_EQ(c.verify, 3u * 48);
  for (uint64_t d : c.drops) {
    EXPECT_EQ(d, 0u);
  }
}

std::vector<roundtrip_case> all_cases() {
  std::vector<roundtrip_case> v;
  for (const auto& t : transform_table) {
    v.push_back({t.id, false});
    v.push_back({t.id, true});
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(all, esp_roundtrip, ::testing::ValuesIn(all_cases()),
                         [](const auto& p) {
                           std::string s(gm::crypto::info(p.param.xf).name);
                           for (auto& ch : s) {
                             if (ch == '-') ch = '_';
                           }
                           return s + (p.param.tbar ? "_tbar" : "");
                         });

// --- malformed input ------------------------------------------------------------------

// Hand-builds an ESP packet (with chosen trailer bytes) through the raw crypto op, so the
// ICV is valid and only the field under test is wrong.
bytes build_esp(esp_lcore& lc, const esp_sa& sa, const bytes& payload_with_trailer) {
  const transform_info& t = info(sa.keys.xf);
  bytes pkt(20 + 8 + t.iv_len + payload_with_trailer.size() + t.icv_len);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(pkt.data());
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(pkt.size()));
  ip->time_to_live = 64;
  ip->next_proto_id = 50;
  ip->src_addr = rte_cpu_to_be_32(0x0a000001);
  ip->dst_addr = rte_cpu_to_be_32(0x0a000002);
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  uint8_t* esp = pkt.data() + 20;
  reinterpret_cast<rte_esp_hdr*>(esp)->spi = rte_cpu_to_be_32(sa.spi);
  reinterpret_cast<rte_esp_hdr*>(esp)->seq = rte_cpu_to_be_32(1);
  for (uint32_t i = 0; i < t.iv_len; ++i) esp[8 + i] = static_cast<uint8_t>(0xa0 + i);
  std::memcpy(esp + 8 + t.iv_len, payload_with_trailer.data(), payload_with_trailer.size());
  EXPECT_TRUE(test::seal_esp(lc.crypto(), sa, esp,
                             static_cast<uint32_t>(payload_with_trailer.size())));
  return pkt;
}

bytes trailer_payload(const bytes& inner, uint8_t block, uint8_t nh, int corrupt_pad = -1) {
  bytes p = inner;
  const std::size_t padded = (p.size() + 2 + block - 1) / block * block;
  const std::size_t pad = padded - p.size() - 2;
  for (std::size_t i = 0; i < pad; ++i) p.push_back(static_cast<uint8_t>(i + 1));
  if (corrupt_pad >= 0 && pad > 0) p[inner.size() + corrupt_pad % pad] ^= 0x40;
  p.push_back(static_cast<uint8_t>(pad));
  p.push_back(nh);
  return p;
}

drop_reason decrypt_one(esp_lcore& lc, const sa_table& table, rte_mbuf* m, bool* ok = nullptr) {
  rte_mbuf* pkts[1] = {m};
  const uint16_t good = esp_decrypt_burst(lc, table.lookup(), pkts, 1);
  if (ok) *ok = good == 1;
  const drop_reason r = good == 1 ? drop_reason::count : meta(m)->reason;
  rte_pktmbuf_free(m);
  return r;
}

TEST_F(esp_engine, malformed_inbound_packets_give_their_drop_reasons) {
  std::mt19937 rng(7);
  for (const auto& t : transform_table) {
    SCOPED_TRACE(std::string(t.name));
    auto f = make_sa(*lc, t.id, 0x2000, 9);
    const bytes inner = make_inner(rng, 100, 0, false, 64);
    std::map<std::string, drop_reason> seen;

    // Sanity: the hand-built packet decrypts.
    EXPECT_EQ(decrypt_one(*lc, f.table, to_mbuf(build_esp(*lc, *f.sa, trailer_payload(inner, t.block, 4)))),
              drop_reason::count);

    bytes good = build_esp(*lc, *f.sa, trailer_payload(inner, t.block, 4));
    bytes bad_icv = good;
    bad_icv.back() ^= 1;
    EXPECT_EQ(decrypt_one(*lc, f.table, to_mbuf(bad_icv)), drop_reason::icv_mismatch);
    bytes bad_ct = good;
    bad_ct[20 + 8 + t.iv_len + 3] ^= 0x80;
    EXPECT_EQ(decrypt_one(*lc, f.table, to_mbuf(bad_ct)), drop_reason::icv_mismatch);

    // Bad pad bytes (need at least one pad byte: pick an inner length that forces it).
    for (uint32_t extra = 0; extra < 16; ++extra) {
      const bytes in2 = make_inner(rng, 100 + extra, 0, false, 64);
      const std::size_t pad = (in2.size() + 2 + t.block - 1) / t.block * t.block - in2.size() - 2;
      if (pad == 0) continue;
      EXPECT_EQ(decrypt_one(*lc, f.table, to_mbuf(build_esp(*lc, *f.sa, trailer_payload(in2, t.block, 4, 0)))),
                drop_reason::bad_padding);
      break;
    }
    // Pad length larger than the payload.
    bytes lying_pad = trailer_payload(inner, t.block, 4);
    lying_pad[lying_pad.size() - 2] = 0xff;
    EXPECT_EQ(decrypt_one(*lc, f.table, to_mbuf(build_esp(*lc, *f.sa, lying_pad))),
              drop_reason::bad_padding);
    // Unsupported next header.
    EXPECT_EQ(decrypt_one(*lc, f.table, to_mbuf(build_esp(*lc, *f.sa, trailer_payload(inner, t.block, 17)))),
              drop_reason::bad_next_header);
    // TBAR next header with a broken metadata header.
    bytes meta_bad = inner;
    meta_bad.insert(meta_bad.begin(), {4, 15, 1, 12, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0});
    EXPECT_EQ(decrypt_one(*lc, f.table, to_mbuf(build_esp(*lc, *f.sa, trailer_payload(meta_bad, t.block, 99)))),
              drop_reason::bad_tbar_metadata);
    // Decrypted inner whose own length field lies.
    bytes inner_lies = inner;
    inner_lies[3] ^= 0x10;
    EXPECT_EQ(decrypt_one(*lc, f.table, to_mbuf(build_esp(*lc, *f.sa, trailer_payload(inner_lies, t.block, 4)))),
              drop_reason::bad_decrypted_ip);
    // Truncations: every length from 0 up to the full packet is dropped, never crashes.
    for (std::size_t len = 0; len < good.size(); ++len) {
      bytes cut(good.begin(), good.begin() + len);
      const drop_reason r = decrypt_one(*lc, f.table, to_mbuf(cut));
      EXPECT_NE(r, drop_reason::count) << "length " << len;
      seen[std::string(info(r).name)] = r;
    }
    // The outer IP total length lies (claims more than there is): bad outer header.
    bytes longer = good;
    reinterpret_cast<rte_ipv4_hdr*>(longer.data())->total_length =
        rte_cpu_to_be_16(static_cast<uint16_t>(good.size() + 4));
    EXPECT_EQ(decrypt_one(*lc, f.table, to_mbuf(longer)), drop_reason::bad_outer_ip);
    // It claims less: the ESP payload is cut short, so the length or ICV check fails.
    bytes shorter = good;
    reinterpret_cast<rte_ipv4_hdr*>(shorter.data())->total_length =
        rte_cpu_to_be_16(static_cast<uint16_t>(good.size() - 4));
    const drop_reason rs = decrypt_one(*lc, f.table, to_mbuf(shorter));
    EXPECT_TRUE(rs == drop_reason::bad_length || rs == drop_reason::icv_mismatch) << info(rs).name;
    // Ethernet-style trailing padding beyond the IP length is ignored.
    bytes padded_frame = good;
    padded_frame.resize(good.size() + 6, 0);
    EXPECT_EQ(decrypt_one(*lc, f.table, to_mbuf(padded_frame)), drop_reason::count);
    // Unknown SPI, not ESP, fragments.
    bytes other_spi = good;
    other_spi[20] ^= 0xff;
    EXPECT_EQ(decrypt_one(*lc, f.table, to_mbuf(other_spi)), drop_reason::unknown_spi);
    bytes udp = good;
    reinterpret_cast<rte_ipv4_hdr*>(udp.data())->next_proto_id = 17;
    EXPECT_EQ(decrypt_one(*lc, f.table, to_mbuf(udp)), drop_reason::not_esp);
    bytes frag = good;
    reinterpret_cast<rte_ipv4_hdr*>(frag.data())->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
    EXPECT_EQ(decrypt_one(*lc, f.table, to_mbuf(frag)), drop_reason::outer_fragment);
    bytes v6 = good;
    v6[0] = 0x60;
    EXPECT_EQ(decrypt_one(*lc, f.table, to_mbuf(v6)), drop_reason::bad_outer_ip);
  }
  // Nothing in the matrix was charged to an SA it did not belong to: the unknown-SPI and
  // short/malformed outer drops have no SA.
  EXPECT_GT(lc->no_sa.drops[static_cast<std::size_t>(drop_reason::unknown_spi)], 0u);
  EXPECT_GT(lc->no_sa.drops[static_cast<std::size_t>(drop_reason::bad_outer_ip)], 0u);
  EXPECT_GT(lc->sa[9].drops[static_cast<std::size_t>(drop_reason::icv_mismatch)], 0u);
}

TEST_F(esp_engine, zero_and_one_byte_packets_are_dropped_both_ways) {
  auto f = make_sa(*lc, transform_id::aes_gcm_128, 0x3000, 1);
  for (std::size_t len : {0u, 1u, 19u}) {
    rte_mbuf* pkts[2] = {to_mbuf(bytes(len, 0x45)), to_mbuf(bytes(len, 0x45))};
    EXPECT_EQ(esp_encrypt_burst(*lc, *f.sa, pkts, 1, 0), 0);
    EXPECT_EQ(meta(pkts[0])->reason, drop_reason::bad_inner_ip);
    EXPECT_EQ(esp_decrypt_burst(*lc, f.table.lookup(), pkts + 1, 1), 0);
    EXPECT_EQ(meta(pkts[1])->reason, drop_reason::bad_outer_ip);
    rte_pktmbuf_free(pkts[0]);
    rte_pktmbuf_free(pkts[1]);
  }
}

TEST_F(esp_engine, malformed_outbound_packets_give_their_drop_reasons) {
  std::mt19937 rng(3);
  auto f = make_sa(*lc, transform_id::aes_cbc_128_sha1, 0x3100, 2);
  bytes v6(60, 0);
  v6[0] = 0x60;
  bytes lies = make_inner(rng, 40, 0, false, 64);
  reinterpret_cast<rte_ipv4_hdr*>(lies.data())->total_length = rte_cpu_to_be_16(500);
  bytes short_ihl = make_inner(rng, 40, 0, false, 64);
  short_ihl[0] = 0x44;
  rte_mbuf* no_room = to_mbuf(make_inner(rng, 40, 0, false, 64));
  rte_pktmbuf_adj(no_room, 0);
  // Move the data to the very start of the buffer so there is no headroom.
  {
    const bytes b = from_mbuf(no_room);
    no_room->data_off = 0;
    std::memcpy(rte_pktmbuf_mtod(no_room, uint8_t*), b.data(), b.size());
  }
  rte_mbuf* full = to_mbuf(make_inner(rng, 40, 0, false, 64));
  // Leave no tailroom: grow the packet to the end of the buffer, then claim that length.
  {
    const uint16_t room = rte_pktmbuf_tailroom(full);
    rte_pktmbuf_append(full, room);
    auto* ip = rte_pktmbuf_mtod(full, rte_ipv4_hdr*);
    ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(rte_pktmbuf_data_len(full)));
  }
  rte_mbuf* pkts[6] = {to_mbuf(v6), to_mbuf(lies), to_mbuf(short_ihl), no_room, full,
                       to_mbuf(make_inner(rng, 10, 0, false, 64))};
  EXPECT_EQ(esp_encrypt_burst(*lc, *f.sa, pkts, 6, 0), 1);
  std::multiset<drop_reason> reasons;
  for (int i = 1; i < 6; ++i) reasons.insert(meta(pkts[i])->reason);
  EXPECT_EQ(reasons, (std::multiset<drop_reason>{drop_reason::unsupported_inner,
                                                  drop_reason::bad_inner_ip, drop_reason::bad_inner_ip,
                                                  drop_reason::no_headroom, drop_reason::no_tailroom}));
  for (auto* m : pkts) rte_pktmbuf_free(m);
  EXPECT_EQ(lc->sa[2].encaps, 1u);
  EXPECT_EQ(lc->sa[2].drops[static_cast<std::size_t>(drop_reason::bad_inner_ip)], 2u);
}

TEST_F(esp_engine, chained_mbufs_are_rejected_with_a_counted_reason) {
  std::mt19937 rng(5);
  auto f = make_sa(*lc, transform_id::aes_gcm_256, 0x3200, 4);
  auto chain = [&]() {
    rte_mbuf* head = to_mbuf(make_inner(rng, 40, 0, false, 64));
    rte_mbuf* tail = to_mbuf(bytes(30, 0xee));
    EXPECT_EQ(rte_pktmbuf_chain(head, tail), 0);
    return head;
  };
  rte_mbuf* a[1] = {chain()};
  EXPECT_EQ(esp_encrypt_burst(*lc, *f.sa, a, 1, 0), 0);
  EXPECT_EQ(meta(a[0])->reason, drop_reason::chained_mbuf);
  rte_mbuf* b[1] = {chain()};
  EXPECT_EQ(esp_decrypt_burst(*lc, f.table.lookup(), b, 1), 0);
  EXPECT_EQ(meta(b[0])->reason, drop_reason::chained_mbuf);
  rte_pktmbuf_free(a[0]);
  rte_pktmbuf_free(b[0]);
  EXPECT_EQ(lc->sa[4].drops[static_cast<std::size_t>(drop_reason::chained_mbuf)], 1u);
  EXPECT_EQ(lc->no_sa.drops[static_cast<std::size_t>(drop_reason::chained_mbuf)], 1u);
}

TEST_F(esp_engine, long_mixed_bursts_keep_good_packets_first_and_in_order) {
  std::mt19937 rng(11);
  auto f = make_sa(*lc, transform_id::aes_gcm_128, 0x4000, 6);
  constexpr uint16_t n = 150;  // more than one internal chunk
  rte_mbuf* pkts[n];
  std::vector<bytes> inner;
  std::vector<bool> bad(n);
  for (uint16_t i = 0; i < n; ++i) {
    inner.push_back(make_inner(rng, rng() % 200, 0, false, 64));
    pkts[i] = to_mbuf(inner.back());
  }
  ASSERT_EQ(esp_encrypt_burst(*lc, *f.sa, pkts, n, 0), n);
  uint16_t nbad = 0;
  for (uint16_t i = 0; i < n; ++i) {
    if (rng() % 3 == 0) {
      rte_pktmbuf_mtod(pkts[i], uint8_t*)[rte_pktmbuf_data_len(pkts[i]) - 1] ^= 1;
      bad[i] = true;
      ++nbad;
    }
  }
  const uint16_t good = esp_decrypt_burst(*lc, f.table.lookup(), pkts, n);
  ASSERT_EQ(good, n - nbad);
  uint16_t g = 0;
  for (uint16_t i = 0; i < n; ++i) {
    if (!bad[i]) {
      EXPECT_EQ(from_mbuf(pkts[g]), inner[i]) << "good packet " << g << " out of order";
      ++g;
    }
  }
  for (uint16_t i = good; i < n; ++i) {
    EXPECT_EQ(meta(pkts[i])->reason, drop_reason::icv_mismatch);
  }
  for (auto* m : pkts) rte_pktmbuf_free(m);
}

TEST_F(esp_engine, a_disabled_transform_is_refused_both_ways) {
  std::mt19937 rng(13);
  auto f = make_sa(*lc, transform_id::des3_cbc_sha1, 0x5000, 7);
  rte_mbuf* p[1] = {to_mbuf(make_inner(rng, 20, 0, false, 64))};
  ASSERT_EQ(esp_encrypt_burst(*lc, *f.sa, p, 1, 0), 1);
  lc->enabled[static_cast<std::size_t>(transform_id::des3_cbc_sha1)] = false;
  EXPECT_EQ(esp_decrypt_burst(*lc, f.table.lookup(), p, 1), 0);
  EXPECT_EQ(meta(p[0])->reason, drop_reason::transform_disabled);
  rte_pktmbuf_free(p[0]);
  rte_mbuf* q[1] = {to_mbuf(make_inner(rng, 20, 0, false, 64))};
  EXPECT_EQ(esp_encrypt_burst(*lc, *f.sa, q, 1, 0), 0);
  EXPECT_EQ(meta(q[0])->reason, drop_reason::transform_disabled);
  rte_pktmbuf_free(q[0]);
}

TEST_F(esp_engine, max_inner_len_is_the_largest_length_that_fits_the_mtu) {
  // Against a search over esp_overhead() itself, for every transform, with and without the
  // TBAR header, across MTUs from nothing fits to jumbo.
  for (const auto& t : transform_table) {
    for (const bool tbar : {false, true}) {
      auto f = make_sa(*lc, t.id, 0x6000, 1, tbar);
      for (uint32_t mtu = 0; mtu <= 9216; ++mtu) {
        uint32_t want = 0;
        for (uint32_t len = mtu; len > 0; --len) {
          if (len + esp_overhead(*f.sa, len) <= mtu) {
            want = len;
            break;
          }
        }
        ASSERT_EQ(esp_max_inner_len(*f.sa, mtu), want)
            << t.name << " tbar " << tbar << " mtu " << mtu;
      }
    }
  }
}

TEST_F(esp_engine, outer_congestion_mark_reaches_the_inner_header_rfc6040) {
  std::mt19937 rng(17);
  auto f = make_sa(*lc, transform_id::aes_gcm_128, 0x6000, 8);
  for (uint8_t inner_ecn : {0, 1, 2, 3}) {
    const bytes in = make_inner(rng, 50, static_cast<uint8_t>(0xb8 | inner_ecn), false, 64);
    rte_mbuf* p[1] = {to_mbuf(in)};
    ASSERT_EQ(esp_encrypt_burst(*lc, *f.sa, p, 1, 0), 1);
    auto* o = rte_pktmbuf_mtod(p[0], rte_ipv4_hdr*);
    o->type_of_service |= 3;  // a router on the WAN marked congestion
    o->hdr_checksum = 0;
    o->hdr_checksum = rte_ipv4_cksum(o);
    const uint16_t good = esp_decrypt_burst(*lc, f.table.lookup(), p, 1);
    if (inner_ecn == 0) {
      EXPECT_EQ(good, 0);
      EXPECT_EQ(meta(p[0])->reason, drop_reason::ecn_not_ect);
    } else {
      ASSERT_EQ(good, 1);
      const auto* ip = rte_pktmbuf_mtod(p[0], const rte_ipv4_hdr*);
      EXPECT_EQ(ip->type_of_service, 0xb8 | 3);
      EXPECT_EQ(rte_ipv4_cksum(ip), 0);
    }
    rte_pktmbuf_free(p[0]);
  }
}

TEST(esp_iv, gcm_ivs_from_two_lcores_and_two_gms_never_collide) {
  auto a = esp_lcore::create(1, 0);
  auto b = esp_lcore::create(1, 1);
  auto c = esp_lcore::create(2, 0);
  std::set<bytes> seen;
  for (int i = 0; i < 2000; ++i) {
    for (auto* lc : {a.get(), b.get(), c.get()}) {
      bytes iv(8);
      ASSERT_TRUE(lc->next_gcm_iv(iv.data()));
      EXPECT_TRUE(seen.insert(iv).second);
    }
  }
  a->gcm_iv_counter = uint64_t{1} << 40;
  uint8_t iv[8];
  EXPECT_FALSE(a->next_gcm_iv(iv));
}

// The trailer is one 16-byte template store (pad 15 adds a byte store; short NULL-ICV
// trailers keep byte stores): every pad length of every transform, TBAR on and off, must
// decrypt, which checks each pad byte, the pad length and the next header.
TEST_F(esp_engine, every_pad_length_of_every_transform_round_trips) {
  std::mt19937 rng(11);
  for (const auto& t : transform_table) {
    for (bool tbar : {false, true}) {
      auto f = make_sa(*lc, t.id, 0x2000 + static_cast<uint32_t>(t.id), 5, tbar);
      constexpr uint16_t n = 16;
      rte_mbuf* pkts[n];
      std::vector<bytes> inner;
      std::set<uint32_t> pads;
      for (uint16_t i = 0; i < n; ++i) {
        const uint32_t size = 40 + i;
        const uint32_t payload = size + (tbar ? 16 : 0);
        pads.insert(((payload + 2 + t.block - 1) / t.block * t.block) - payload - 2);
        inner.push_back(make_inner(rng, size, 0, false, 64));
        pkts[i] = to_mbuf(inner.back());
      }
      EXPECT_EQ(pads.size(), t.block) << t.name;
      ASSERT_EQ(esp_encrypt_burst(*lc, *f.sa, pkts, n, 442843290), n) << t.name;
      ASSERT_EQ(esp_decrypt_burst(*lc, f.table.lookup(), pkts, n), n) << t.name << " tbar " << tbar;
      for (uint16_t i = 0; i < n; ++i) {
        EXPECT_EQ(from_mbuf(pkts[i]), inner[i]) << t.name << " inner length " << 40 + i;
        rte_pktmbuf_free(pkts[i]);
      }
    }
  }
}

TEST(esp_iv, a_chunks_cbc_ivs_are_the_ones_next_cbc_iv_gives) {
  for (uint16_t n = 1; n <= max_burst; ++n) {
    auto a = esp_lcore::create(1, 2);
    uint8_t peeked[max_burst][16];
    a->peek_cbc_ivs(peeked, n);
    for (uint16_t i = 0; i < n; ++i) {
      uint8_t next[16];
      a->next_cbc_iv(next, 16);
      EXPECT_EQ(bytes(next, next + 16), bytes(peeked[i], peeked[i] + 16)) << n << " " << i;
    }
  }
}

TEST(esp_iv, cbc_ivs_are_distinct_and_differ_between_lcores) {
  auto a = esp_lcore::create(1, 0);
  auto b = esp_lcore::create(1, 0);
  std::set<bytes> seen;
  for (int i = 0; i < 5000; ++i) {
    bytes x(16), y(16);
    a->next_cbc_iv(x.data(), 16);
    b->next_cbc_iv(y.data(), 16);
    EXPECT_TRUE(seen.insert(x).second);
    EXPECT_TRUE(seen.insert(y).second);
  }
}

}  // namespace
}  // namespace gm::crypto
