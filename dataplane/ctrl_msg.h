// Messages between the control process (a DPDK secondary) and the data plane (primary),
// carried by value in named rte_rings: fixed-size PODs, no pointers, no vtables. Large
// objects (an ACL of 10,000 lines) travel in a named memzone whose name is in the message.
#pragma once

#include <string.h>  // explicit_bzero (glibc)

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace gm::ctrl {

inline constexpr uint16_t msg_version = 1;

enum class msg_type : uint16_t {
  // control -> data plane
  sa_add = 1,               ///< install an SA for inbound at once
  sa_activate_outbound = 2, ///< outbound traffic of a policy index now uses this SPI
  sa_del = 3,               ///< remove an SA (old TEK expired); keys are wiped
  policy_replace = 4,       ///< new local + KS ACL from a memzone
  pseudotime_sync = 5,      ///< KS pseudotime (registration, rekey)
  flush = 6,                ///< remove every SA and the policy (clear crypto gdoi)
  sender_id = 7,            ///< the KS-allocated sender id (RFC 6054) for GCM IVs
  // data plane -> control
  ack = 100,                ///< result of a request, matched by seq
  event_unknown_spi = 101,  ///< ESP with an SPI we do not have (rate-limited per lcore)
  event_tbar_fail = 102,    ///< a sampled TBAR failure (%GDOI-4-TIMEBASED_REPLAY_FAILED)
};

enum class replay : uint8_t { none = 0, time = 1, counter = 2 };

/// One ACE as it sits in a policy memzone (host order).
struct ace_rec {
  uint8_t action;  ///< classifier::action
  uint8_t proto;
  uint8_t src_len;
  uint8_t dst_len;
  uint32_t src;
  uint32_t dst;
  uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
  uint32_t sa_index;
  uint8_t local;  ///< 1: part of the GM's local deny ACL (applies first)
  uint8_t pad[7];
};
static_assert(std::is_trivially_copyable_v<ace_rec> && sizeof(ace_rec) == 32);

struct sa_add_body {
  uint32_t spi;
  uint32_t policy_index;  ///< which ACE sa_index this SA serves
  uint8_t transform;      ///< crypto::transform_id
  uint8_t replay_mode;    ///< replay
  uint8_t df;             ///< crypto::df_mode
  uint8_t key_len;
  uint8_t auth_key_len;
  uint8_t pad[3];
  uint32_t window;  ///< ms for time, packets for counter
  uint8_t key[36];
  uint8_t auth_key[64];
};

struct spi_body {
  uint32_t spi;
  uint32_t policy_index;
};

struct policy_body {
  char memzone[32];
  uint32_t count;
};

struct pseudotime_body {
  uint64_t ks_pt_ms;
  uint32_t window_ms;
};

struct sender_id_body {
  uint32_t sid;  ///< low 16 bits are used; 0 keeps the configured one
};

struct ack_body {
  int32_t status;  ///< 0 ok, else an errno-style code
  char text[96];
};

struct unknown_spi_body {
  uint32_t spi;
  uint32_t src;  ///< network order
  uint32_t dst;
};

struct tbar_fail_body {
  uint64_t my_pt_ms;
  uint64_t peer_pt_ms;
  uint32_t window_ms;
  uint32_t src;  ///< network order
};

struct alignas(8) msg {
  msg_type type;
  uint16_t version;
  uint32_t seq;  ///< chosen by the sender; an ack echoes it
  union {
    sa_add_body sa_add;
    spi_body spi;
    policy_body policy;
    pseudotime_body pt;
    sender_id_body sender;
    ack_body ack;
    unknown_spi_body unknown_spi;
    tbar_fail_body tbar_fail;
  } u;

  /// Wipes key bytes once a message has been consumed. explicit_bzero, because a memset
  /// of an object that is not read again is a dead store the optimiser may remove.
  void wipe() { explicit_bzero(&u, sizeof(u)); }
};
static_assert(std::is_trivially_copyable_v<msg>);
static_assert(sizeof(msg) % 4 == 0, "rte_ring element size must be a multiple of 4");
static_assert(sizeof(msg) <= 128);

}  // namespace gm::ctrl
