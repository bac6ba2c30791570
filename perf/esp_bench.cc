// gm-esp-bench: the ESP engine's crypto stage on one core, held against a raw ipsec-mb loop
// for the same cipher+auth and buffer size, measured in the same run (interleaved
// repetitions, so host drift hits both alike).
//
// Sizes are the cleartext Ethernet frame, FCS excluded, as in shared/bench: the engine sees
// the inner IPv4/UDP packet of size-14 bytes (built like secgw-anchor/gen_pcap.py), the raw
// loop a flat buffer of the frame size rounded up to the cipher block (crypto-anchor.sh).
// Decrypt input is the same frames ESP-encrypted by our engine. Each burst's inputs are
// restored outside the timed region (both sides copy the same bytes), then only the burst
// call is timed: TSC cycles, rte_rdtsc_precise() on both ends.
//
//   gm-esp-bench [--seconds S] [--reps N] [--json PATH] [--anchor crypto-anchor.json]
//                [--transforms a,b] [--sizes 64,512,1420,imix] [--dir encrypt|decrypt|both]
//                [--burst 32] [--pkts 1024] [--lcore N] [--tbar] [--raw-api job|burst|direct]
//                [--slices 8] [--no-huge]
//
// EAL: one lcore, no PCI, its own --file-prefix; 2 MB hugepages with --in-memory when
// hugetlbfs is mounted with enough free pages, else --no-huge --no-shconf.
// Each repetition alternates ours and raw in --slices short slices; the ratio printed is
// the median over repetitions of ours/raw within the same repetition.
#include <alloca.h>
#include <getopt.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "crypto/des3_cbc.h"
#include "crypto/esp_decrypt.h"
#include "crypto/esp_encrypt.h"
#include "crypto/esp_lcore.h"
#include "crypto/esp_sa.h"
#include "crypto/transform.h"
#include "dataplane/pkt_meta.h"

namespace gm::perf {
namespace {

using crypto::direction;
using crypto::transform_id;

struct options {
  double seconds = 0.08;  // timed seconds per repetition per measurement
  int reps = 5;
  int slices = 8;  // ours/raw alternations within one repetition
  std::string json = "perf-results.json";
  std::string anchor;  // crypto-anchor.sh JSON, optional
  std::vector<transform_id> transforms;
  std::vector<int> sizes = {64, 512, 1420, 0};  // 0 = IMIX
  bool encrypt = true;
  bool decrypt = true;
  uint16_t burst = 32;
  uint32_t pkts = 1024;  // working set
  int lcore = -1;        // -1: core 1 if there are two (crypto-anchor.sh's worker lcore), else 0
  bool tbar = false;
  bool raw_burst_api = false;
  bool raw_direct_api = false;  // GCM only; other transforms keep the job API
};

// --- the keys secgw-anchor/gen_pcap.py uses, so that figures line up with its runs --------
struct key_material {
  std::vector<uint8_t> cipher;  // key||salt for GCM
  std::vector<uint8_t> auth;
};

std::vector<uint8_t> hex(const char* s) {
  std::vector<uint8_t> out;
  for (std::size_t i = 0; s[i] != 0 && s[i + 1] != 0; i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(s + i, 2), nullptr, 16)));
  }
  return out;
}

key_material keys_for(transform_id id) {
  const crypto::transform_info& t = crypto::info(id);
  key_material k;
  switch (id) {
    case transform_id::aes_gcm_128:
      k.cipher = hex("2b7e151628aed2a6abf7158809cf4f3cdeadbeef");
      break;
    case transform_id::aes_cbc_128_sha1:
    case transform_id::aes_cbc_128_sha256:
      k.cipher = hex("2b7e151628aed2a6abf7158809cf4f3c");
      break;
    case transform_id::des3_cbc_sha1:
      k.cipher = hex("0123456789abcdeff1e0d3c2b5a49786fedcba9876543210");
      break;
    default:
      for (uint32_t i = 0; i < t.key_len + t.salt_len; ++i) {
        k.cipher.push_back(static_cast<uint8_t>(0x11 * (i + 1)));
      }
      break;
  }
  for (uint32_t i = 0; i < t.auth_key_len; ++i) {
    k.auth.push_back(static_cast<uint8_t>(i + 1));  // 0102..14 for SHA-1, as gen_pcap.py
  }
  return k;
}

// --- frames ------------------------------------------------------------------------------
/// The inner IPv4/UDP packet of flow `i`, total length `ip_len` (gen_pcap.py's inner()).
std::vector<uint8_t> inner_packet(uint32_t i, uint32_t ip_len) {
  std::vector<uint8_t> p(ip_len, 0xa5);
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(p.data());
  ip->version_ihl = RTE_IPV4_VHL_DEF;
  ip->type_of_service = 0;
  ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(ip_len));
  ip->packet_id = rte_cpu_to_be_16(1);
  ip->fragment_offset = 0;
  ip->time_to_live = 64;
  ip->next_proto_id = 17;
  ip->src_addr = rte_cpu_to_be_32((10u << 24) | (1u << 16) | ((i / 250) << 8) | (1 + i % 250));
  ip->dst_addr = rte_cpu_to_be_32((192u << 24) | (168u << 16) | (1u << 8) | (1 + i % 250));
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  auto* udp = reinterpret_cast<rte_udp_hdr*>(ip + 1);
  udp->src_port = rte_cpu_to_be_16(static_cast<uint16_t>(1024 + i % 60000));
  udp->dst_port = rte_cpu_to_be_16(5001);
  udp->dgram_len = rte_cpu_to_be_16(static_cast<uint16_t>(ip_len - 20));
  udp->dgram_cksum = 0;
  udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
  return p;
}

