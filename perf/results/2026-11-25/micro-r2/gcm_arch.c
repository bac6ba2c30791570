#include <intel-ipsec-mb.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <x86intrin.h>
static uint8_t buf[1024][2048];
static double run(IMB_MGR*m,int len){
  uint8_t key[16]={1,2,3}; struct gcm_key_data kd; IMB_AES128_GCM_PRE(m,key,&kd);
  struct gcm_context_data ctx; uint8_t iv[12]={0};
  double best=1e9;
  for(int rep=0;rep<15;rep++){ uint64_t t0=__rdtsc();
    for(int i=0;i<20000;i++){ uint8_t*b=buf[i&1023];
      IMB_AES128_GCM_ENC(m,&kd,&ctx,b+16,b+16,len,iv,b,8,b+16+len,16);}
    double c=(__rdtsc()-t0)/20000.0; if(c<best)best=c;}
  return best;
}
int main(){
  int lens[]={56,1408};
  IMB_MGR*a=alloc_mb_mgr(0); init_mb_mgr_avx512(a);
  IMB_MGR*b=alloc_mb_mgr(0); init_mb_mgr_avx2(b);
  IMB_MGR*c=alloc_mb_mgr(0); init_mb_mgr_sse(c);
  for(int r=0;r<3;r++) for(int i=0;i<2;i++) printf("len %d best-of: avx512 %.1f avx2 %.1f sse %.1f\n",lens[i],run(a,lens[i]),run(b,lens[i]),run(c,lens[i]));
}
