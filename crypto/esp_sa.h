// The runtime view of an ESP SA that workers read: keys in ipsec-mb form plus the few
// header-preservation knobs. Control records (lifetimes, GDOI ids) live in control/.
#pragma once

#include <cstdint>

#include "crypto/sa_keys.h"

namespace gm::crypto {

/// Per-lcore arrays (counters, sequence numbers) are indexed by an SA's slot.
inline constexpr uint16_t max_sa_slots = 64;

/// What the outer header's DF bit becomes (IOS `crypto ipsec df-bit copy|set|clear`).
enum class df_mode : uint8_t { copy, set, clear };

struct alignas(64) esp_sa {
  sa_keys keys;
  uint32_t spi = 0;     ///< host order
  uint16_t slot = 0;    ///< < max_sa_slots, unique among installed SAs
  df_mode df = df_mode::copy;
  bool tbar = false;    ///< time-based anti-replay: stamp/expect the metadata header
  int16_t ttl = -1;     ///< outer TTL: -1 copies the inner TTL
};

/// The inbound SPI lookup hook: returns the SA for `spi` or nullptr.
struct sa_lookup {
  const esp_sa* (*fn)(const void* table, uint32_t spi);
  const void* table;

  const esp_sa* operator()(uint32_t spi) const { return fn(table, spi); }
};

/// A small fixed SA table (GETVPN groups hold a handful of TEKs), searched linearly.
struct sa_table {
  const esp_sa* sas[max_sa_slots] = {};
  uint16_t count = 0;

  static const esp_sa* find(const void* self, uint32_t spi) {
    const auto* t = static_cast<const sa_table*>(self);
    for (uint16_t i = 0; i < t->count; ++i) {
      if (t->sas[i]->spi == spi) {
        return t->sas[i];
      }
    }
    return nullptr;
  }
  sa_lookup lookup() const { return {&sa_table::find, this}; }
};

}  // namespace gm::crypto