/// Frame sizes of the working set: one size, or IMIX 7:4:1 of 64/594/1518 in a fixed
/// shuffled order.
std::vector<uint32_t> frame_sizes(int size, uint32_t n) {
  std::vector<uint32_t> s(n, static_cast<uint32_t>(size));
  if (size == 0) {
    static constexpr uint32_t pattern[12] = {64, 64, 64, 64, 64, 64, 64, 594, 594, 594, 594, 1518};
    for (uint32_t i = 0; i < n; ++i) {
      s[i] = pattern[i % 12];
    }
    std::mt19937 rng(42);
    std::shuffle(s.begin(), s.end(), rng);
  }
  return s;
}

std::string size_name(int size) { return size == 0 ? "imix" : std::to_string(size); }

// --- timing ------------------------------------------------------------------------------
double measure_tsc_hz() {
  using clk = std::chrono::steady_clock;
  const auto t0 = clk::now();
  const uint64_t c0 = rte_rdtsc_precise();
  while (clk::now() - t0 < std::chrono::milliseconds(200)) {
  }
  const uint64_t c1 = rte_rdtsc_precise();
  const auto t1 = clk::now();
  return static_cast<double>(c1 - c0) / std::chrono::duration<double>(t1 - t0).count();
}

struct sample {
  double cycles_per_pkt;
  double mpps;
  double gbps;
};

struct stats {
  double median, min, max;
};

stats summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  const double med = n % 2 != 0 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return {med, v.front(), v.back()};
}

/// One workload over a working set of packets, taken a burst at a time: restore() puts the
/// burst's inputs back (untimed, and it leaves them warm in cache as a packet that rx and
/// the classifier just touched would be), burst() runs the stage on it (timed).
struct workload {
  virtual ~workload() = default;
  virtual void restore(std::size_t off, uint16_t n) = 0;
  virtual bool burst(std::size_t off, uint16_t n) = 0;  // false: a drop or a job error
  std::size_t pkts = 0;               // working set
  std::size_t cursor = 0;             // next packet run_slice() takes
  std::vector<uint32_t> frame_bytes;  // cleartext frame size of each packet
};

struct tally {
  uint64_t cycles = 0, pkts = 0, bits = 0;

  sample result(double tsc_hz) const {
    const double secs = static_cast<double>(cycles) / tsc_hz;
    return {static_cast<double>(cycles) / static_cast<double>(pkts),
            static_cast<double>(pkts) / secs / 1e6, static_cast<double>(bits) / secs / 1e9};
  }
};

/// Runs bursts, walking the working set round and round from where the last call stopped,
/// until `target` timed cycles were added to `t`.
[[gnu::noinline]] bool run_slice_here(workload& w, uint16_t burst, uint64_t target, tally& t) {
  uint64_t cycles = 0;
  while (cycles < target) {
    if (w.cursor >= w.pkts) {
      w.cursor = 0;
    }
    const std::size_t off = w.cursor;
    const auto k = static_cast<uint16_t>(std::min<std::size_t>(burst, w.pkts - off));
    w.restore(off, k);
    const uint64_t t0 = rte_rdtsc_precise();  // also drains restore()'s stores
    const bool ok = w.burst(off, k);
    const uint64_t t1 = rte_rdtsc_precise();
    if (!ok) {
      return false;
    }
    cycles += t1 - t0;
    t.pkts += k;
    for (uint16_t i = 0; i < k; ++i) {
      t.bits += w.frame_bytes[off + i] * 8ull;
    }
    w.cursor = off + k;
  }
  t.cycles += cycles;
  return true;
}

/// run_slice_here() with the stack moved down by a different number of cache lines on
/// each call. The stack's offset within its page is random per run (ASLR) and both
/// ipsec-mb and our stages keep scratch on the stack; with some offsets their loads
/// 4K-alias stores to the packets (our guess at the cause), and whole runs came out up to
/// 40 % slower on one side only (raw GCM 64 B: 88 or 125 cycles, per run). Cycling the
/// offset across slices averages that out, so runs agree.
bool run_slice(workload& w, uint16_t burst, uint64_t target, tally& t) {
  static unsigned call = 0;
  const std::size_t shift = 64 * ((call++ * 23) % 64);
  auto* pad = static_cast<volatile uint8_t*>(alloca(shift + 64));
  pad[0] = 0;
  return run_slice_here(w, burst, target, t);
}

// --- our engine --------------------------------------------------------------------------
struct engine_workload : workload {
  crypto::esp_lcore& lc;
  const crypto::esp_sa& sa;
  crypto::sa_table table;
  direction dir;
  std::vector<rte_mbuf*> mbufs;
  std::vector<rte_mbuf*> work;
  std::vector<std::vector<uint8_t>> inputs;  // what restore() copies into each mbuf
  uint64_t pt_ms = 1;

  engine_workload(crypto::esp_lcore& l, const crypto::esp_sa& s, direction d)
      : lc(l), sa(s), dir(d) {
    table.sas[0] = &sa;
    table.count = 1;
  }
  ~engine_workload() override {
    for (rte_mbuf* m : mbufs) {
      rte_pktmbuf_free(m);
    }
  }

