// Writes the sample GDOI messages (tests/control/sample_messages.h) encoded by the codec,
// one NAME.bin per message, and expected.json: what each message should show, taken from
// the structs (not from the bytes), for the tshark oracle. The .bin files also seed the
// gdoi_parse_fuzz corpus.
//
//   gdoi-sample-tool OUTDIR
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "tests/control/sample_messages.h"

namespace {

using namespace gm::control;

template <typename C>
std::string hex(const C& b) {
  static const char* digits = "0123456789abcdef";
  std::string s = "\"";
  for (uint8_t x : b) {
    s += digits[x >> 4];
    s += digits[x & 15];
  }
  return s + "\"";
}

std::string num(uint64_t v) { return std::to_string(v); }

// [[type, value], ...]: integers for TV/short values, hex strings for long ones.
std::string attr_pairs(const std::vector<std::pair<uint16_t, uint64_t>>& ints,
                       const std::vector<attribute>& other) {
  std::string s = "[";
  for (const auto& [t, v] : ints) {
    s += (s.size() > 1 ? ", [" : "[") + num(t) + ", " + num(v) + "]";
  }
  for (const attribute& a : other) {
    s += (s.size() > 1 ? ", [" : "[") + num(a.type) + ", " + hex(a.value) + "]";
  }
  return s + "]";
}

template <typename T>
void add(std::vector<std::pair<uint16_t, uint64_t>>& v, uint16_t type, const std::optional<T>& o) {
  if (o) {
    v.emplace_back(type, *o);
  }
}

std::string identity(const char* side, const sa_identity& id) {
  return std::string("\"") + side + "_type\": " + num(id.type) + ", \"" + side +
         "_port\": " + num(id.port) + ", \"" + side + "_data\": " + hex(id.data);
}

std::string kek_json(const sa_kek& k) {
  std::vector<std::pair<uint16_t, uint64_t>> a;
  add(a, kek_attr::management_algorithm, k.attrs.management_algorithm);
  add(a, kek_attr::algorithm, k.attrs.algorithm);
  add(a, kek_attr::key_length, k.attrs.key_length);
  add(a, kek_attr::key_lifetime, k.attrs.key_lifetime);
  add(a, kek_attr::sig_hash_algorithm, k.attrs.sig_hash_algorithm);
  add(a, kek_attr::sig_algorithm, k.attrs.sig_algorithm);
  add(a, kek_attr::sig_key_length, k.attrs.sig_key_length);
  return "{\"protocol\": " + num(k.protocol) + ", " + identity("src", k.src) + ", " +
         identity("dst", k.dst) + ", \"spi\": " + hex(k.spi) +
         ", \"attrs\": " + attr_pairs(a, k.attrs.other) + "}";
}

std::string tek_json(const sa_tek& t) {
  std::vector<std::pair<uint16_t, uint64_t>> a;
  for (const sa_lifetime& l : t.attrs.lifetimes) {
    a.emplace_back(tek_attr::life_type, l.type);
    a.emplace_back(tek_attr::life_duration, l.duration);
  }
  add(a, tek_attr::encapsulation_mode, t.attrs.encapsulation_mode);
  add(a, tek_attr::auth_algorithm, t.attrs.auth_algorithm);
  add(a, tek_attr::key_length, t.attrs.key_length);
  add(a, tek_attr::address_preservation, t.attrs.address_preservation);
  add(a, tek_attr::sa_direction, t.attrs.sa_direction);
  add(a, tek_attr::replay_method, t.attrs.replay_method);
  add(a, tek_attr::replay_window, t.attrs.replay_window);
  add(a, tek_attr::pseudotime, t.attrs.pseudotime_ms);
  bytes spi(4);
  byte_writer(spi).patch_u32(0, t.spi);
  return "{\"protocol_id\": " + num(t.protocol_id) + ", \"ip_protocol\": " + num(t.ip_protocol) +
         ", " + identity("src", t.src) + ", " + identity("dst", t.dst) +
         ", \"transform\": " + num(t.transform_id) + ", \"spi\": " + hex(spi) +
         ", \"deny\": " + (t.deny() ? "true" : "false") +
         ", \"attrs\": " + attr_pairs(a, t.attrs.other) + "}";
}

std::string gap_json(const gap_payload& g) {
  std::vector<std::pair<uint16_t, uint64_t>> a;
  add(a, gap_attr::activation_time_delay, g.activation_time_delay);
  add(a, gap_attr::deactivation_time_delay, g.deactivation_time_delay);
  add(a, gap_attr::sender_id_request, g.sender_id_request);
  return attr_pairs(a, g.other);
}

std::string key_packet_json(const key_packet& k) {
  std::string s = "{\"type\": " + num(k.type) + ", \"spi\": " + hex(k.spi) + ", \"attrs\": [";
  std::vector<std::string> as;
  if (!k.algorithm_key.empty()) {
    as.push_back("[1, " + hex(k.algorithm_key) + "]");
  }
  if (!k.integrity_key.empty()) {
    as.push_back("[2, " + hex(k.integrity_key) + "]");
  }
  if (!k.signature_key.empty()) {
    as.push_back("[2, " + hex(k.signature_key) + "]");
  }
  for (std::size_t i = 0; i < as.size(); ++i) {
    s += (i ? ", " : "") + as[i];
  }
  return s + "]}";
}

std::string message_json(const std::string& name, const gdoi_message& m) {
  std::string s = "{\"name\": \"" + name + "\", \"exchange\": " + num(m.header.exchange_type) +
                  ", \"message_id\": " + num(m.header.message_id) +
                  ", \"icookie\": " + hex(m.header.initiator_cookie) +
                  ", \"rcookie\": " + hex(m.header.responder_cookie) + ", \"payloads\": [";
  std::string details;
  for (std::size_t i = 0; i < m.payloads.size(); ++i) {
    const gdoi_payload& p = m.payloads[i];
    s += (i ? ", " : "") + num(payload_type_of(p));
    if (const auto* sa = std::get_if<sa_payload>(&p)) {
      if (sa->kek) {
        details += ", \"kek\": " + kek_json(*sa->kek);
      }
      details += ", \"teks\": [";
      for (std::size_t j = 0; j < sa->teks.size(); ++j) {
        details += (j ? ", " : "") + tek_json(sa->teks[j]);
      }
      details += "]";
      details += std::string(", \"sa_gap\": ") + (sa->gap ? gap_json(*sa->gap) : "null");
    } else if (const auto* kd = std::get_if<kd_payload>(&p)) {
      details += ", \"kd\": [";
      for (std::size_t j = 0; j < kd->packets.size(); ++j) {
        details += (j ? ", " : "") + key_packet_json(kd->packets[j]);
      }
      details += "]";
    } else if (const auto* seq = std::get_if<seq_payload>(&p)) {
      details += ", \"seq\": " + num(seq->seq);
    } else if (const auto* id = std::get_if<id_payload>(&p)) {
      details += ", \"id\": {\"type\": " + num(id->id_type) + ", \"data\": " + hex(id->data) +
                 ", \"group\": " + num(id->group_number().value_or(0)) + "}";
    } else if (const auto* g = std::get_if<gap_payload>(&p)) {
      details += ", \"gap\": " + gap_json(*g);
    } else if (const auto* h = std::get_if<hash_payload>(&p)) {
      details += ", \"hash\": " + hex(h->data);
    } else if (const auto* n = std::get_if<nonce_payload>(&p)) {
      details += ", \"nonce\": " + hex(n->data);
    } else if (const auto* sig = std::get_if<sig_payload>(&p)) {
      details += ", \"sig\": " + hex(sig->data);
    } else if (const auto* d = std::get_if<delete_payload>(&p)) {
      details += ", \"delete\": {\"doi\": " + num(d->doi) +
                 ", \"protocol_id\": " + num(d->protocol_id) + ", \"spis\": [";
      for (std::size_t j = 0; j < d->spis.size(); ++j) {
        details += (j ? ", " : "") + hex(d->spis[j]);
      }
      details += "]}";
    }
  }
  return s + "]" + details + "}";
}

bool write_file(const std::string& path, const void* data, std::size_t n) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || std::fwrite(data, 1, n, f) != n || std::fclose(f) != 0) {
    std::perror(path.c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const std::vector<std::pair<std::string, gdoi_message>> msgs = {
      {"pull_1", samples::pull_1()},
      {"pull_2", samples::pull_2()},
      {"pull_3", samples::pull_3()},
      {"pull_4", samples::pull_4()},
      {"pull_4_chain", samples::pull_4_chain()},
      {"push", samples::push()},
  };
  std::string json = "[\n";
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    const auto& [name, m] = msgs[i];
    auto enc = encode_message(m);
    if (!enc) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(), describe(enc.error()).c_str());
      return 1;
    }
    if (!write_file(dir + "/" + name + ".bin", enc->data(), enc->size())) {
      return 1;
    }
    json += "  " + message_json(name, m) + (i + 1 < msgs.size() ? ",\n" : "\n");
  }
  json += "]\n";
  return write_file(dir + "/expected.json", json.data(), json.size()) ? 0 : 1;
}
