// A minimal GM built only from the library classes (Main Mode initiator, GROUPKEY-PULL
// initiator, rekey_receiver, RFC 8263 ACK builder), for driving gm-ks in tests: in memory
// against the engine, or over UDP against the real binary. It is a test client, not
// gm-control: no retransmission, no data plane.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "control/group_keys.h"
#include "control/groupkey_pull.h"
#include "control/groupkey_push.h"
#include "control/main_mode.h"

namespace gm::control::ks::test {

class test_gm {
 public:
  /// Sends one datagram to the KS and returns its reply (nullopt: none came).
  using transport = std::function<std::optional<bytes>(const bytes&)>;

  test_gm(uint32_t addr, uint32_t ks_addr, std::string psk, uint32_t group,
          bool want_sender_id = false, std::vector<phase1_policy> proposals = {phase1_policy{}})
      : _addr(addr), _ks(ks_addr), _group(group), _want_sid(want_sender_id) {
    main_mode_config c;
    c.proposals = std::move(proposals);
    c.psk.assign(psk.begin(), psk.end());
    c.local_addr = addr;
    c.peer_addr = ks_addr;
    _mm.emplace(std::move(c));
  }

  uint32_t addr() const { return _addr; }

  /// Main Mode then GROUPKEY-PULL over `send`. Returns "" on success, else what failed.
  std::string register_with(const transport& send) {
    std::optional<bytes> out = _mm->start();
    while (!_mm->established()) {
      auto reply = send(*out);
      if (!reply) {
        return "main mode: no reply";
      }
      auto step = _mm->receive(*reply);
      if (auto* e = std::get_if<ike_error>(&step)) {
        return "main mode: " + describe(*e);
      }
      out = std::get<std::optional<bytes>>(step);
      if (!_mm->established() && !out) {
        return "main mode: nothing to send";
      }
    }
    _sa.emplace(_mm->take_sa());
    _pull.emplace(*_sa, _group, _want_sid);
    out = _pull->start();
    while (!_pull->done()) {
      auto reply = send(*out);
      if (!reply) {
        return "pull: no reply";
      }
      auto step = _pull->receive(*reply);
      if (auto* e = std::get_if<pull_error>(&step)) {
        return "pull: " + describe(*e);
      }
      out = std::get<std::optional<bytes>>(step);
      if (!_pull->done() && !out) {
        return "pull: nothing to send";
      }
    }
    keys = _pull->keys();
    if (!keys.kek || !keys.kek_keys) {
      return "pull: no KEK";
    }
    auto k = make_kek_state(*keys.kek, *keys.kek_keys);
    if (auto* e = std::get_if<push_error>(&k)) {
      return "kek: " + describe(*e);
    }
    rekeys.kek = std::move(std::get<kek_state>(k));
    rekeys.last_seq = keys.seq.value_or(0);
    return {};
  }

  /// Opens a rekey; on success fills `last` and returns the ACK to send (built under the
  /// KEK the rekey came under; empty when the KEK asks for none). On failure the error.
  std::variant<bytes, push_error> take_rekey(std::span<const uint8_t> dgram) {
    const kek_state under = rekeys.kek;
    auto r = rekeys.receive(dgram);
    if (auto* e = std::get_if<push_error>(&r)) {
      return *e;
    }
    last = std::move(std::get<opened_push>(r));
    add_keys(keys, last->sa, last->kd);
    id_payload me;
    me.id_type = id_type::ipv4_addr;
    me.data = {static_cast<uint8_t>(_addr >> 24), static_cast<uint8_t>(_addr >> 16),
               static_cast<uint8_t>(_addr >> 8), static_cast<uint8_t>(_addr)};
    if (!under.ack_requested) {
      return bytes{};  // no ACK asked for (multicast rekeys): nothing to send
    }
    return build_push_ack(under, last->seq, me);
  }

  group_keys keys;
  rekey_receiver rekeys;
  std::optional<opened_push> last;

 private:
  uint32_t _addr;
  uint32_t _ks;
  uint32_t _group;
  bool _want_sid;
  std::optional<main_mode_initiator> _mm;
  std::optional<phase1_sa> _sa;
  std::optional<pull_initiator> _pull;
};

}  // namespace gm::control::ks::test