  void restore(std::size_t off, uint16_t n) override {
    for (std::size_t i = off; i < off + n; ++i) {
      rte_mbuf* m = mbufs[i];
      const auto len = static_cast<uint16_t>(inputs[i].size());
      m->data_off = RTE_PKTMBUF_HEADROOM;
      m->data_len = len;
      m->pkt_len = len;
      std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), inputs[i].data(), len);
      work[i] = m;
    }
  }

  bool burst(std::size_t off, uint16_t n) override {
    const uint16_t good = dir == direction::encrypt
                              ? crypto::esp_encrypt_burst(lc, sa, work.data() + off, n, pt_ms)
                              : crypto::esp_decrypt_burst(lc, table.lookup(), work.data() + off, n);
    return good == n;
  }
};

// --- raw ipsec-mb ------------------------------------------------------------------------
/// Flat buffers, in place, cipher and hash over the whole buffer, digest after it; GCM with
/// a 12-byte IV and 8-byte AAD, CBC/3DES with the transform's IV, keys already expanded.
struct raw_workload : workload {
  IMB_MGR* mgr;
  const crypto::sa_keys& keys;
  const crypto::transform_info& t;
  direction dir;
  bool burst_api;
  bool direct_api = false;  // GCM through the direct API (what the engine uses for GCM)
  // 3DES through OpenSSL's DES and ipsec-mb's hash burst, as the engine runs it where
  // ipsec-mb's manager is not AVX-512 (crypto_ctx::des_openssl()).
  bool des_openssl = false;
  IMB_JOB hash_jobs[IMB_MAX_BURST_SIZE] = {};
  gcm_context_data gctx;
  const std::vector<std::vector<uint8_t>>* sources = nullptr;
  std::vector<rte_mbuf*> mbufs;
  std::vector<uint8_t*> bufs;
  std::vector<uint32_t> lens;
  // IV, AAD and decrypt tags live in their own page-aligned block, not in this object on
  // the stack, so that their page offset does not change from run to run with ASLR's
  // stack offset (see run_slice()).
  struct alignas(64) consts {
    uint8_t iv[64];
    uint8_t aad[64];
    uint8_t tags[IMB_MAX_JOBS][32];
  };
  struct free_deleter {
    void operator()(void* p) const { std::free(p); }
  };
  std::unique_ptr<consts, free_deleter> c{static_cast<consts*>(std::aligned_alloc(4096, 4096 * 3))};
  uint8_t* iv = c->iv;
  uint8_t* aad = c->aad;
  uint8_t (*tags)[32] = c->tags;

  raw_workload(IMB_MGR* m, const crypto::sa_keys& k, direction d, bool api)
      : mgr(m), keys(k), t(crypto::info(k.xf)), dir(d), burst_api(api) {
    for (int i = 0; i < 16; ++i) {
      iv[i] = static_cast<uint8_t>(0xc0 + i);
      aad[i] = static_cast<uint8_t>(0xa0 + i);
    }
  }

  /// Buffers are the data areas of mbufs from the engine's pool (same memory, same
  /// offsets as the packets the engine sees), digest after the data as crypto-perf does.
  bool set_buffers(rte_mempool* pool, const std::vector<uint32_t>& frame_sizes) {
    uint32_t max_len = 0;
    for (uint32_t s : frame_sizes) {
      const uint32_t blk = t.cipher == IMB_CIPHER_GCM || t.cipher == IMB_CIPHER_NULL ? 1 : t.block;
      lens.push_back((s + blk - 1) / blk * blk);
      max_len = std::max(max_len, lens.back());
      rte_mbuf* m = rte_pktmbuf_alloc(pool);
      if (m == nullptr || rte_pktmbuf_tailroom(m) < lens.back() + 32) {
        return false;
      }
      mbufs.push_back(m);
      bufs.push_back(rte_pktmbuf_mtod(m, uint8_t*));
    }
    pkts = frame_sizes.size();
    frame_bytes = frame_sizes;
    return true;
  }
  ~raw_workload() override {
    for (rte_mbuf* m : mbufs) {
      rte_pktmbuf_free(m);
    }
  }

  /// Same source bytes as the engine's restore (its inputs), as many as the buffer holds.
  void restore(std::size_t off, uint16_t n) override {
    for (std::size_t i = off; i < off + n; ++i) {
      const std::vector<uint8_t>& in = (*sources)[i];
      std::memcpy(bufs[i], in.data(), std::min<std::size_t>(in.size(), lens[i] + t.icv_len));
    }
  }

  void fill(IMB_JOB* job, uint8_t* buf, uint32_t len, uint8_t* tag) {
    const bool enc = dir == direction::encrypt;
    job->cipher_direction = enc ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
    job->chain_order = enc ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
    job->cipher_mode = t.cipher;
    job->hash_alg = t.hash;
    job->enc_keys = keys.enc_keys;
    job->dec_keys = keys.dec_keys;
    job->key_len_in_bytes = t.key_len;
    job->src = buf;
    job->dst = buf;
    job->cipher_start_src_offset_in_bytes = 0;
    job->msg_len_to_cipher_in_bytes = t.cipher == IMB_CIPHER_NULL ? 0 : len;
    job->hash_start_src_offset_in_bytes = 0;
    job->msg_len_to_hash_in_bytes = len;
    job->iv = iv;
    job->iv_len_in_bytes = t.cipher == IMB_CIPHER_GCM ? 12 : t.iv_len;
    job->auth_tag_output = enc ? buf + len : tag;
    job->auth_tag_output_len_in_bytes = t.icv_len;
    if (t.cipher == IMB_CIPHER_GCM) {
      job->u.GCM.aad = aad;
      job->u.GCM.aad_len_in_bytes = 8;
      job->u.GCM.ctx = nullptr;
    } else {
      job->u.HMAC._hashed_auth_key_xor_ipad = keys.ipad;
      job->u.HMAC._hashed_auth_key_xor_opad = keys.opad;
    }
  }

