// Start-up known-answer self-test. A transform whose vectors fail is disabled, and the
// report names it; only enabled transforms may be installed on the data plane.
#pragma once

#include <array>
#include <span>
#include <string>
#include <vector>

#include "crypto/crypto_ctx.h"
#include "crypto/kat_vectors.h"
#include "crypto/transform.h"

namespace gm::crypto {

struct self_test_report {
  std::array<bool, transform_count> enabled{};
  std::vector<std::string> failures;  ///< one clear line per failed vector
  /// The transforms whose own engine (crypto/cbc_sha1_shani) agreed with ipsec-mb on a
  /// burst of ESP packets, both ways (see run_self_test()). A disagreement disables the
  /// transform instead, and `failures` says why.
  std::vector<transform_id> engine_checked;

  bool is_enabled(transform_id id) const { return enabled[static_cast<std::size_t>(id)]; }
};

/// Runs every vector through `ctx` (the same job path packets take). Then, where `ctx` runs
/// AES-CBC + HMAC-SHA1 on its own engine (crypto/cbc_sha1_shani), which takes only ESP
/// packets, checks that engine against ipsec-mb on a burst of ESP packets, both ways.
self_test_report run_self_test(crypto_ctx& ctx,
                               std::span<const kat_vector> vectors = kat_vectors);

/// Decodes a hex string; returns false on odd length or a non-hex digit.
bool from_hex(std::string_view hex, std::vector<uint8_t>& out);

}  // namespace gm::crypto
