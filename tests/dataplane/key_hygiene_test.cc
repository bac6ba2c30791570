// Key hygiene of the data plane: SA key material is wiped when an SA dies (sa_del, flush,
// shutdown), only once no worker can still use it; a control message's keys do not linger
// in the shared-memory ring slot it travelled in; config files with keys must not be
// world-readable; errors never echo key bytes.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "crypto/crypto_ctx.h"
#include "dataplane/config.h"
#include "dataplane/ctrl_ring.h"
#include "dataplane/group_control.h"
#include "tests/test_eal.h"

namespace gm::dataplane {
namespace {

// AES-128 round key 0 is the key itself, so a live SA holds these bytes verbatim.
constexpr std::array<uint8_t, 16> key_pattern = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                                                 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};

bool contains(const uint8_t* p, std::size_t n, const uint8_t* pat, std::size_t m) {
  return std::search(p, p + n, pat, pat + m) != p + n;
}

// What each dying sa_keys looked like after its destructor wiped it.
struct death_record {
  bool key_pattern_left;
  bool all_key_fields_zero;
};
std::vector<death_record> g_deaths;

void record_death(const crypto::sa_keys& k) {
  const auto* p = reinterpret_cast<const uint8_t*>(&k);
  bool zero = true;
  const auto all_zero = [](const void* q, std::size_t n) {
    const auto* b = static_cast<const uint8_t*>(q);
    return std::all_of(b, b + n, [](uint8_t x) { return x == 0; });
  };
  // The union's largest member covers every cipher's schedule.
  static_assert(sizeof(k.gcm) >= sizeof(k.aes) && sizeof(k.gcm) >= sizeof(k.des));
  zero = all_zero(&k.gcm, sizeof(k.gcm)) && all_zero(k.ipad, sizeof(k.ipad)) &&
         all_zero(k.opad, sizeof(k.opad)) && all_zero(k.salt, sizeof(k.salt));
  g_deaths.push_back({contains(p, sizeof(k), key_pattern.data(), key_pattern.size()), zero});
}

ctrl::msg sa_add(uint32_t spi) {
  ctrl::msg m{};
  m.type = ctrl::msg_type::sa_add;
  m.version = ctrl::msg_version;
  m.u.sa_add.spi = spi;
  m.u.sa_add.transform = static_cast<uint8_t>(crypto::transform_id::aes_cbc_128_sha1);
  m.u.sa_add.key_len = 16;
  std::memcpy(m.u.sa_add.key, key_pattern.data(), 16);
  m.u.sa_add.auth_key_len = 20;
  std::memset(m.u.sa_add.auth_key, 0x5c, 20);
  return m;
}

ctrl::msg by_spi(ctrl::msg_type t, uint32_t spi) {
  ctrl::msg m{};
  m.type = t;
  m.version = ctrl::msg_version;
  m.u.spi.spi = spi;
  return m;
}

class key_hygiene : public ::testing::Test {
 protected:
  void SetUp() override {
    g_deaths.clear();
    crypto::sa_keys_destroyed_hook = record_death;
    enabled.fill(true);
    ctx = crypto::crypto_ctx::create();
    ASSERT_TRUE(ctx);
  }
  void TearDown() override { crypto::sa_keys_destroyed_hook = nullptr; }

  static bool live_sa_holds_key(const snapshot<group_state>& s, uint32_t spi) {
    const group_state* gs = s.read();
    const crypto::esp_sa* sa = gs->inbound.find(&gs->inbound, spi);
    return sa != nullptr && contains(reinterpret_cast<const uint8_t*>(&sa->keys),
                                     sizeof(sa->keys), key_pattern.data(), key_pattern.size());
  }