  bool burst(std::size_t off, uint16_t n) override {
    if (des_openssl && t.cipher == IMB_CIPHER_DES3) {
      const bool enc = dir == direction::encrypt;
      for (uint32_t i = 0; i < n; ++i) {
        IMB_JOB& j = hash_jobs[i];
        fill(&j, bufs[off + i], lens[off + i], tags[i]);
        j.cipher_mode = IMB_CIPHER_NULL;
        if (enc) {
          crypto::des3_cbc(keys.des.openssl, bufs[off + i], lens[off + i], iv, true);
        }
      }
      const uint32_t hashed = IMB_SUBMIT_HASH_BURST_NOCHECK(mgr, hash_jobs, n, t.hash);
      if (!enc) {
        for (uint32_t i = 0; i < n; ++i) {
          crypto::des3_cbc(keys.des.openssl, bufs[off + i], lens[off + i], iv, false);
        }
      }
      return hashed == n;
    }
    if (direct_api && t.cipher == IMB_CIPHER_GCM) {
      const bool enc = dir == direction::encrypt;
      const bool k256 = keys.xf == crypto::transform_id::aes_gcm_256;
      const auto fn = enc ? (k256 ? mgr->gcm256_enc : mgr->gcm128_enc)
                          : (k256 ? mgr->gcm256_dec : mgr->gcm128_dec);
      for (uint32_t i = 0; i < n; ++i) {
        uint8_t* buf = bufs[off + i];
        const uint32_t len = lens[off + i];
        fn(&keys.gcm.imb, &gctx, buf, buf, len, iv, aad, 8, enc ? buf + len : tags[i], t.icv_len);
      }
      return true;
    }
    uint32_t completed = 0, errors = 0;
    if (burst_api) {
      IMB_JOB* jobs[IMB_MAX_BURST_SIZE];
      if (IMB_GET_NEXT_BURST(mgr, n, jobs) < n) {
        IMB_FLUSH_BURST(mgr, IMB_MAX_BURST_SIZE, jobs);
        IMB_GET_NEXT_BURST(mgr, n, jobs);
      }
      for (uint32_t i = 0; i < n; ++i) {
        fill(jobs[i], bufs[off + i], lens[off + i], tags[i]);
      }
      uint32_t done = IMB_SUBMIT_BURST(mgr, n, jobs);
      for (uint32_t i = 0; i < done; ++i) {
        errors += jobs[i]->status != IMB_STATUS_COMPLETED;
      }
      completed += done;
      if (done < n) {
        done = IMB_FLUSH_BURST(mgr, n - done, jobs);
        for (uint32_t i = 0; i < done; ++i) {
          errors += jobs[i]->status != IMB_STATUS_COMPLETED;
        }
        completed += done;
      }
    } else {
      for (uint32_t i = 0; i < n; ++i) {
        IMB_JOB* job = IMB_GET_NEXT_JOB(mgr);
        fill(job, bufs[off + i], lens[off + i], tags[job - mgr->jobs]);
        job = IMB_SUBMIT_JOB(mgr);
        while (job != nullptr) {
          errors += job->status != IMB_STATUS_COMPLETED;
          ++completed;
          job = IMB_GET_COMPLETED_JOB(mgr);
        }
      }
      IMB_JOB* job;
      while ((job = IMB_FLUSH_JOB(mgr)) != nullptr) {
        errors += job->status != IMB_STATUS_COMPLETED;
        ++completed;
      }
    }
    return errors == 0 && completed == n;
  }
};

// --- set-up ------------------------------------------------------------------------------
rte_mempool* g_pool = nullptr;

std::unique_ptr<engine_workload> make_engine(crypto::esp_lcore& lc, const crypto::esp_sa& sa,
                                             direction dir, const std::vector<uint32_t>& sizes,
                                             const options& o) {
  auto w = std::make_unique<engine_workload>(lc, sa, dir);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
    if (m == nullptr) {
      std::fprintf(stderr, "mbuf pool exhausted\n");
      return nullptr;
    }
    w->mbufs.push_back(m);
    w->work.push_back(m);
    std::vector<uint8_t> inner = inner_packet(static_cast<uint32_t>(i % 256), sizes[i] - 14);
    if (dir == direction::encrypt) {
      w->inputs.push_back(std::move(inner));
      continue;
    }
    // Decrypt input: the same frame through our encrypt, checked to come back intact.
    m->data_off = RTE_PKTMBUF_HEADROOM;
    std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(inner.size())), inner.data(),
                inner.size());
    rte_mbuf* one[1] = {m};
    if (crypto::esp_encrypt_burst(lc, sa, one, 1, w->pt_ms) != 1) {
      std::fprintf(stderr, "encrypt of the decrypt input failed\n");
      return nullptr;
    }
    const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
    std::vector<uint8_t> esp(d, d + rte_pktmbuf_data_len(m));
    crypto::sa_table table;
    table.sas[0] = &sa;
    table.count = 1;
    if (crypto::esp_decrypt_burst(lc, table.lookup(), one, 1) != 1 ||
        rte_pktmbuf_data_len(m) != inner.size() ||
        std::memcmp(rte_pktmbuf_mtod(m, const uint8_t*), inner.data(), inner.size()) != 0) {
      std::fprintf(stderr, "round trip of the decrypt input failed\n");
      return nullptr;
    }
    w->inputs.push_back(std::move(esp));
  }
  w->pkts = sizes.size();
  w->frame_bytes = sizes;
  return w;
}

// --- crypto-anchor.sh JSON ---------------------------------------------------------------
struct anchor_cell {
  double mops;
  int size;
};

