#include <x86intrin.h>
#include <cstdio>
#include <cstring>
#include <vector>
#include <algorithm>
#include "crypto/crypto_ctx.h"
#include "crypto/cbc_sha1_shani.h"
#include "crypto/sa_keys.h"
using namespace gm::crypto;
int main() {
  auto ctx = crypto_ctx::create(arch::avx512, sha_ni_use::auto_select, des_engine::auto_select,
                                gcm_engine::auto_select, cbc_sha1_engine::ipsec_mb);
  sa_keys k; uint8_t ck[16]={1,2,3}, ak[20]={4,5,6};
  k.init(ctx->mgr(), transform_id::aes_cbc_128_sha1, ck, ak);
  static uint8_t bufs[32][2048];
  for (uint32_t len : {48u, 496u, 1408u}) {  // ESP payload (padded) for 64 / 512 / 1420-ish
    esp_span sp[32]; cbc_sha1::packet pk[32]; crypto_op ops[32]; crypto_op* po[32];
    for (int i=0;i<32;i++){ sp[i]={bufs[i],len}; pk[i]={bufs[i],len,bufs[i]+24+len};
      esp_job_op(&k,bufs[i],8,16,len,direction::decrypt,ops[i]); po[i]=&ops[i]; }
    double best[4]={1e18,1e18,1e18,1e18};
    for (int rep=0; rep<15; rep++) {
      uint64_t t0=__rdtsc(); for(int r=0;r<300;r++) ctx->esp_cbc_hmac_encrypt(k, sp, 32);
      uint64_t t1=__rdtsc(); for(int r=0;r<300;r++) cbc_sha1::encrypt(k, pk, 32, 12);
      uint64_t t2=__rdtsc(); for(int r=0;r<300;r++) ctx->process(po, 32);
      uint64_t t3=__rdtsc();
      best[0]=std::min(best[0],(t1-t0)/9600.0); best[1]=std::min(best[1],(t2-t1)/9600.0);
      best[2]=std::min(best[2],(t3-t2)/9600.0);
    }
    printf("ct %4u: encrypt ipsec-mb %6.0f stitched %6.0f (%.2fx) | decrypt ipsec-mb %6.0f\n", len,
      best[0],best[1],best[0]/best[1],best[2]);
  }
}