  std::array<bool, crypto::transform_count> enabled{};
  std::unique_ptr<crypto::crypto_ctx> ctx;
  config cfg;
};

TEST_F(key_hygiene, sa_del_wipes_the_keys_once_no_worker_can_see_the_sa) {
  snapshot<group_state> state(1);
  group_control gc(state, ctx->mgr(), enabled, cfg);
  state.worker_online(0);
  ASSERT_EQ(gc.apply(sa_add(0x3000), 0).u.ack.status, 0);
  ASSERT_TRUE(live_sa_holds_key(state, 0x3000)) << "the pattern search must see a live key";
  state.quiescent(0);
  ASSERT_EQ(gc.apply(by_spi(ctrl::msg_type::sa_del, 0x3000), 0).u.ack.status, 0);
  // Worker 0 may still hold the old snapshot: the SA, keys intact, lives on.
  EXPECT_TRUE(g_deaths.empty());
  state.quiescent(0);
  state.reclaim();
  ASSERT_EQ(g_deaths.size(), 1u);
  EXPECT_TRUE(g_deaths[0].all_key_fields_zero);
  EXPECT_FALSE(g_deaths[0].key_pattern_left);
  state.worker_offline(0);
}

TEST_F(key_hygiene, flush_wipes_every_sa) {
  snapshot<group_state> state(1);
  group_control gc(state, ctx->mgr(), enabled, cfg);
  for (uint32_t spi : {0x3000u, 0x3001u, 0x3002u}) {
    ASSERT_EQ(gc.apply(sa_add(spi), 0).u.ack.status, 0);
  }
  ctrl::msg flush{};
  flush.type = ctrl::msg_type::flush;
  flush.version = ctrl::msg_version;
  ASSERT_EQ(gc.apply(flush, 0).u.ack.status, 0);
  state.reclaim();  // no worker registered: every retired snapshot goes at once
  ASSERT_EQ(g_deaths.size(), 3u);
  for (const auto& d : g_deaths) {
    EXPECT_TRUE(d.all_key_fields_zero);
    EXPECT_FALSE(d.key_pattern_left);
  }
}

TEST_F(key_hygiene, shutdown_wipes_every_sa_still_installed) {
  {
    snapshot<group_state> state(1);
    group_control gc(state, ctx->mgr(), enabled, cfg);
    ASSERT_EQ(gc.apply(sa_add(0x3000), 0).u.ack.status, 0);
    ASSERT_EQ(gc.apply(sa_add(0x3001), 0).u.ack.status, 0);
    ASSERT_EQ(gc.apply(by_spi(ctrl::msg_type::sa_activate_outbound, 0x3001), 0).u.ack.status,
              0);
    EXPECT_TRUE(g_deaths.empty());
  }  // gm-dataplane's main() leaves the same scope on exit (SIGINT/SIGTERM included)
  ASSERT_EQ(g_deaths.size(), 2u);
  for (const auto& d : g_deaths) {
    EXPECT_TRUE(d.all_key_fields_zero);
    EXPECT_FALSE(d.key_pattern_left);
  }
}

TEST_F(key_hygiene, a_consumed_control_message_leaves_no_key_in_the_ring_or_the_copy) {
  std::string err;
  const ctrl::rings r = ctrl::rings::create("khyg", err);
  ASSERT_TRUE(err.empty()) << err;
  const auto* ring_mem = reinterpret_cast<const uint8_t*>(r.to_dp);
  const std::size_t ring_len = static_cast<std::size_t>(rte_ring_get_memsize_elem(
      sizeof(ctrl::msg), rte_ring_get_capacity(r.to_dp) + 1));
  ASSERT_TRUE(r.send_to_dp(sa_add(0x3000)));
  ASSERT_TRUE(contains(ring_mem, ring_len, key_pattern.data(), 16))
      << "the search must find a queued key";
  ctrl::msg m;
  ASSERT_TRUE(r.recv_at_dp(m));
  EXPECT_EQ(std::memcmp(m.u.sa_add.key, key_pattern.data(), 16), 0);
  EXPECT_FALSE(contains(ring_mem, ring_len, key_pattern.data(), 16))
      << "the ring slot still holds the key after the message was consumed";
  m.wipe();  // as gm-dataplane's main loop does after apply()
  EXPECT_FALSE(contains(reinterpret_cast<const uint8_t*>(&m), sizeof(m), key_pattern.data(), 16));
  rte_ring_free(r.to_dp);
  rte_ring_free(r.from_dp);
  rte_ring_free(r.events);
}

TEST_F(key_hygiene, errors_about_keys_never_echo_the_key) {
  snapshot<group_state> state(1);
  group_control gc(state, ctx->mgr(), enabled, cfg);
  ctrl::msg bad = sa_add(0x3000);
  bad.u.sa_add.key_len = 15;
  const ctrl::msg ack = gc.apply(bad, 0);
  EXPECT_NE(ack.u.ack.status, 0);
  EXPECT_NE(std::string(ack.u.ack.text).find("key length"), std::string::npos);
  EXPECT_EQ(std::string(ack.u.ack.text).find("a0a1"), std::string::npos);
  EXPECT_FALSE(contains(reinterpret_cast<const uint8_t*>(ack.u.ack.text), sizeof(ack.u.ack.text),
                        key_pattern.data(), 4));

  std::string err;
  const std::string yaml =
      "lan: {dev: a, next_hop_mac: '02:00:00:00:00:01'}\n"
      "wan: {dev: b, next_hop_mac: '02:00:00:00:00:02'}\n"
      "static_group:\n  transform: aes-gcm-128\n  spi: 0x10\n"
      "  key: 'a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2'\n  acl: ['permit ip any any']\n";
  EXPECT_FALSE(parse_config(yaml, "k.yaml", err));
  EXPECT_NE(err.find("static_group.key"), std::string::npos) << err;
  EXPECT_EQ(err.find("a0a1"), std::string::npos) << err;
}

TEST_F(key_hygiene, a_world_readable_config_with_keys_is_refused) {
  const std::string path = testing::TempDir() + "kh-" + std::to_string(getpid()) + ".yaml";
  {
    std::ofstream f(path);
    f << "lan: {dev: a, next_hop_mac: '02:00:00:00:00:01'}\n"
         "wan: {dev: b, next_hop_mac: '02:00:00:00:00:02'}\n"
         "static_group:\n  transform: aes-gcm-128\n  spi: 0x10\n"
         "  key: 'a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3'\n  acl: ['permit ip any any']\n";
  }
  std::string err;
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  EXPECT_FALSE(load_config(path, err));
  EXPECT_NE(err.find(path + ":6: static_group.key: the file is world-readable"), std::string::npos)
      << err;
  ASSERT_EQ(chmod(path.c_str(), 0640), 0);  // group-readable (an operator group) is allowed
  err.clear();
  EXPECT_TRUE(load_config(path, err)) << err;
  ASSERT_EQ(chmod(path.c_str(), 0604), 0);
  EXPECT_FALSE(load_config(path, err));
  unlink(path.c_str());
}

}  // namespace
}  // namespace gm::dataplane
