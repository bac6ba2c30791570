#include "crypto/gcm_vaes.h"
#include "crypto/sa_keys.h"
#include <x86intrin.h>
#include <cstdio>
#include <algorithm>
namespace gm::crypto::gcm_old { void enc128(const gcm_key_data*, gcm_context_data*, uint8_t*, const uint8_t*, uint64_t, const uint8_t*, const uint8_t*, uint64_t, uint8_t*, uint64_t); void dec128(const gcm_key_data*, gcm_context_data*, uint8_t*, const uint8_t*, uint64_t, const uint8_t*, const uint8_t*, uint64_t, uint8_t*, uint64_t);}
namespace gm::crypto::gcm_new { void enc128(const gcm_key_data*, gcm_context_data*, uint8_t*, const uint8_t*, uint64_t, const uint8_t*, const uint8_t*, uint64_t, uint8_t*, uint64_t); void dec128(const gcm_key_data*, gcm_context_data*, uint8_t*, const uint8_t*, uint64_t, const uint8_t*, const uint8_t*, uint64_t, uint8_t*, uint64_t);}
using namespace gm::crypto;
int main(int argc, char** argv) {
  IMB_MGR* m = alloc_mb_mgr(0); init_mb_mgr_avx2(m);
  static sa_keys k; uint8_t key[20]={1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,1,2,3,4};
  k.init(m, transform_id::aes_gcm_128, {key,20}, {});
  static gcm_context_data ctx;
  alignas(64) static uint8_t buf[64][2048]; static uint8_t iv[64][12]; uint8_t aad[8]={0}; uint8_t tag[64][16];
  int sizes[] = {52, 116, 500, 1404};
  aes_gcm_enc_dec_t fns[3] = {m->gcm128_enc, gcm_old::enc128, gcm_new::enc128};
  const char* names[3] = {"ipsec", "old", "new"};
  for (int sz : sizes) {
    double best[3] = {1e9, 1e9, 1e9};
    for (int rep = 0; rep < 15; ++rep) {
      for (int e = 0; e < 3; ++e) {
        const int N = 4000;
        unsigned long t0 = __rdtsc();
        for (int i = 0; i < N; ++i) { int b = i & 63; fns[e](&k.gcm.imb, &ctx, buf[b], buf[b], sz, iv[b], aad, 8, buf[b] + sz, 16); }
        best[e] = std::min(best[e], (double)(__rdtsc() - t0) / N);
      }
    }
    printf("%5d  ipsec %7.1f  old %7.1f  new %7.1f\n", sz, best[0], best[1], best[2]);
  }
}
