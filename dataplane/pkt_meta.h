// Per-packet metadata that travels with an mbuf between pipeline stages, stored in an mbuf
// dynamic field so that burst arrays can be split and reordered without side arrays.
#pragma once

#include <cstdint>

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "dataplane/drop_reason.h"

namespace gm {

struct pkt_meta {
  uint64_t pseudotime_ms;  ///< TBAR stamp of a decrypted packet (valid if has_tbar)
  uint32_t sender_id;      ///< TBAR sender id of a decrypted packet
  uint32_t esp_seq;        ///< ESP sequence number of an inbound packet (counter replay)
  uint16_t sa_slot;        ///< SA that decrypted (or encrypted) the packet
  drop_reason reason;      ///< why the packet was dropped, when it was
  uint8_t has_tbar;        ///< 1 if the packet carried TBAR metadata
};

namespace detail {
// Written once at start-up before any worker runs; read-only afterwards.
inline int pkt_meta_offset = -1;
}  // namespace detail

/// Registers the dynamic field; call once after rte_eal_init(). Returns false on failure.
inline bool pkt_meta_register() {
  if (detail::pkt_meta_offset >= 0) {
    return true;
  }
  static const rte_mbuf_dynfield desc = {
      .name = "gm_pkt_meta",
      .size = sizeof(pkt_meta),
      .align = alignof(pkt_meta),
      .flags = 0,
  };
  detail::pkt_meta_offset = rte_mbuf_dynfield_register(&desc);
  return detail::pkt_meta_offset >= 0;
}

/// Offset of the registered field; -1 before pkt_meta_register().
inline int pkt_meta_offset() { return detail::pkt_meta_offset; }

inline pkt_meta* meta(rte_mbuf* m) {
  return RTE_MBUF_DYNFIELD(m, pkt_meta_offset(), pkt_meta*);
}

}  // namespace gm
