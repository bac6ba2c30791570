#include <stdio.h>
#include <stdint.h>
#include <time.h>
#include <x86intrin.h>
int main(){ for(int r=0;r<3;r++){ uint64_t s=0; uint64_t t0=__rdtsc(); for(int i=0;i<1000000;i++) s+=__rdtsc(); uint64_t t1=__rdtsc();
 struct timespec ts; uint64_t t2=__rdtsc(); for(int i=0;i<100000;i++) clock_gettime(CLOCK_MONOTONIC,&ts); uint64_t t3=__rdtsc();
 printf("rdtsc %.1f cyc, clock_gettime %.1f cyc (%lu)\n",(t1-t0)/1e6,(t3-t2)/1e5,s&1);} }
