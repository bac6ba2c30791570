// libFuzzer target for the inbound (WAN -> LAN) path of a whole worker: L2 strip, parse,
// SA lookup, ICV verify and decrypt, TBAR metadata decode and window check against an
// injected clock, counter replay window, inner policy check, TTL, transmit.
//
// Input: byte 0 = mode (bits 0-1), SA (bits 2-4, one per transform), send twice (bit 7);
// bytes 1-2 = clock skew in ms (int16, big-endian); bytes 3-4 = TBAR stamp offset in ms
// (int16); the rest is the payload. Modes:
//   0  the payload is the whole WAN frame, unmodified (outer header, SPI, lengths);
//   1  the payload is the ESP plaintext (pad, next header and all) sealed with the SA's
//      keys, so what lies behind a valid ICV is fuzzed;
//   2  the payload is the inner packet, wrapped with TBAR metadata when the SA uses it,
//      RFC 4303 padding and a valid next header, then sealed;
//   3  as 2, with the inner IPv4 header's version, IHL, total length and checksum fixed,
//      and the outer addresses copied from it (header preservation): reaches policy/TTL.
// Checks: every frame is accounted once (forwarded or one drop counter); nothing goes
// back out of the WAN port; what reaches the LAN is well-formed and, in mode 3, is the
// inner packet with its TTL decremented; a counter-replay SA never forwards a duplicate.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "tbar/metadata.h"
#include "tests/esp_seal.h"
#include "tests/dataplane_world.h"

