// libFuzzer target for the inbound ESP path. The first input byte picks a transform and
// a mode: raw bytes straight into esp_decrypt_burst (outer header, lengths, SPI), or the
// rest of the input encrypted validly first, so the fuzzer reaches what lies behind the
// ICV (padding, next header, TBAR metadata, inner header) too.
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <rte_eal.h>
#include <rte_esp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "crypto/esp_decrypt.h"
#include "crypto/esp_encrypt.h"
#include "dataplane/pkt_meta.h"
#include "tests/esp_seal.h"

namespace {

using namespace gm::crypto;
namespace test = gm::test;

struct world {
  rte_mempool* pool;
  std::unique_ptr<esp_lcore> lc;
  std::unique_ptr<esp_sa> sas[transform_count];
  sa_table table;
};

world* g_world = nullptr;

world* make_world() {
  std::string prefix = "--file-prefix=gmfuzz-" + std::to_string(getpid());
  std::vector<std::string> args = {"fuzz", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
                                   prefix, "-l", "0", "--log-level=*:crit", "--no-telemetry"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0 || !gm::pkt_meta_register()) {
    abort();
  }
  auto* w = new world();
  w->pool = rte_pktmbuf_pool_create("fuzz", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  w->lc = esp_lcore::create(7, 0);
  if (w->pool == nullptr || !w->lc) abort();
  for (std::size_t i = 0; i < transform_count; ++i) {
    const transform_info& t = transform_table[i];
    std::vector<uint8_t> ck(std::size_t{t.key_len} + t.salt_len, static_cast<uint8_t>(i + 1));
    std::vector<uint8_t> ak(t.auth_key_len, static_cast<uint8_t>(0x40 + i));
    w->sas[i] = std::make_unique<esp_sa>();
    w->sas[i]->keys.init(w->lc->crypto().mgr(), t.id, ck, ak);
    w->sas[i]->spi = 0x100 + static_cast<uint32_t>(i);
    w->sas[i]->slot = static_cast<uint16_t>(i);
    w->table.sas[i] = w->sas[i].get();
  }
  w->table.count = transform_count;
  return w;
}

// Lays out IPv4 | ESP(spi) | IV | fuzz payload | ICV and encrypts it with the SA's keys.
std::vector<uint8_t> valid_esp(world& w, const esp_sa& sa, const uint8_t* data, size_t size) {
  const transform_info& t = info(sa.keys.xf);
  size_t ct = size / t.block * t.block;
  if (ct == 0) ct = t.block;
  std::vector<uint8_t> pkt(20 + 8 + t.iv_len + ct + t.icv_len, 0);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(pkt.data());
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(pkt.size()));
  ip->next_proto_id = 50;
  uint8_t* esp = pkt.data() + 20;
  reinterpret_cast<rte_esp_hdr*>(esp)->spi = rte_cpu_to_be_32(sa.spi);
  std::memcpy(esp + 8 + t.iv_len, data, size < ct ? size : ct);
  test::seal_esp(w.lc->crypto(), sa, esp, static_cast<uint32_t>(ct));
  return pkt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (g_world == nullptr) g_world = make_world();
  world& w = *g_world;
  if (size < 1 || size > 4000) return 0;
  const uint8_t sel = data[0];
  const esp_sa& sa = *w.sas[(sel >> 1) % transform_count];
  std::vector<uint8_t> pkt = (sel & 1) ? valid_esp(w, sa, data + 1, size - 1)
                                       : std::vector<uint8_t>(data + 1, data + size);
  rte_mbuf* m = rte_pktmbuf_alloc(w.pool);
  if (pkt.size() > rte_pktmbuf_tailroom(m)) {
    rte_pktmbuf_free(m);
    return 0;
  }
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(pkt.size())), pkt.data(), pkt.size());
  rte_mbuf* pkts[1] = {m};
  if (esp_decrypt_burst(*w.lc, w.table.lookup(), pkts, 1) == 1) {
    // A packet the engine accepts must be an inner IPv4 packet whose length it checked;
    // encrypting it again must succeed.
    const auto* in = rte_pktmbuf_mtod(m, const rte_ipv4_hdr*);
    if (rte_pktmbuf_data_len(m) != rte_be_to_cpu_16(in->total_length)) abort();
    if (esp_encrypt_burst(*w.lc, sa, pkts, 1, 1) != 1 &&
        gm::meta(m)->reason != gm::drop_reason::no_headroom &&
        gm::meta(m)->reason != gm::drop_reason::no_tailroom) {
      abort();
    }
  }
  rte_pktmbuf_free(m);
  if (rte_mempool_avail_count(w.pool) != 255) abort();  // nothing leaked
  return 0;
}
