// The IKEv1/GDOI cryptographic primitives, over OpenSSL (EVP): prf, hash, Diffie-Hellman
// (MODP groups 2 and 14), CBC without padding (IKEv1 pads itself), random bytes, and RSA
// signatures in both encodings GDOI key servers use. No protocol state lives here.
//
// Every function that can fail returns an empty optional; none throws. Secrets come back in
// `key_bytes`, which is wiped when freed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "control/byte_io.h"

namespace gm::control::ike {

using cspan = std::span<const uint8_t>;

enum class cipher : uint8_t {
  aes_cbc,   ///< key length 128, 192 or 256 bits
  des3_cbc,  ///< 192-bit key
};
enum class hash_alg : uint8_t { sha1, sha256 };
enum class dh_group : uint16_t { modp1024 = 2, modp2048 = 14 };

std::size_t hash_len(hash_alg h);     ///< 20 / 32
std::size_t block_len(cipher c);      ///< 16 / 8
const char* name(cipher c);           ///< "aes-cbc", "3des-cbc"
const char* name(hash_alg h);         ///< "sha1", "sha256"
std::size_t dh_len(dh_group g);       ///< 128 / 256: public values and g^xy are this long

/// prf = HMAC with the negotiated hash (RFC 2409 uses HMAC when no prf is negotiated).
key_bytes prf(hash_alg h, cspan key, cspan data);
/// prf over the concatenation of several pieces (saves copying them together).
key_bytes prf(hash_alg h, cspan key, std::initializer_list<cspan> pieces);
bytes digest(hash_alg h, cspan data);
bytes digest(hash_alg h, std::initializer_list<cspan> pieces);

/// Fills with a CSPRNG (RAND_bytes). Aborts the process if the CSPRNG fails: nothing
/// sensible can continue without randomness.
bytes random_bytes(std::size_t n);

struct dh_keypair {
  dh_group group = dh_group::modp2048;
  key_bytes private_value;  ///< big-endian
  bytes public_value;       ///< g^x mod p, big-endian, left-padded to dh_len(group)
};
dh_keypair dh_generate(dh_group g);
/// g^xy, left-padded to dh_len. Refuses a peer value of the wrong length, 0, 1, p-1 or >= p.
std::optional<key_bytes> dh_shared(const dh_keypair& mine, cspan peer_public);

/// CBC with no padding: `data` must be a whole number of blocks, `iv` one block, `key` the
/// cipher's key length (16/24/32 for AES, 24 for 3DES).
std::optional<bytes> cbc_encrypt(cipher c, cspan key, cspan iv, cspan data);
std::optional<bytes> cbc_decrypt(cipher c, cspan key, cspan iv, cspan data);

/// How an RSA rekey signature encodes the hash (PKCS#1 v1.5 either way).
enum class sig_form : uint8_t {
  digest_info,  ///< RFC 8017 EMSA-PKCS1-v1_5: DigestInfo(hash OID, H) (RFC 6407)
  raw_hash,     ///< PKCS#1 v1.5 type 1 padding over the bare hash (Cisco 2011 reference)
};
const char* name(sig_form f);

/// An RSA key pair (or a public key alone). Move-only; frees the OpenSSL key.
class rsa_key {
 public:
  rsa_key();
  ~rsa_key();
  rsa_key(rsa_key&&) noexcept;
  rsa_key& operator=(rsa_key&&) noexcept;

  static std::optional<rsa_key> generate(unsigned bits);
  /// PEM private key (PKCS#1 or PKCS#8) from a file; empty when missing or unreadable.
  static std::optional<rsa_key> load_private_pem(const std::string& path);
  /// Writes the private key as PKCS#8 PEM with mode 0600.
  bool save_private_pem(const std::string& path) const;
  /// DER SubjectPublicKeyInfo (what KD SIG_ALGORITHM_KEY carries).
  static std::optional<rsa_key> from_public_der(cspan der);
  bytes public_der() const;
  unsigned bits() const;
  bool has_private() const;

  std::optional<bytes> sign(hash_alg h, cspan data, sig_form form) const;
  /// Verifies `sig` over `data`; tries DigestInfo first, then the raw-hash form, and says
  /// which one matched. Empty when neither does.
  std::optional<sig_form> verify(hash_alg h, cspan data, cspan sig) const;

 private:
  struct impl;
  std::unique_ptr<impl> _p;
};

}  // namespace gm::control::ike
