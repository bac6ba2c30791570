// Published known-answer vectors, one or more per transform: cipher vectors check the
// encryption half, HMAC vectors the integrity half. Used by the start-up self-test and by
// the unit tests.
#pragma once

#include <string_view>

#include "crypto/transform.h"

namespace gm::crypto {

struct kat_vector {
  transform_id xf;
  std::string_view source;  ///< where the numbers come from
  bool auth_only;           ///< true: an HMAC vector (key = auth key, pt = message)
  std::string_view key;     ///< hex: cipher key (GCM: without salt) or HMAC key
  std::string_view iv;      ///< hex: CBC IV, or the 12-byte GCM IV
  std::string_view aad;     ///< hex, GCM only
  std::string_view pt;      ///< hex
  std::string_view ct;      ///< hex; empty for HMAC vectors
  std::string_view tag;     ///< hex; truncated to the transform's ICV length on compare
};

// GCM: McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 2, 4, 16.
inline constexpr std::string_view gcm_tc4_pt =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
inline constexpr std::string_view gcm_tc4_aad = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
inline constexpr std::string_view gcm_tc_iv = "cafebabefacedbaddecaf888";

// HMAC: RFC 2202 (SHA-1) test cases 1 and 3, RFC 4231 (SHA-256) test cases 1 and 4.
#define GM_HMAC_SHA1_KATS(xf)                                                            \
  {xf, "RFC 2202 case 1", true, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",      \
   "4869205468657265", "", "b617318655057264e28bc0b6fb378c8ef146be00"},                 \
  {                                                                                      \
    xf, "RFC 2202 case 3", true, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "", "",      \
        "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd" \
        "dddddddddddddddddddddddd",                                                      \
        "", "125d7342b9ac11cd91a39af48aa17b4f63f175d3"                                  \
  }

inline constexpr kat_vector kat_vectors[] = {
    {transform_id::aes_gcm_128, "GCM spec test case 2", false, "00000000000000000000000000000000",
     "000000000000000000000000", "", "00000000000000000000000000000000",
     "0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf"},
    {transform_id::aes_gcm_128, "GCM spec test case 4", false, "feffe9928665731c6d6a8f9467308308",
     gcm_tc_iv, gcm_tc4_aad, gcm_tc4_pt,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {transform_id::aes_gcm_256, "GCM spec test case 16", false,
     "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", gcm_tc_iv, gcm_tc4_aad,
     gcm_tc4_pt,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
    // AES-CBC: RFC 3602 cases 1 and 2; AES-256: NIST SP 800-38A F.2.5.
    {transform_id::aes_cbc_128_sha1, "RFC 3602 case 1", false, "06a9214036b8a15b512e03d534120006",
     "3dafba429d9eb430b422da802c9fac41", "", "53696e676c6520626c6f636b206d7367",
     "e353779c1079aeb82708942dbe77181a", ""},
    {transform_id::aes_cbc_128_sha1, "RFC 3602 case 2", false, "c286696d887c9aa0611bbb3e2025a45a",
     "562e17996d093d28ddb3ba695a2e6f58", "",
     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
     "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1", ""},
    GM_HMAC_SHA1_KATS(transform_id::aes_cbc_128_sha1),
    {transform_id::aes_cbc_256_sha1, "NIST SP 800-38A F.2.5", false,
     "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
     "000102030405060708090a0b0c0d0e0f", "",
     "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51",
     "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d", ""},
    GM_HMAC_SHA1_KATS(transform_id::aes_cbc_256_sha1),
    {transform_id::aes_cbc_128_sha256, "RFC 3602 case 1", false,
     "06a9214036b8a15b512e03d534120006", "3dafba429d9eb430b422da802c9fac41", "",
     "53696e676c6520626c6f636b206d7367", "e353779c1079aeb82708942dbe77181a", ""},
    {transform_id::aes_cbc_128_sha256, "RFC 4231 case 1", true,
     "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "", "4869205468657265", "",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
    {transform_id::aes_cbc_128_sha256, "RFC 4231 case 4", true,
     "0102030405060708090a0b0c0d0e0f10111213141516171819", "", "",
     "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
     "cdcdcdcdcdcdcdcdcdcdcdcd",
     "", "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
    // 3DES: NIST SP 800-67 rev 1 example (ECB, "The qufck brown fox jump"), run as CBC
    // with a zero IV whose plaintext blocks are pre-XORed with the previous ciphertext
    // block, so that each CBC block equals the published ECB block.
    {transform_id::des3_cbc_sha1, "NIST SP 800-67 example (as CBC)", false,
     "0123456789abcdef23456789abcdef01456789abcdef0123", "0000000000000000", "",
     "5468652071756663"
     "c3069ffe8a4ceb7f"
     "aa8d64a178500296",
     "a826fd8ce53b855fcce21c8112256fe668d5c05dd9b6b900", ""},
    GM_HMAC_SHA1_KATS(transform_id::des3_cbc_sha1),
    GM_HMAC_SHA1_KATS(transform_id::null_sha1),
};

#undef GM_HMAC_SHA1_KATS

}  // namespace gm::crypto
