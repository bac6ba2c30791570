#include "crypto/cbc_sha1_shani.cc"  // the templates, to time each part alone
#include <x86intrin.h>
#include <cstdio>
#include <algorithm>
#include "crypto/crypto_ctx.h"
using namespace gm::crypto;
using namespace gm::crypto::cbc_sha1;
static uint8_t bufs[32][2048];
template <int L>
void run_parts(const sa_keys& k, size_t nct) {
  const __m128i* rk = (const __m128i*)k.enc_keys;
  size_t full = (24 + 16*nct)/64;
  double b[4] = {1e18,1e18,1e18,1e18};
  for (int rep=0; rep<15; rep++) {
    lanes<L> g; for (int l=0;l<L;l++) g.esp[l]=bufs[l];
    uint64_t t0=__rdtsc();
    for (int r=0;r<1000;r++) hash_blocks<L>(g, 0, full);
    uint64_t t1=__rdtsc();
    for (int r=0;r<1000;r++) cipher_blocks<L,10>(g, 0, nct, rk);
    uint64_t t2=__rdtsc();
    size_t st = (nct-7)/4+1; st = std::min(st, full);
    for (int r=0;r<1000;r++) stitched<L,10>(g, 0, st, rk);
    uint64_t t3=__rdtsc();
    b[0]=std::min(b[0],(t1-t0)/1000.0/L/full); b[1]=std::min(b[1],(t2-t1)/1000.0/L/nct);
    b[2]=std::min(b[2],(t3-t2)/1000.0/L/st);
  }
  printf("L=%d: sha %.1f /block, cbc-enc %.1f /aesblock, stitched %.1f /step (one sha block + 4 aes blocks), TSC per lane\n", L, b[0], b[1], b[2]);
}
int main() {
  auto ctx = crypto_ctx::create();
  sa_keys k; uint8_t ck[16]={1,2,3}, ak[20]={4,5,6};
  k.init(ctx->mgr(), transform_id::aes_cbc_128_sha1, ck, ak);
  run_parts<1>(k, 88); run_parts<2>(k, 88); run_parts<3>(k, 88); run_parts<4>(k, 88);
}
