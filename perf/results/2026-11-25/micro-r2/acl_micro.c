#include <rte_eal.h>
#include <rte_acl.h>
#include <rte_vect.h>
#include <rte_cycles.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>
struct key { uint8_t proto, pad[3]; uint32_t src, dst; uint16_t sport, dport; };
static const struct rte_acl_field_def defs[5] = {
 {RTE_ACL_FIELD_TYPE_BITMASK,1,0,0,offsetof(struct key,proto)},
 {RTE_ACL_FIELD_TYPE_MASK,4,1,1,offsetof(struct key,src)},
 {RTE_ACL_FIELD_TYPE_MASK,4,2,2,offsetof(struct key,dst)},
 {RTE_ACL_FIELD_TYPE_RANGE,2,3,3,offsetof(struct key,sport)},
 {RTE_ACL_FIELD_TYPE_RANGE,2,4,3,offsetof(struct key,dport)}};
RTE_ACL_RULE_DEF(rule,5);
int main(int argc,char**argv){
  int r=rte_eal_init(argc,argv); if(r<0) return 1;
  printf("simd before %d set512 rc %d now %d\n", rte_vect_get_max_simd_bitwidth(), rte_vect_set_max_simd_bitwidth(512), rte_vect_get_max_simd_bitwidth());
  int nr=1; struct rte_acl_param p={.name="t",.socket_id=SOCKET_ID_ANY,.rule_size=RTE_ACL_RULE_SZ(5),.max_rule_num=nr};
  struct rte_acl_ctx*c=rte_acl_create(&p);
  struct rule ru; memset(&ru,0,sizeof ru); ru.data.category_mask=1; ru.data.priority=1; ru.data.userdata=7;
  ru.field[3].mask_range.u16=65535; ru.field[4].mask_range.u16=65535;
  rte_acl_add_rules(c,(void*)&ru,1);
  struct rte_acl_config cfg={.num_categories=1,.num_fields=5}; memcpy(cfg.defs,defs,sizeof defs);
  printf("build %d\n",rte_acl_build(c,&cfg)); rte_acl_dump(c);
  struct key k[32]; const uint8_t*d[32]; uint32_t res[32];
  for(int i=0;i<32;i++){k[i]=(struct key){17,{0},0x0100a8c0u+i,0x0200a8c0,1000,2000}; d[i]=(void*)&k[i];}
  int algs[]={RTE_ACL_CLASSIFY_SSE,RTE_ACL_CLASSIFY_AVX2,RTE_ACL_CLASSIFY_AVX512X16,RTE_ACL_CLASSIFY_AVX512X32};
  const char*names[]={"sse","avx2","avx512x16","avx512x32"};
  for(int rep=0;rep<3;rep++) for(int a=0;a<4;a++){
    if(rte_acl_set_ctx_classify(c,algs[a])!=0){printf("%s unsupported\n",names[a]);continue;}
    double best=1e9;
    for(int t=0;t<20;t++){ uint64_t t0=rte_rdtsc(); for(int i=0;i<5000;i++) rte_acl_classify(c,d,res,32,1); double cy=(rte_rdtsc()-t0)/(5000.0*32); if(cy<best)best=cy;}
    printf("%s: %.1f cyc/pkt (res %u)\n",names[a],best,res[0]);
  }
  return 0;
}
