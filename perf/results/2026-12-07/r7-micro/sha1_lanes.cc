#include <initializer_list>
#include <stdio.h>
#include <string.h>
#include <x86intrin.h>
#include <intel-ipsec-mb.h>
#include "sha1x.h"  // the first four-lane SHA-NI block function, alone
static uint8_t bufs[32][2048];
int main(int argc, char**argv){
  IMB_MGR* a = alloc_mb_mgr(0); init_mb_mgr_avx2(a);
  IMB_MGR* s = alloc_mb_mgr(0); init_mb_mgr_sse(s);
  uint8_t ipad[64], opad[64]; uint8_t blk[64]; memset(blk,0x36,64); IMB_SHA1_ONE_BLOCK(a,blk,ipad); memset(blk,0x5c,64); IMB_SHA1_ONE_BLOCK(a,blk,opad);
  static IMB_JOB jobs[32]; uint8_t tags[32][16];
  for (unsigned len : {64u+24, 536u, 1432u}) {
  for (int i=0;i<32;i++){ IMB_JOB&j=jobs[i]; memset(&j,0,sizeof j); j.hash_alg=IMB_AUTH_HMAC_SHA_1; j.src=bufs[i]; j.msg_len_to_hash_in_bytes=len; j.auth_tag_output=tags[i]; j.auth_tag_output_len_in_bytes=12; j.u.HMAC._hashed_auth_key_xor_ipad=ipad; j.u.HMAC._hashed_auth_key_xor_opad=opad; j.cipher_mode=IMB_CIPHER_NULL; j.chain_order=IMB_ORDER_HASH_CIPHER;}
  for (int rep=0;rep<3;rep++){
    unsigned long t0=__rdtsc();
    for(int r=0;r<3000;r++) IMB_SUBMIT_HASH_BURST_NOCHECK(a,jobs,32,IMB_AUTH_HMAC_SHA_1);
    unsigned long t1=__rdtsc();
    for(int r=0;r<3000;r++) IMB_SUBMIT_HASH_BURST_NOCHECK(s,jobs,32,IMB_AUTH_HMAC_SHA_1);
    unsigned long t2=__rdtsc();
    uint32_t st[4][5]; const uint8_t* p[4]={bufs[0],bufs[1],bufs[2],bufs[3]};
    unsigned nb=(len+9+63)/64+1;
    for(int r=0;r<3000;r++) for(int g=0;g<8;g++) sha1_blocks<4>(st,p,nb);
    unsigned long t3=__rdtsc();
    printf("len %u: avx2 %.0f  sse-shani %.0f  ours-x4 blocks-only %.0f TSC/msg\n", len, (t1-t0)/3000.0/32,(t2-t1)/3000.0/32,(t3-t2)/3000.0/32);
  }}
}
