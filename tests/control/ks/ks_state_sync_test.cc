// The shared key-state file of ks_state_sync.h: round trip, refusals, file mode.
#include "control/ks/ks_state_sync.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace gm::control::ks {
namespace {

ks_shared_state sample() {
  ks_shared_state s;
  s.writer_addr = 0x0a630001;
  s.version = 42;
  s.heartbeat_mono_ms = 123456789;
  s.group_id = 1234;
  s.public_key_hash = bytes(32, 0xab);
  s.pseudotime_ms = 98765;
  s.seq = 17;
  for (std::size_t i = 0; i < s.kek.spi.size(); ++i) s.kek.spi[i] = static_cast<uint8_t>(i);
  s.kek.alg = kek_alg::aes;
  s.kek.key = key_bytes(16, 0x11);
  s.kek.iv = bytes(16, 0x22);
  s.kek.sig_hash = ike::hash_alg::sha256;
  s.kek.ack_type = kek_ack_type::kek_sha256;
  s.kek.remaining_ms = 3600000;
  s.teks.push_back({0x1000, key_bytes(20, 0x33), key_bytes{}, 500});
  s.teks.push_back({0x2000, key_bytes(16, 0x44), key_bytes(20, 0x55), 900000});
  s.sids = {{0x0a630002, 1}, {0x0a630003, 2}};
  s.next_sid = 3;
  s.members = {{0x0a630002, 848}, {0x0a630003, 848}};
  return s;
}

TEST(KsStateSync, RoundTripKeepsEveryField) {
  const ks_shared_state s = sample();
  std::string err;
  auto p = parse_state(format_state(s), err);
  ASSERT_TRUE(p) << err;
  EXPECT_EQ(p->writer_addr, s.writer_addr);
  EXPECT_EQ(p->version, 42u);
  EXPECT_EQ(p->heartbeat_mono_ms, s.heartbeat_mono_ms);
  EXPECT_EQ(p->group_id, 1234u);
  EXPECT_EQ(p->public_key_hash, s.public_key_hash);
  EXPECT_EQ(p->pseudotime_ms, s.pseudotime_ms);
  EXPECT_EQ(p->seq, 17u);
  EXPECT_EQ(p->kek.spi, s.kek.spi);
  EXPECT_EQ(p->kek.key, s.kek.key);
  EXPECT_EQ(p->kek.iv, s.kek.iv);
  EXPECT_EQ(p->kek.ack_type, kek_ack_type::kek_sha256);
  EXPECT_EQ(p->kek.remaining_ms, 3600000u);
  ASSERT_EQ(p->teks.size(), 2u);
  EXPECT_EQ(p->teks[0].spi, 0x1000u);
  EXPECT_EQ(p->teks[0].alg_key, s.teks[0].alg_key);
  EXPECT_TRUE(p->teks[0].integrity_key.empty());
  EXPECT_EQ(p->teks[1].integrity_key, s.teks[1].integrity_key);
  EXPECT_EQ(p->sids, s.sids);
  EXPECT_EQ(p->next_sid, 3u);
  ASSERT_EQ(p->members.size(), 2u);
  EXPECT_EQ(p->members[1].addr, 0x0a630003u);
  EXPECT_EQ(p->members[1].port, 848);
}

TEST(KsStateSync, RefusesWhatDoesNotFit) {
  std::string text = format_state(sample());
  std::string err;
  // Cut anywhere before the end line: refused (a half-written file is never taken).
  for (std::size_t cut = 0; cut + 4 < text.size(); cut += 7) {
    EXPECT_FALSE(parse_state(std::string_view(text).substr(0, cut), err)) << cut;
  }
  EXPECT_FALSE(parse_state("gm-ks-state 2\nend\n", err));
  std::string bad = text;
  bad.replace(bad.find("tek 4096 "), 9, "tek 4096 zz");
  EXPECT_FALSE(parse_state(bad, err));
  EXPECT_NE(err.find("line"), std::string::npos);
  std::string unknown = text;
  unknown.insert(unknown.find("end\n"), "surprise 1\n");
  EXPECT_FALSE(parse_state(unknown, err));
  EXPECT_NE(err.find("unknown line"), std::string::npos);
}

TEST(KsStateSync, FileIsPrivateAndAtomic) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("ks_state_sync_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "state").string();
  std::string err;
  ASSERT_TRUE(write_state_file(path, sample(), err)) << err;
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  auto back = read_state_file(path, err);
  ASSERT_TRUE(back) << err;
  EXPECT_EQ(back->seq, 17u);
  chmod(path.c_str(), 0644);
  EXPECT_FALSE(read_state_file(path, err));
  EXPECT_NE(err.find("chmod 600"), std::string::npos);
  EXPECT_FALSE(read_state_file((dir / "missing").string(), err));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace gm::control::ks
