// Every reason the data plane drops a packet, declared once. The same table feeds the
// per-lcore counters, telemetry names, `show` output and syslog mnemonics.
#pragma once

#include <cstdint>
#include <string_view>

namespace gm {

enum class severity : uint8_t { info, warning, error };

// X(name, severity, syslog mnemonic or "", meaning)
#define GM_DROP_REASONS(X)                                                                 \
  X(not_ipv4, info, "", "frame is not IPv4, nor ARP this port answers or learns from")    \
  X(ttl_expired, info, "", "TTL would reach zero when forwarded")                         \
  X(for_us, info, "", "addressed to a port's ip: only ICMP echo is answered")              \
  X(policy_discard, info, "", "the policy says discard")                                  \
  X(clear_protected, warning, "", "clear packet on WAN that policy says must be encrypted") \
  X(inner_policy_mismatch, warning, "", "decrypted packet matches no protect entry of its SA") \
  X(no_outbound_sa, warning, "", "policy says protect but no outbound SA is active")      \
  X(tx_full, warning, "", "transmit queue full")                                          \
  X(no_neighbor, warning, "", "next hop's MAC not resolved by ARP yet (next_hop_ip)")     \
  X(too_big, info, "", "DF set and too big for the WAN MTU once encrypted (ICMP 3/4 sent)") \
  X(frag_failed, warning, "", "fragmentation before encryption failed (no mbufs)")       \
  X(chained_mbuf, warning, "", "multi-segment mbuf; the ESP engine needs one segment")    \
  X(no_headroom, error, "", "not enough mbuf headroom for the outer headers")             \
  X(no_tailroom, error, "", "not enough mbuf tailroom for the ESP trailer and ICV")       \
  X(bad_inner_ip, warning, "", "outbound packet is not a well-formed IPv4 packet")        \
  X(unsupported_inner, info, "", "outbound packet is not IPv4")                           \
  X(bad_outer_ip, warning, "", "inbound IPv4 header malformed or lies about its length")  \
  X(not_esp, info, "", "inbound packet is not ESP")                                       \
  X(outer_fragment, warning, "", "inbound ESP packet is an IP fragment")                 \
  X(bad_length, warning, "", "ESP payload too short or not a multiple of the block")      \
  X(unknown_spi, warning, "%CRYPTO-4-RECVD_PKT_INV_SPI", "no inbound SA for this SPI")    \
  X(transform_disabled, error, "", "the SA's transform failed its self-test")             \
  X(icv_mismatch, warning, "%CRYPTO-4-RECVD_PKT_MAC_ERR", "ICV verification failed")      \
  X(bad_padding, warning, "", "ESP pad length or pad bytes invalid")                      \
  X(bad_next_header, warning, "", "ESP next header is not IPv4, IPv6 or TBAR metadata")   \
  X(bad_tbar_metadata, warning, "", "TBAR metadata header malformed")                     \
  X(bad_decrypted_ip, warning, "", "decrypted inner packet is not a well-formed IPv4")    \
  X(tbar_replay, warning, "%GDOI-4-TIMEBASED_REPLAY_FAILED",                              \
    "TBAR stamp outside the replay window")                                               \
  X(counter_replay, warning, "", "ESP sequence number replayed or behind the window")     \
  X(tbar_missing, warning, "", "SA has time-based replay but the packet has no stamp")   \
  X(tbar_not_synced, warning, "", "no pseudotime from the KS yet (time sync error)")    \
  X(ecn_not_ect, info, "", "outer CE on a Not-ECT inner packet (RFC 6040)")               \
  X(iv_exhausted, error, "", "per-lcore IV counter exhausted; rekey needed")              \
  X(crypto_error, error, "", "ipsec-mb rejected the job")

enum class drop_reason : uint8_t {
#define GM_X(name, sev, mnem, text) name,
  GM_DROP_REASONS(GM_X)
#undef GM_X
      count
};

inline constexpr std::size_t drop_reason_count = static_cast<std::size_t>(drop_reason::count);

struct drop_reason_info {
  std::string_view name;
  severity sev;
  std::string_view mnemonic;
  std::string_view text;
};

inline constexpr drop_reason_info drop_reason_table[drop_reason_count] = {
#define GM_X(name, sev, mnem, text) {#name, severity::sev, mnem, text},
    GM_DROP_REASONS(GM_X)
#undef GM_X
};

constexpr const drop_reason_info& info(drop_reason r) {
  return drop_reason_table[static_cast<std::size_t>(r)];
}

/// Drops made while sending: counted on the side a packet leaves by, not the one it came
/// from, so the send/receive error totals swap them back.
inline constexpr drop_reason at_send[] = {drop_reason::tx_full, drop_reason::no_neighbor};

}  // namespace gm
