#include "classifier/acl_table.h"

#include <atomic>
#include <cstring>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "dataplane/burst.h"

namespace gm::classifier {

namespace {

// The lookup key built from each packet: every field at a fixed place whatever the IP
// header length, in network order, laid out in the 4-byte groups rte_acl reads.
struct key {
  uint8_t proto;
  uint8_t pad[3];
  uint32_t src;
  uint32_t dst;
  uint16_t sport;
  uint16_t dport;
};
static_assert(sizeof(key) == 16);

enum field : uint8_t { f_proto, f_src, f_dst, f_sport, f_dport, f_count };

const rte_acl_field_def field_defs[f_count] = {
    {RTE_ACL_FIELD_TYPE_BITMASK, 1, f_proto, 0, offsetof(key, proto)},
    {RTE_ACL_FIELD_TYPE_MASK, 4, f_src, 1, offsetof(key, src)},
    {RTE_ACL_FIELD_TYPE_MASK, 4, f_dst, 2, offsetof(key, dst)},
    {RTE_ACL_FIELD_TYPE_RANGE, 2, f_sport, 3, offsetof(key, sport)},
    {RTE_ACL_FIELD_TYPE_RANGE, 2, f_dport, 3, offsetof(key, dport)},
};

RTE_ACL_RULE_DEF(acl_rule, f_count);

void fill_rule(acl_rule& r, const ace& a, int32_t priority) {
  std::memset(&r, 0, sizeof(r));
  r.data.category_mask = 1;
  r.data.priority = priority;
  r.data.userdata = result::make(a.act, a.sa_index);
  r.field[f_proto].value.u8 = a.proto;
  r.field[f_proto].mask_range.u8 = a.proto == 0 ? 0 : 0xff;
  r.field[f_src].value.u32 = a.src.addr;
  r.field[f_src].mask_range.u32 = a.src.len;
  r.field[f_dst].value.u32 = a.dst.addr;
  r.field[f_dst].mask_range.u32 = a.dst.len;
  r.field[f_sport].value.u16 = a.sport.lo;
  r.field[f_sport].mask_range.u16 = a.sport.hi;
  r.field[f_dport].value.u16 = a.dport.lo;
  r.field[f_dport].mask_range.u16 = a.dport.hi;
}

bool make_key(const rte_mbuf* m, key& k, bool mirror) {
  const uint32_t len = rte_pktmbuf_data_len(m);
  if (len < sizeof(rte_ipv4_hdr)) {
    return false;
  }
  const auto* ip = rte_pktmbuf_mtod(m, const rte_ipv4_hdr*);
  const uint32_t ihl = (ip->version_ihl & 0xf) * 4u;
  if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(rte_ipv4_hdr) || ihl > len) {
    return false;
  }
  k = {};
  k.proto = ip->next_proto_id;
  k.src = ip->src_addr;
  k.dst = ip->dst_addr;
  // Ports only for the first fragment of TCP/UDP with the ports present; later fragments
  // match port-less (port 0) like a router without fragment reassembly would.
  const bool first_frag =
      (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK)) == 0;
  if ((k.proto == 6 || k.proto == 17) && first_frag && ihl + 4 <= len) {
    const auto* ports = rte_pktmbuf_mtod_offset(m, const uint16_t*, ihl);
    k.sport = ports[0];
    k.dport = ports[1];
  }
  if (mirror) {
    std::swap(k.src, k.dst);
    std::swap(k.sport, k.dport);
  }
  return true;
}

std::atomic<uint32_t> g_table_serial{0};  // rte_acl contexts need unique names

}  // namespace

std::unique_ptr<acl_table> acl_table::build(const policy& p, std::string& error, action no_match) {
  std::unique_ptr<acl_table> t(new acl_table());
  t->_no_match = result::make(no_match, 0);
  const std::size_t total = p.local.size() + p.ks.size();
  t->_rules = total;
  if (total == 0) {
    return t;  // classify() answers no_match for everything
  }
  if (total > RTE_ACL_MAX_PRIORITY - 1) {
    error = "policy has " + std::to_string(total) + " entries; at most " +
            std::to_string(RTE_ACL_MAX_PRIORITY - 1) + " are supported";
    return nullptr;
  }
  const std::string name = "gm_acl_" + std::to_string(g_table_serial++);
  rte_acl_param param{};
  param.name = name.c_str();
  param.socket_id = SOCKET_ID_ANY;
  param.rule_size = RTE_ACL_RULE_SZ(f_count);
  param.max_rule_num = static_cast<uint32_t>(total);
  t->_ctx = rte_acl_create(&param);
  if (t->_ctx == nullptr) {
    error = "rte_acl_create failed: " + std::string(rte_strerror(rte_errno));
    return nullptr;
  }
  std::vector<acl_rule> rules(total);
  std::size_t i = 0;
  // Earlier entries get higher priority: first match wins, local before KS.
  for (const auto* list : {&p.local, &p.ks}) {
    for (const ace& a : *list) {
      fill_rule(rules[i], a, static_cast<int32_t>(total - i));
      ++i;
    }
  }
  if (rte_acl_add_rules(t->_ctx, reinterpret_cast<const rte_acl_rule*>(rules.data()),
                        static_cast<uint32_t>(total)) != 0) {
    error = "rte_acl_add_rules failed";
    return nullptr;
  }
  rte_acl_config cfg{};
  cfg.num_categories = 1;
  cfg.num_fields = f_count;
  std::memcpy(cfg.defs, field_defs, sizeof(field_defs));
  if (int rc = rte_acl_build(t->_ctx, &cfg); rc != 0) {
    error = "rte_acl_build failed: " + std::string(rte_strerror(-rc));
    return nullptr;
  }
  return t;
}

acl_table::~acl_table() {
  if (_ctx != nullptr) {
    rte_acl_free(_ctx);
  }
}

void acl_table::classify(rte_mbuf* const* pkts, uint16_t n, uint32_t* results, bool mirror) const {
  key keys[max_burst];
  const uint8_t* data[max_burst];
  uint16_t idx[max_burst];
  for (uint16_t off = 0; off < n; off += max_burst) {
    const uint16_t len = static_cast<uint16_t>(n - off < max_burst ? n - off : max_burst);
    uint16_t nk = 0;
    for (uint16_t i = 0; i < len; ++i) {
      if (!make_key(pkts[off + i], keys[nk], mirror)) [[unlikely]] {
        results[off + i] = result::make(action::discard, 0);
        continue;
      }
      data[nk] = reinterpret_cast<const uint8_t*>(&keys[nk]);
      idx[nk++] = static_cast<uint16_t>(off + i);
    }
    uint32_t found[max_burst];
    if (_ctx != nullptr && nk > 0) {
      rte_acl_classify(_ctx, data, found, nk, 1);
    } else {
      std::memset(found, 0, sizeof(found));
    }
    for (uint16_t j = 0; j < nk; ++j) {
      results[idx[j]] = found[j] != 0 ? found[j] : _no_match;
    }
  }
}

}  // namespace gm::classifier