/// Reads crypto-anchor.sh's JSON: [{"algo":..,"size":..,"mops":..,...},...].
std::map<std::pair<std::string, int>, anchor_cell> read_anchor(const std::string& path) {
  std::map<std::pair<std::string, int>, anchor_cell> out;
  std::ifstream f(path);
  if (!f) {
    std::fprintf(stderr, "cannot read anchor %s\n", path.c_str());
    return out;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string s = ss.str();
  auto field = [](const std::string& obj, const std::string& key) -> std::string {
    const std::size_t k = obj.find("\"" + key + "\":");
    if (k == std::string::npos) {
      return "";
    }
    std::size_t v = k + key.size() + 3;
    std::size_t e = obj.find_first_of(",}", v);
    std::string val = obj.substr(v, e - v);
    val.erase(std::remove(val.begin(), val.end(), '"'), val.end());
    return val;
  };
  std::size_t pos = 0;
  while ((pos = s.find('{', pos)) != std::string::npos) {
    const std::size_t end = s.find('}', pos);
    const std::string obj = s.substr(pos, end - pos + 1);
    const std::string algo = field(obj, "algo");
    const int size = std::atoi(field(obj, "size").c_str());
    out[{algo, size}] = {std::atof(field(obj, "mops").c_str()), size};
    pos = end;
  }
  return out;
}

/// crypto-anchor.sh's name for a transform and the buffer size it used for a frame size.
std::string anchor_algo(transform_id id) {
  switch (id) {
    case transform_id::aes_gcm_128:
      return "aes-128-gcm";
    case transform_id::aes_cbc_128_sha1:
      return "aes-128-cbc-sha1";
    case transform_id::des3_cbc_sha1:
      return "3des-cbc-sha1";
    default:
      return "";
  }
}

// --- main --------------------------------------------------------------------------------
std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const std::size_t c = line.find(':');
      return c == std::string::npos ? line : line.substr(c + 2);
    }
  }
  return "unknown";
}

std::string cpu_flags_of_interest() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("flags", 0) == 0) {
      std::string out;
      for (const char* fl : {"aes", "pclmulqdq", "avx", "avx2", "avx512f", "avx512bw", "vaes",
                             "vpclmulqdq", "sha_ni", "gfni"}) {
        if ((" " + line + " ").find(std::string(" ") + fl + " ") != std::string::npos) {
          out += (out.empty() ? "" : " ") + std::string(fl);
        }
      }
      return out;
    }
  }
  return "";
}

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
    }
    o += c;
  }
  return o;
}

void usage() {
  std::fprintf(stderr,
               "gm-esp-bench [--seconds S] [--reps N] [--json PATH] [--anchor PATH]\n"
               "             [--transforms a,b|all] [--sizes 64,512,1420,imix]\n"
               "             [--dir encrypt|decrypt|both] [--burst N] [--pkts N] [--lcore N]\n"
               "             [--tbar] [--raw-api job|burst|direct] [--slices 8] [--no-huge]\n"
               "  --seconds: timed seconds per repetition, for ours and for raw (default 0.08)\n"
               "  --slices:  ours/raw alternations within a repetition\n"
               "  --no-huge: 4 KB pages even when 2 MB hugepages are mounted and free\n"
               "  --anchor:  crypto-anchor.sh JSON from the same sitting, for ours/anchor\n");
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) {
      out.push_back(item);
    }
  }
  return out;
}

bool parse(int argc, char** argv, options& o) {
  optind = 1;  // rte_eal_init used getopt on its own argv
  static const option longopts[] = {
      {"seconds", required_argument, nullptr, 's'}, {"reps", required_argument, nullptr, 'r'},
      {"json", required_argument, nullptr, 'j'},    {"anchor", required_argument, nullptr, 'a'},
      {"transforms", required_argument, nullptr, 't'},
      {"sizes", required_argument, nullptr, 'z'},   {"dir", required_argument, nullptr, 'd'},
      {"burst", required_argument, nullptr, 'b'},   {"pkts", required_argument, nullptr, 'n'},
      {"lcore", required_argument, nullptr, 'l'},   {"tbar", no_argument, nullptr, 'T'},
      {"raw-api", required_argument, nullptr, 'R'}, {"slices", required_argument, nullptr, 'S'},
      {"no-huge", no_argument, nullptr, 'H'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "", longopts, nullptr)) != -1) {
    switch (c) {
      case 's':
        o.seconds = std::atof(optarg);
        break;
      case 'r':
        o.reps = std::max(1, std::atoi(optarg));
        break;
      case 'j':
        o.json = optarg;
        break;
      case 'a':
        o.anchor = optarg;
        break;
      case 't':
        o.transforms.clear();
        for (const auto& n : split(optarg)) {
          if (n == "all") {
            o.transforms.clear();
            break;
          }
          auto id = crypto::transform_from_name(n);
          if (!id) {
            std::fprintf(stderr, "unknown transform %s\n", n.c_str());
            return false;
          }
          o.transforms.push_back(*id);
        }
        break;
      case 'z':
        o.sizes.clear();
        for (const auto& n : split(optarg)) {
          const int v = n == "imix" ? 0 : std::atoi(n.c_str());
          if (v != 0 && (v < 64 || v > 1518)) {
            std::fprintf(stderr, "size %s: 64..1518 or imix\n", n.c_str());
            return false;
          }
          o.sizes.push_back(v);
        }
        break;
      case 'd':
        o.encrypt = std::strcmp(optarg, "decrypt") != 0;
        o.decrypt = std::strcmp(optarg, "encrypt") != 0;
        break;
      case 'b':
        o.burst = static_cast<uint16_t>(std::clamp(std::atoi(optarg), 1, 64));
        break;
      case 'n':
        o.pkts = static_cast<uint32_t>(std::max(1, std::atoi(optarg)));
        break;
      case 'l':
        o.lcore = std::atoi(optarg);
        break;
      case 'T':
        o.tbar = true;
        break;
      case 'R':
        o.raw_burst_api = std::strcmp(optarg, "burst") == 0;
        o.raw_direct_api = std::strcmp(optarg, "direct") == 0;
        break;
      case 'S':
        o.slices = std::max(1, std::atoi(optarg));
        break;
      case 'H':  // taken before rte_eal_init()
        break;
      default:
        usage();
        return false;
    }
  }
  if (o.transforms.empty()) {
    for (const auto& t : crypto::transform_table) {
      o.transforms.push_back(t.id);
    }
  }
  return true;
}

