#include <immintrin.h>
#include <stdio.h>
#include <x86intrin.h>
#define N 100000
__attribute__((target("avx2,vaes,vpclmulqdq,aes,pclmul")))
int main(){
  __m256i a[8], k=_mm256_set1_epi32(0x1234567);
  _Pragma("GCC unroll 8") for(int i=0;i<8;i++) a[i]=_mm256_set1_epi32(i);
  __m128i b[8]; _Pragma("GCC unroll 8") for(int i=0;i<8;i++) b[i]=_mm_set1_epi32(i);
  unsigned long t0=__rdtsc();
  for(int n=0;n<N;n++){ _Pragma("GCC unroll 8") for(int i=0;i<8;i++) a[i]=_mm256_aesenc_epi128(a[i],k); __asm__ volatile(""::"x"(a[0]),"x"(a[1]),"x"(a[2]),"x"(a[3]),"x"(a[4]),"x"(a[5]),"x"(a[6]),"x"(a[7])); }
  unsigned long t1=__rdtsc();
  printf("vaesenc ymm: %.2f cyc/op\n",(double)(t1-t0)/N/8);
  t0=__rdtsc();
  for(int n=0;n<N;n++){ _Pragma("GCC unroll 8") for(int i=0;i<8;i++) b[i]=_mm_aesenc_si128(b[i],_mm256_castsi256_si128(k)); __asm__ volatile(""::"x"(b[0]),"x"(b[1]),"x"(b[2]),"x"(b[3]),"x"(b[4]),"x"(b[5]),"x"(b[6]),"x"(b[7])); }
  t1=__rdtsc();
  printf("aesenc xmm: %.2f cyc/op\n",(double)(t1-t0)/N/8);
  t0=__rdtsc();
  for(int n=0;n<N;n++){ _Pragma("GCC unroll 8") for(int i=0;i<8;i++) a[i]=_mm256_clmulepi64_epi128(a[i],k,0x01); __asm__ volatile(""::"x"(a[0]),"x"(a[1]),"x"(a[2]),"x"(a[3]),"x"(a[4]),"x"(a[5]),"x"(a[6]),"x"(a[7])); }
  t1=__rdtsc();
  printf("vpclmul ymm: %.2f cyc/op\n",(double)(t1-t0)/N/8);
  t0=__rdtsc();
  for(int n=0;n<N;n++){ _Pragma("GCC unroll 8") for(int i=0;i<8;i++) b[i]=_mm_clmulepi64_si128(b[i],_mm256_castsi256_si128(k),0x01); __asm__ volatile(""::"x"(b[0]),"x"(b[1]),"x"(b[2]),"x"(b[3]),"x"(b[4]),"x"(b[5]),"x"(b[6]),"x"(b[7])); }
  t1=__rdtsc();
  printf("pclmul xmm: %.2f cyc/op\n",(double)(t1-t0)/N/8);
  t0=__rdtsc();
  for(int n=0;n<N;n++){ _Pragma("GCC unroll 8") for(int i=0;i<4;i++) a[i]=_mm256_aesenc_epi128(a[i],k); _Pragma("GCC unroll 8") for(int i=4;i<8;i++) a[i]=_mm256_clmulepi64_epi128(a[i],k,0x01); __asm__ volatile(""::"x"(a[0]),"x"(a[1]),"x"(a[2]),"x"(a[3]),"x"(a[4]),"x"(a[5]),"x"(a[6]),"x"(a[7])); }
  t1=__rdtsc();
  printf("4 vaes + 4 vpclmul ymm: %.2f cyc per 8 ops\n",(double)(t1-t0)/N);
  t0=__rdtsc();
  for(int n=0;n<N;n++){ a[0]=_mm256_clmulepi64_epi128(a[0],k,0x01);} __asm__ volatile(""::"x"(a[0]));
  t1=__rdtsc();
  printf("vpclmul ymm latency: %.2f\n",(double)(t1-t0)/N);
  t0=__rdtsc();
  for(int n=0;n<N;n++){ a[0]=_mm256_aesenc_epi128(a[0],k);} __asm__ volatile(""::"x"(a[0]));
  t1=__rdtsc();
  printf("vaesenc ymm latency: %.2f\n",(double)(t1-t0)/N);
  return 0;
}
