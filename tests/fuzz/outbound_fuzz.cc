// libFuzzer target for the outbound (LAN -> WAN) path of a whole worker: L2 strip, MSS
// clamp, TTL, rte_acl classify with the seed ACL, fragmentation / ICMP too-big, ESP
// encrypt, transmit. Input: byte 0 picks the active outbound SA (one per transform, GCM and
// CBC alike); the rest is one Ethernet frame received on the LAN port.
//
// Beyond "no crash, no leak" it checks what must hold for any input: every packet is
// accounted once (sent or counted as a drop), sent frames are well-formed IPv4 within the
// WAN MTU, only ICMP too-big or time exceeded goes back to the LAN, and every ESP frame
// sent decrypts again through the same worker's inbound path to the packet that went in.
#include <cstdint>
#include <cstring>
#include <vector>

#include "tests/dataplane_world.h"

namespace {

using namespace gm;
using test::world;

world* g_world = nullptr;

uint32_t be16(const uint8_t* p) { return static_cast<uint32_t>(p[0] << 8 | p[1]); }

// ICMP 3/4 from the GM's LAN address, for a DF packet too big for the WAN once encrypted.
void check_icmp_too_big(const std::vector<uint8_t>& f, const world& wd) {
  test::check_sent_frame(f, wd.w.lan, 576, true);
  const uint8_t* ip = f.data() + 14;
  const uint32_t ihl = (ip[0] & 0xf) * 4u;
  uint32_t src = 0;
  std::memcpy(&src, ip + 12, 4);
  if (ihl != 20 || ip[9] != 1 || src != wd.w.lan.ip || ip[20] != 3 || ip[21] != 4) abort();
  if (be16(ip + 26) == 0 || be16(ip + 26) > test::wan_mtu) abort();  // next-hop MTU
}

// Decrypts one ESP frame the worker sent by feeding it back to its WAN port.
void round_trip(world& wd, const std::vector<uint8_t>& esp_frame, const uint8_t* in_ip,
                uint32_t in_len, bool compare) {
  const test::totals before = wd.sum();
  // From the peer's side of the wire: the MACs do not matter to the receiver.
  if (!wd.push(wd.wan_rx, esp_frame.data(), esp_frame.size())) abort();
  const auto lan = world::drain(wd.lan_tx);
  const auto wan = world::drain(wd.wan_tx);
  const test::totals after = wd.sum();
  const uint64_t ttl = after.by_reason[static_cast<std::size_t>(drop_reason::ttl_expired)] -
                       before.by_reason[static_cast<std::size_t>(drop_reason::ttl_expired)];
  // Our own encryption must decrypt, pass TBAR, the counter window and the inner policy;
  // only a TTL that the second hop exhausts may stop it, and then at most a time exceeded
  // goes back out of the WAN (ICMP bypasses in the seed ACL, so in clear).
  if (after.drops - before.drops != ttl || lan.size() + ttl != 1) abort();
  if (wan.size() > ttl) abort();
  for (const auto& f : wan) test::check_time_exceeded(f, wd.w.wan, wd.w.lan, wd.w.wan);
  if (lan.empty()) return;
  test::check_sent_frame(lan[0], wd.w.lan, 65535, false);
  if (!compare) return;
  // Same inner packet but for TTL (two hops) and the header checksum; TCP may have had
  // its MSS clamped, so its segment is not compared.
  const uint8_t* out = lan[0].data() + 14;
  const uint32_t out_len = be16(out + 2);
  if (out_len != in_len || lan[0].size() - 14 != out_len) abort();
  if (out[8] + 2 != in_ip[8]) abort();
  const uint32_t ihl = (in_ip[0] & 0xf) * 4u;
  const uint32_t upto = in_ip[9] == 6 ? ihl : in_len;
  for (uint32_t i = 0; i < upto; ++i) {
    if (i != 8 && i != 10 && i != 11 && out[i] != in_ip[i]) abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (g_world == nullptr) {
    test::init_eal();
    g_world = test::make_world();
  }
  world& wd = *g_world;
  if (size < 1) return 0;
  const std::size_t k = data[0] % crypto::transform_count;
  wd.w.state = wd.states[k].get();
  const uint8_t* frame = data + 1;
  const std::size_t len = size - 1;

  const test::totals before = wd.sum();
  if (!wd.push(wd.lan_rx, frame, len)) return 0;
  const auto lan = world::drain(wd.lan_tx);
  const auto wan = world::drain(wd.wan_tx);
  const test::totals after = wd.sum();

  if (test::took_own(before, after, lan, wan, wd.w.lan, wd.w.lan, wd.w.wan)) {
    wd.check_no_leak();
    return 0;
  }
  const uint64_t drops = after.drops - before.drops;
  const uint64_t sent = after.wan_tx - before.wan_tx;
  const bool fragmented = after.fragmented != before.fragmented;
  if (sent != wan.size() || after.lan_tx - before.lan_tx != lan.size()) abort();
  // Fragments are each encrypted and sent or counted; the original then counts nowhere.
  if (fragmented ? sent + drops < 2 : sent + drops != 1) abort();
  // Back to the LAN: ICMP too-big for a DF packet, or time exceeded for one whose TTL ran
  // out here, never more than one, never without the drop it answers.
  const auto counted = [&](drop_reason r) {
    return after.by_reason[static_cast<std::size_t>(r)] !=
           before.by_reason[static_cast<std::size_t>(r)];
  };
  if (lan.size() > 1) abort();
  for (const auto& f : lan) {
    if (counted(drop_reason::ttl_expired)) {
      test::check_time_exceeded(f, wd.w.lan, wd.w.lan, wd.w.wan);
    } else if (counted(drop_reason::too_big)) {
      check_icmp_too_big(f, wd);
    } else {
      abort();
    }
  }

  // Where the input's IPv4 packet starts, for the round-trip comparison.
  const uint8_t* in_ip = frame + 14;
  const uint32_t in_len = len >= 14 + 20 ? be16(in_ip + 2) : 0;
  // One input is either protected (every frame sent is ESP: one, or one per fragment) or
  // not (at most one frame, forwarded in clear).
  const bool encrypted = after.encaps != before.encaps;
  if (encrypted && after.encaps - before.encaps != sent) abort();
  for (const auto& f : wan) {
    if (encrypted) {
      // Built by the ESP stage: exact length, within the MTU, valid checksum.
      test::check_sent_frame(f, wd.w.wan, test::wan_mtu, true);
      if (f[14 + 9] != 50) abort();
      round_trip(wd, f, in_ip, in_len, !fragmented && wan.size() == 1);
    } else {
      test::check_sent_frame(f, wd.w.wan, 65535, false);  // bypass, forwarded in clear
    }
  }
  wd.check_no_leak();
  return 0;
}