namespace {

using namespace gm;
using test::world;

world* g_world = nullptr;
uint32_t g_seq = 0;  // counter-replay SAs need fresh sequence numbers to get past the window

constexpr uint64_t base_ns = 1'000'000'000'000ull;

void put16(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

uint16_t ip_cksum(const uint8_t* ip, uint32_t ihl) {
  uint32_t sum = 0;
  for (uint32_t i = 0; i + 1 < ihl; i += 2) sum += static_cast<uint32_t>(ip[i] << 8 | ip[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// Ethernet | outer IPv4 | SPI | Seq | IV | plaintext (a whole number of blocks) | ICV.
std::vector<uint8_t> sealed_frame(world& wd, const crypto::esp_sa& sa,
                                  const std::vector<uint8_t>& plain, const uint8_t* addrs) {
  const crypto::transform_info& t = crypto::info(sa.keys.xf);
  const std::size_t esp_len = 8 + t.iv_len + plain.size() + t.icv_len;
  std::vector<uint8_t> f(14 + 20 + esp_len, 0);
  std::memcpy(f.data(), wd.w.wan.src_mac.data(), 6);  // to us, from the peer
  std::memcpy(f.data() + 6, wd.w.wan.dst_mac.data(), 6);
  f[12] = 0x08;
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  put16(ip + 2, static_cast<uint32_t>(20 + esp_len));
  ip[8] = 64;
  ip[9] = 50;
  std::memcpy(ip + 12, addrs, 8);
  put16(ip + 10, ip_cksum(ip, 20));
  uint8_t* esp = ip + 20;
  const uint32_t spi = sa.spi;
  const uint32_t seq = ++g_seq;
  for (int i = 0; i < 4; ++i) {
    esp[i] = static_cast<uint8_t>(spi >> (24 - 8 * i));
    esp[4 + i] = static_cast<uint8_t>(seq >> (24 - 8 * i));
  }
  for (uint32_t i = 0; i < t.iv_len; ++i) esp[8 + i] = static_cast<uint8_t>(seq * 7 + i);
  std::memcpy(esp + 8 + t.iv_len, plain.data(), plain.size());
  if (!test::seal_esp(*wd.ctl_crypto, sa, esp, static_cast<uint32_t>(plain.size()))) abort();
  return f;
}

// TBAR metadata (if the SA stamps), the inner packet, RFC 4303 padding, pad length, NH.
std::vector<uint8_t> wrap(const crypto::esp_sa& sa, const uint8_t* inner, std::size_t n,
                          uint64_t stamp_ms) {
  const crypto::transform_info& t = crypto::info(sa.keys.xf);
  std::vector<uint8_t> p;
  if (sa.tbar) {
    p.resize(tbar::metadata_len);
    tbar::encode(p.data(), {4, stamp_ms, 99});
  }
  p.insert(p.end(), inner, inner + n);
  const std::size_t pad = (t.block - (p.size() + 2) % t.block) % t.block;
  for (std::size_t i = 0; i < pad; ++i) p.push_back(static_cast<uint8_t>(i + 1));
  p.push_back(static_cast<uint8_t>(pad));
  p.push_back(sa.tbar ? tbar::esp_next_header : 4);
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (g_world == nullptr) {
    test::init_eal();
    g_world = test::make_world();
  }
  world& wd = *g_world;
  if (size < 5) return 0;
  const uint8_t mode = data[0] & 3;
  const std::size_t xf = (data[0] >> 2 & 7) % crypto::transform_count;
  const bool twice = (data[0] & 0x80) != 0;
  const auto skew_ms = static_cast<int16_t>(data[1] << 8 | data[2]);
  const auto stamp_off_ms = static_cast<int16_t>(data[3] << 8 | data[4]);
  const uint8_t* payload = data + 5;
  const std::size_t plen = size - 5;

  test::g_now_ns = base_ns + static_cast<uint64_t>(static_cast<int64_t>(skew_ms) * 1'000'000);
  const dataplane::group_state* gs = wd.states[0]->read();
  const crypto::esp_sa* sa = gs->inbound.find(&gs->inbound, test::spi_base + xf);
  if (sa == nullptr) abort();

  std::vector<uint8_t> frame;
  std::vector<uint8_t> inner;  // mode 3: what must come out on the LAN
  static const uint8_t default_addrs[8] = {10, 1, 1, 1, 10, 2, 2, 2};
  if (mode == 0) {
    frame.assign(payload, payload + plen);
  } else if (mode == 1) {
    const uint32_t blk = crypto::info(sa->keys.xf).block;
    std::vector<uint8_t> plain(payload, payload + plen);
    plain.resize(std::max<std::size_t>(1, (plain.size() + blk - 1) / blk) * blk);
    frame = sealed_frame(wd, *sa, plain, default_addrs);
  } else {
    inner.assign(payload, payload + plen);
    const uint8_t* addrs = default_addrs;
    if (mode == 3) {
      if (inner.size() < 20) inner.resize(20);
      uint32_t ihl = (inner[0] & 0xf) * 4u;
      if (ihl < 20 || ihl > inner.size()) ihl = 20;
      inner[0] = static_cast<uint8_t>(0x40 | ihl / 4);
      if (inner.size() > 65000) inner.resize(65000);
      put16(inner.data() + 2, static_cast<uint32_t>(inner.size()));
      put16(inner.data() + 10, 0);
      put16(inner.data() + 10, ip_cksum(inner.data(), ihl));
      addrs = inner.data() + 12;
    }
    // The sender's pseudotime is ours (base, unskewed) plus the fuzzed offset.
    const uint64_t stamp =
        test::pseudotime0_ms + static_cast<uint64_t>(static_cast<int64_t>(stamp_off_ms));
    frame = sealed_frame(wd, *sa, wrap(*sa, inner.data(), inner.size(), stamp), addrs);
  }

  bool forwarded_once = false;
  for (int round = 0; round < (twice ? 2 : 1); ++round) {
    const test::totals before = wd.sum();
    if (!wd.push(wd.wan_rx, frame.data(), frame.size())) break;
    const auto lan = world::drain(wd.lan_tx);
    const auto wan = world::drain(wd.wan_tx);
    const test::totals after = wd.sum();
    if (test::took_own(before, after, wan, lan, wd.w.wan, wd.w.lan, wd.w.wan)) continue;
    // The only frame back out of the WAN: time exceeded for a packet whose TTL ran out here
    // (in clear: ICMP bypasses in the seed ACL), counted as sent, beside its drop.
    const bool ttl = after.by_reason[static_cast<std::size_t>(drop_reason::ttl_expired)] !=
                     before.by_reason[static_cast<std::size_t>(drop_reason::ttl_expired)];
    if (wan.size() > (ttl ? 1u : 0u) || after.wan_tx - before.wan_tx != wan.size()) abort();
    for (const auto& f : wan) test::check_time_exceeded(f, wd.w.wan, wd.w.lan, wd.w.wan);
    if (after.lan_tx - before.lan_tx != lan.size() || lan.size() > 1) abort();
    if (after.drops - before.drops + lan.size() != 1) abort();
    if (lan.empty()) continue;
    const bool decrypted = after.decaps != before.decaps;
    test::check_sent_frame(lan[0], wd.w.lan, 65535, false);
    const uint8_t* out = lan[0].data() + 14;
    if (decrypted && static_cast<std::size_t>(out[2] << 8 | out[3]) != lan[0].size() - 14) {
      abort();  // a decrypted packet leaves with exactly its own length
    }
    if (mode == 3) {
      if (lan[0].size() - 14 != inner.size() || out[8] + 1 != inner[8]) abort();
      for (std::size_t i = 0; i < inner.size(); ++i) {
        if (i != 8 && i != 10 && i != 11 && out[i] != inner[i]) abort();
      }
    }
    if (round == 1 && forwarded_once && mode != 0 &&
        test::replay_for(xf) == ctrl::replay::counter) {
      abort();  // the same sequence number went through twice
    }
    forwarded_once = true;
  }
  wd.check_no_leak();
  return 0;
}
