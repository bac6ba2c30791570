// Typed errors and a small result type for the GDOI/ISAKMP codec. Everything that arrives
// from the network is decoded into either a value or one codec_error that says what was
// wrong and where; nothing throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace gm::control {

// Every way a message can be wrong, declared once: name and meaning.
#define GM_CODEC_ERRORS(X)                                                                   \
  X(truncated_header, "fewer than 28 bytes: no room for the ISAKMP header")                  \
  X(bad_version, "ISAKMP version is not 1.0")                                                \
  X(bad_flags, "undefined ISAKMP flag bits are set")                                         \
  X(message_length_too_small, "ISAKMP header length is smaller than the header itself")      \
  X(message_length_beyond_buffer, "ISAKMP header length is larger than the datagram")        \
  X(message_length_short_of_buffer, "datagram carries bytes after the ISAKMP length")        \
  X(encrypted, "payloads are encrypted (E flag); decrypt them and decode the payload chain") \
  X(truncated_payload_header, "next payload announced but fewer than 4 bytes remain")        \
  X(payload_length_too_small, "payload length is smaller than the payload's fixed part")     \
  X(payload_length_beyond_message, "payload length runs past the end of the message")        \
  X(trailing_data, "bytes remain after the last payload (next payload = none)")              \
  X(unknown_payload_type, "payload type is neither known nor private-use")                   \
  X(unknown_critical_payload, "unknown payload type marked critical")                        \
  X(too_many_payloads, "payload chain longer than the codec accepts (loop guard)")           \
  X(unexpected_payload, "payload type not allowed in this position")                         \
  X(duplicate_payload, "payload that may appear once appears twice")                         \
  X(bad_doi, "DOI is not GDOI (2)")                                                          \
  X(bad_situation, "GDOI SA situation is not 0")                                             \
  X(empty_sa, "GDOI SA carries neither an SA KEK nor an SA TEK")                             \
  X(id_length_mismatch, "ID data length fits the payload neither as 2 bytes nor as 1 byte")  \
  X(bad_id_data, "ID data length does not fit the ID type")                                  \
  X(unsupported_tek_protocol, "SA TEK protocol-id is neither ESP (1) nor AH (2)")            \
  X(truncated_attribute, "data attribute header or value runs past its payload")             \
  X(bad_attribute_length, "data attribute value has a length its type does not allow")       \
  X(attribute_out_of_range, "data attribute value does not fit its field")                   \
  X(duplicate_attribute, "data attribute that may appear once appears twice")                \
  X(lifetime_unpaired, "SA life type and life duration are not in type-then-duration pairs") \
  X(key_packet_count_mismatch, "KD key packet count differs from the key packets present")   \
  X(bad_key_packet_length, "KD key packet length too small or past the payload")             \
  X(bad_spi_size, "SPI size does not fit the payload or the key packet type")                \
  X(bad_payload_length, "payload body has the wrong size for its type")                      \
  X(tek_keys_missing, "a permit SA TEK has no TEK key packet with its SPI")                  \
  X(deny_tek_has_keys, "a TEK key packet carries SPI 0, the deny-ACE SPI")                   \
  X(duplicate_key_packet, "two key packets carry the same SPI")                              \
  X(kek_keys_mismatch, "the KEK key packet's SPI differs from the SA KEK's")                 \
  X(value_too_long, "encoder: a field does not fit its length field")                        \
  X(transform_count_mismatch, "proposal's transform count differs from its transforms")

enum class codec_errc : uint8_t {
#define GM_CODEC_ERRC_ENUM(name, text) name,
  GM_CODEC_ERRORS(GM_CODEC_ERRC_ENUM)
#undef GM_CODEC_ERRC_ENUM
};

/// Short identifier of an error code ("payload_length_beyond_message").
const char* name(codec_errc e);
/// One-line meaning of an error code.
const char* text(codec_errc e);

/// What went wrong, at which byte offset of the input, in which payload type (0 = header).
struct codec_error {
  codec_errc code = codec_errc::truncated_header;
  std::size_t offset = 0;
  uint8_t payload = 0;

  bool operator==(const codec_error&) const = default;
};

/// "payload_length_beyond_message at offset 84 (payload 17): payload length runs past ..."
std::string describe(const codec_error& e);

/// A value or a codec_error (std::expected is C++23).
template <typename T>
class result {
 public:
  result(T v) : _v(std::in_place_index<0>, std::move(v)) {}  // NOLINT: implicit on purpose
  result(codec_error e) : _v(std::in_place_index<1>, e) {}   // NOLINT

  bool ok() const { return _v.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(_v); }
  const T& value() const { return std::get<0>(_v); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const codec_error& error() const { return std::get<1>(_v); }

 private:
  std::variant<T, codec_error> _v;
};

inline codec_error make_error(codec_errc c, std::size_t offset, uint8_t payload = 0) {
  return codec_error{c, offset, payload};
}

}  // namespace gm::control
