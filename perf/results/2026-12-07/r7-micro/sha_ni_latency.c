#include <immintrin.h>
#include <stdio.h>
#include <x86intrin.h>
#define N 10000000
#define BAR(...) __asm__ volatile("" : __VA_ARGS__)
int main(){
  __m128i a0=_mm_set1_epi32(1),a1=_mm_set1_epi32(2),a2=_mm_set1_epi32(3),a3=_mm_set1_epi32(4), b=_mm_set1_epi32(3);
  unsigned long t0,t1;
  t0=__rdtsc(); for(long i=0;i<N;i++){ a0=_mm_sha1rnds4_epu32(a0,b,0);a0=_mm_sha1rnds4_epu32(a0,b,0);a0=_mm_sha1rnds4_epu32(a0,b,0);a0=_mm_sha1rnds4_epu32(a0,b,0);} t1=__rdtsc();
  printf("rnds4 chain: %.2f\n",(double)(t1-t0)/N/4);
  t0=__rdtsc(); for(long i=0;i<N;i++){ a0=_mm_sha1rnds4_epu32(a0,b,0);a1=_mm_sha1rnds4_epu32(a1,b,0);a2=_mm_sha1rnds4_epu32(a2,b,0);a3=_mm_sha1rnds4_epu32(a3,b,0);} t1=__rdtsc();
  printf("rnds4 4 ways: %.2f\n",(double)(t1-t0)/N/4);
  t0=__rdtsc(); for(long i=0;i<N;i++){ a0=_mm_sha1nexte_epu32(a0,b);a0=_mm_sha1nexte_epu32(a0,b);a0=_mm_sha1nexte_epu32(a0,b);a0=_mm_sha1nexte_epu32(a0,b);} t1=__rdtsc();
  printf("nexte chain: %.2f\n",(double)(t1-t0)/N/4);
  t0=__rdtsc(); for(long i=0;i<N;i++){ a0=_mm_add_epi32(a0,b);a0=_mm_add_epi32(a0,b);a0=_mm_add_epi32(a0,b);a0=_mm_add_epi32(a0,b);BAR("+x"(a0));} t1=__rdtsc();
  printf("paddd chain: %.2f\n",(double)(t1-t0)/N/4);
  t0=__rdtsc(); for(long i=0;i<N;i++){ a0=_mm_aesenc_si128(a0,b);a0=_mm_aesenc_si128(a0,b);a0=_mm_aesenc_si128(a0,b);a0=_mm_aesenc_si128(a0,b);} t1=__rdtsc();
  printf("aesenc chain: %.2f\n",(double)(t1-t0)/N/4);
  return _mm_cvtsi128_si32(a0)+_mm_cvtsi128_si32(a1)+_mm_cvtsi128_si32(a2)+_mm_cvtsi128_si32(a3)==7;
}