bool hugepages_available() {
  std::ifstream f("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
  long free_pages = 0;
  f >> free_pages;
  std::ifstream m("/proc/mounts");
  std::string line;
  bool mounted = false;
  while (std::getline(m, line)) {
    mounted |= line.find(" hugetlbfs ") != std::string::npos;
  }
  return mounted && free_pages >= 256;
}

struct cell_result {
  std::string transform;
  std::string size;
  std::string dir;
  double avg_frame;
  stats ours_cyc, ours_mpps, ours_gbps;
  stats raw_cyc, raw_mpps, raw_gbps;
  double ratio;  // median over reps of (ours Mpps / raw Mpps) in the same rep
  std::vector<double> rep_ratios;
  double anchor_mops = 0;  // 0: no anchor cell
  int anchor_size = 0;
  double raw_avg_buffer = 0;  // the raw loop's buffer: the frame rounded up to the block
};

int bench_main(int argc, char** argv) {
  options o;
  // EAL first: our own options follow a `--` like DPDK's examples, or stand alone.
  int lcore_arg = -1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--lcore") == 0 && i + 1 < argc) {
      lcore_arg = std::atoi(argv[i + 1]);
    } else if (std::strncmp(argv[i], "--lcore=", 8) == 0) {
      lcore_arg = std::atoi(argv[i] + 8);
    }
  }
  const long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  const int core = lcore_arg >= 0 ? lcore_arg : static_cast<int>(ncpu > 1 ? 1 : 0);
  const std::string prefix = "--file-prefix=gm-esp-bench-" + std::to_string(getpid());
  std::vector<std::string> eal = {"gm-esp-bench", "-l", std::to_string(core), "--no-pci",
                                  prefix, "--log-level=lib.eal:error", "--no-telemetry"};
  bool no_huge = false;
  for (int i = 1; i < argc; ++i) {
    no_huge |= std::strcmp(argv[i], "--no-huge") == 0;
  }
  const bool huge = !no_huge && hugepages_available();
  if (huge) {
    // In memory: hugepage files unlinked at once, nothing left in hugetlbfs after a crash.
    eal.insert(eal.end(), {"--in-memory", "-m", "256"});
  } else {
    // DPDK 22.11 refuses --in-memory beside --no-huge (which implies legacy memory);
    // --no-shconf gives the same: no runtime files, nothing shared with other processes.
    eal.insert(eal.end(), {"--no-huge", "--no-shconf", "-m", "256"});
  }
  std::vector<char*> eal_argv;
  for (auto& a : eal) {
    eal_argv.push_back(a.data());
  }
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "rte_eal_init failed: %s\n", rte_strerror(rte_errno));
    return 1;
  }
  if (!parse(argc, argv, o)) {
    rte_eal_cleanup();
    return 2;
  }
  if (!pkt_meta_register()) {
    std::fprintf(stderr, "pkt_meta_register failed\n");
    return 1;
  }
  const uint32_t pool_n = std::max<uint32_t>(2047, 2 * o.pkts + 63);
  g_pool = rte_pktmbuf_pool_create("gm_bench_pool", pool_n, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                   static_cast<int>(rte_socket_id()));
  if (g_pool == nullptr) {
    std::fprintf(stderr, "mbuf pool: %s\n", rte_strerror(rte_errno));
    return 1;
  }

  auto lc = crypto::esp_lcore::create(0x1234, 0);
  if (!lc) {
    std::fprintf(stderr, "esp_lcore::create failed (no AES-NI?)\n");
    return 1;
  }
  auto raw_ctx = crypto::crypto_ctx::create();  // same architecture choice as the engine
  IMB_MGR* raw_mgr = raw_ctx->mgr();
  const std::string arch{crypto::arch_name(lc->crypto().architecture())};

  const double tsc_hz = measure_tsc_hz();
  const std::string cpu = cpu_model();
  const std::string flags = cpu_flags_of_interest();
  char date[64];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));

  std::map<std::pair<std::string, int>, anchor_cell> anchor;
  if (!o.anchor.empty()) {
    anchor = read_anchor(o.anchor);
  }

  std::printf("gm-esp-bench %s  lcore %d  %s\n", date, core, huge ? "hugepages" : "--no-huge");
  std::printf("CPU: %s [%s]\n", cpu.c_str(), flags.c_str());
  std::printf("ipsec-mb %s, arch %s (raw loop: %s API%s%s); TSC %.3f GHz measured (DPDK says %.3f)\n",
              imb_get_version_str(), arch.c_str(),
              o.raw_burst_api ? "burst" : o.raw_direct_api ? "direct (GCM)" : "job",
              raw_ctx->des_openssl() ? "; 3DES on OpenSSL's DES, as the engine" : "",
              lc->crypto().gcm_on_vaes() ? "; engine's GCM on crypto/gcm_vaes, raw's ipsec-mb" : "",
              tsc_hz / 1e9, static_cast<double>(rte_get_tsc_hz()) / 1e9);
  std::printf("burst %u, working set %u pkts, %d reps x %.3f s timed, tbar %s\n", o.burst, o.pkts,
              o.reps, o.seconds, o.tbar ? "on" : "off");
  std::printf("median [min..max] over reps; cycles are TSC cycles per packet; ratio = ours/raw\n"
              "Mpps within each rep, median [min..max] over reps; /anch = ours / crypto-anchor\n\n");
  std::printf("%-18s %5s %4s | %8s %19s %7s | %8s %8s | %19s | %5s\n", "transform", "size",
              "dir", "cyc/pkt", "Mpps", "Gbps", "raw cyc", "raw Mpps", "ratio", "/anch");

  std::vector<cell_result> results;
  bool failed = false;
  for (transform_id id : o.transforms) {
    const crypto::transform_info& t = crypto::info(id);
    auto sa = std::make_unique<crypto::esp_sa>();
    const key_material km = keys_for(id);
    if (sa->keys.init(lc->crypto().mgr(), id, km.cipher, km.auth) != crypto::key_error::none) {
      std::fprintf(stderr, "%s: key init failed\n", std::string(t.name).c_str());
      failed = true;
      continue;
    }
    sa->spi = 10;
    sa->slot = 1;
    sa->tbar = o.tbar;
    for (int size : o.sizes) {
      const std::vector<uint32_t> sizes = frame_sizes(size, o.pkts);
      double avg = 0;
      for (uint32_t s : sizes) {
        avg += s;
      }
      avg /= static_cast<double>(sizes.size());
      for (direction dir : {direction::encrypt, direction::decrypt}) {
        if ((dir == direction::encrypt && !o.encrypt) ||
            (dir == direction::decrypt && !o.decrypt)) {
          continue;
        }
        auto ours = make_engine(*lc, *sa, dir, sizes, o);
        if (!ours) {
          return 1;
        }
        raw_workload raw(raw_mgr, sa->keys, dir, o.raw_burst_api);
        raw.direct_api = o.raw_direct_api;
        raw.des_openssl = raw_ctx->des_openssl();
        raw.sources = &ours->inputs;
        if (!raw.set_buffers(g_pool, sizes)) {
          std::fprintf(stderr, "mbuf pool exhausted\n");
          return 1;
        }
        // Warm-up of each, then repetitions; within one, ours and raw alternate in short
        // slices so that both see the same moments of a shared host.
        tally warm;
        const auto warm_cycles = static_cast<uint64_t>(0.01 * tsc_hz);
        bool ok = run_slice(*ours, o.burst, warm_cycles, warm) &&
                  run_slice(raw, o.burst, warm_cycles, warm);
        const auto slice_cycles = static_cast<uint64_t>(o.seconds * tsc_hz / o.slices);
        std::vector<double> oc, om, og, rc, rm, rg, rr;
        for (int r = 0; ok && r < o.reps; ++r) {
          tally ta, tb;
          for (int sl = 0; ok && sl < o.slices; ++sl) {
            ok = run_slice(*ours, o.burst, slice_cycles, ta) &&
                 run_slice(raw, o.burst, slice_cycles, tb);
          }
          const sample a = ta.result(tsc_hz);
          const sample b = tb.result(tsc_hz);
          oc.push_back(a.cycles_per_pkt);
          om.push_back(a.mpps);
          og.push_back(a.gbps);
          rc.push_back(b.cycles_per_pkt);
          rm.push_back(b.mpps);
          rg.push_back(b.gbps);
          rr.push_back(a.mpps / b.mpps);
        }
        const std::string dname = dir == direction::encrypt ? "enc" : "dec";
        if (!ok) {
          std::fprintf(stderr, "%s %s %s: a packet or job failed\n", std::string(t.name).c_str(),
                       size_name(size).c_str(), dname.c_str());
          failed = true;
          continue;
        }
        cell_result c;
        c.transform = std::string(t.name);
        c.size = size_name(size);
        c.dir = dir == direction::encrypt ? "encrypt" : "decrypt";
        c.avg_frame = avg;
        for (uint32_t l : raw.lens) {
          c.raw_avg_buffer += l;
        }
        c.raw_avg_buffer /= static_cast<double>(raw.lens.size());
        c.ours_cyc = summarize(oc);
        c.ours_mpps = summarize(om);
        c.ours_gbps = summarize(og);
        c.raw_cyc = summarize(rc);
        c.raw_mpps = summarize(rm);
        c.raw_gbps = summarize(rg);
        c.ratio = summarize(rr).median;
        c.rep_ratios = rr;
        const std::string aalgo = anchor_algo(id);
        if (!aalgo.empty() && size != 0 && dir == direction::encrypt) {
          const int blk = t.cipher == IMB_CIPHER_GCM ? 1 : t.block;
          const int bs = (size + blk - 1) / blk * blk;
          auto it = anchor.find({aalgo, bs});
          if (it != anchor.end()) {
            c.anchor_mops = it->second.mops;
            c.anchor_size = bs;
          }
        }
        const stats rs = summarize(c.rep_ratios);
        char anch[16] = "-";
        if (c.anchor_mops > 0) {
          std::snprintf(anch, sizeof(anch), "%.2f", c.ours_mpps.median / c.anchor_mops);
        }
        std::printf(
            "%-18s %5s %4s | %8.1f %6.3f [%5.2f..%5.2f] %7.2f | %8.1f %8.3f | %5.3f "
            "[%5.3f..%5.3f] | %5s\n",
            c.transform.c_str(), c.size.c_str(), dname.c_str(), c.ours_cyc.median,
            c.ours_mpps.median, c.ours_mpps.min, c.ours_mpps.max, c.ours_gbps.median,
            c.raw_cyc.median, c.raw_mpps.median, c.ratio, rs.min, rs.max, anch);
        std::fflush(stdout);
        results.push_back(std::move(c));
      }
    }
  }

  std::ofstream js(o.json);
  auto st = [](const stats& s) {
    char b[160];
    std::snprintf(b, sizeof(b), "{\"median\":%.4f,\"min\":%.4f,\"max\":%.4f}", s.median, s.min,
                  s.max);
    return std::string(b);
  };
  std::string cmdline;
  for (int i = 0; i < argc; ++i) {
    cmdline += (i ? " " : "") + std::string(argv[i]);
  }
  js << "{\n  \"tool\": \"gm-esp-bench\",\n  \"date\": \"" << date << "\",\n"
     << "  \"command\": \"" << json_escape(cmdline) << "\",\n"
     << "  \"cpu_model\": \"" << json_escape(cpu) << "\",\n"
     << "  \"cpu_flags\": \"" << flags << "\",\n"
     << "  \"ipsec_mb_version\": \"" << imb_get_version_str() << "\",\n"
     << "  \"ipsec_mb_arch\": \"" << arch << "\",\n"
     << "  \"raw_api\": \""
     << (o.raw_burst_api ? "burst" : o.raw_direct_api ? "direct (GCM)" : "job") << "\",\n"
     << "  \"gcm_engine\": \"" << (lc->crypto().gcm_on_vaes() ? "vaes-avx2" : "ipsec-mb") << "\",\n"
     << "  \"cbc_sha1_engine\": \""
     << (lc->crypto().cbc_sha1_stitched() ? "stitched-sha-ni" : "ipsec-mb") << "\",\n"
     << "  \"cbc_sha1_decrypt_engine\": \""
     << (lc->crypto().cbc_sha1_decrypt_ours() ? "sha-ni+vaes" : "ipsec-mb") << "\",\n"
     << "  \"des3_engine\": \"" << (raw_ctx->des_openssl() ? "openssl" : "ipsec-mb") << "\",\n"
     << "  \"hmac_sha_ni\": " << (lc->crypto().sha_ni_hash() ? "true" : "false") << ",\n"
     << "  \"tsc_hz_measured\": " << static_cast<uint64_t>(tsc_hz) << ",\n"
     << "  \"tsc_hz_dpdk\": " << rte_get_tsc_hz() << ",\n"
     << "  \"lcore\": " << core << ",\n"
     << "  \"hugepages\": " << (huge ? "true" : "false") << ",\n"
     << "  \"burst\": " << o.burst << ",\n  \"working_set_pkts\": " << o.pkts << ",\n"
     << "  \"reps\": " << o.reps << ",\n  \"seconds_per_rep\": " << o.seconds << ",\n"
     << "  \"tbar\": " << (o.tbar ? "true" : "false") << ",\n"
     << "  \"anchor_file\": \"" << json_escape(o.anchor) << "\",\n"
     << "  \"size_note\": \"cleartext Ethernet frame bytes, FCS excluded; imix = 7:4:1 of "
        "64/594/1518; Gbps counts cleartext frame bits\",\n"
     << "  \"cells\": [\n";
  for (std::size_t i = 0; i < results.size(); ++i) {
    const cell_result& c = results[i];
    js << "    {\"transform\":\"" << c.transform << "\",\"size\":\"" << c.size
       << "\",\"dir\":\"" << c.dir << "\",\"avg_frame_bytes\":" << c.avg_frame
       << ",\"raw_avg_buffer_bytes\":" << c.raw_avg_buffer
       << ",\n     \"ours\":{\"cycles_per_pkt\":" << st(c.ours_cyc) << ",\"mpps\":"
       << st(c.ours_mpps) << ",\"gbps\":" << st(c.ours_gbps) << "},"
       << "\n     \"raw\":{\"cycles_per_pkt\":" << st(c.raw_cyc) << ",\"mpps\":"
       << st(c.raw_mpps) << ",\"gbps\":" << st(c.raw_gbps) << "},"
       << "\n     \"ratio_ours_raw\":" << c.ratio << ",\"rep_ratios\":[";
    for (std::size_t r = 0; r < c.rep_ratios.size(); ++r) {
      js << (r ? "," : "") << c.rep_ratios[r];
    }
    js << "]";
    if (c.anchor_mops > 0) {
      js << ",\"anchor_mops\":" << c.anchor_mops << ",\"anchor_buffer_bytes\":" << c.anchor_size
         << ",\"ratio_ours_anchor\":" << c.ours_mpps.median / c.anchor_mops;
    }
    js << "}" << (i + 1 < results.size() ? "," : "") << "\n";
  }
  js << "  ]\n}\n";
  js.close();
  std::printf("\nJSON: %s\n", o.json.c_str());

  rte_mempool_free(g_pool);
  raw_ctx.reset();
  lc.reset();
  // In memory / no shared config, EAL still makes a runtime directory for the per-pid
  // prefix; it is empty after cleanup, so do not leave one behind per run.
  const std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  ::rmdir(runtime_dir.c_str());
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace gm::perf

int main(int argc, char** argv) { return gm::perf::bench_main(argc, argv); }
