// Round 5 (2026-12-07): rte_acl_classify_alg cycles a packet, 32 keys a call, per
// algorithm, 1/100/10000 rules shaped like perf/dataplane_bench.py's (deny udp host ...,
// then permit ip any any). g++ -O2 acl_micro.cc $(pkg-config --cflags --libs libdpdk)
// ./acl_micro --no-huge --no-pci -l 1 --no-shconf -m 256
// rte_acl classify cost per packet, per algorithm, for 32 keys a call.
#include <rte_acl.h>
#include <rte_eal.h>
#include <rte_cycles.h>
#include <rte_ip.h>
#include <cstdio>
#include <cstring>
#include <cstddef>
#include <algorithm>
struct key { uint8_t proto; uint8_t pad[3]; uint32_t src, dst; uint16_t sport, dport; };
enum { f_proto, f_src, f_dst, f_sport, f_dport, f_count };
static const rte_acl_field_def defs[f_count] = {
    {RTE_ACL_FIELD_TYPE_BITMASK, 1, f_proto, 0, offsetof(key, proto)},
    {RTE_ACL_FIELD_TYPE_MASK, 4, f_src, 1, offsetof(key, src)},
    {RTE_ACL_FIELD_TYPE_MASK, 4, f_dst, 2, offsetof(key, dst)},
    {RTE_ACL_FIELD_TYPE_RANGE, 2, f_sport, 3, offsetof(key, sport)},
    {RTE_ACL_FIELD_TYPE_RANGE, 2, f_dport, 3, offsetof(key, dport)},
};
RTE_ACL_RULE_DEF(acl_rule, f_count);
int main(int argc, char** argv) {
  if (rte_eal_init(argc, argv) < 0) return 1;
  for (int nrules : {1, 100, 10000}) {
    rte_acl_param p{}; char name[32]; snprintf(name, 32, "t%d", nrules);
    p.name = name; p.socket_id = SOCKET_ID_ANY; p.rule_size = RTE_ACL_RULE_SZ(f_count); p.max_rule_num = nrules;
    rte_acl_ctx* ctx = rte_acl_create(&p);
    static acl_rule rules[10000];
    for (int i = 0; i < nrules; ++i) {
      acl_rule& r = rules[i]; memset(&r, 0, sizeof r);
      r.data.category_mask = 1; r.data.priority = nrules - i; r.data.userdata = 1 + i;
      if (i < nrules - 1) { r.field[f_proto].value.u8 = 17; r.field[f_proto].mask_range.u8 = 0xff;
        r.field[f_src].value.u32 = RTE_IPV4(192, 0, i / 250, 1 + i % 250); r.field[f_src].mask_range.u32 = 32; }
      r.field[f_sport].mask_range.u16 = 0xffff; r.field[f_dport].mask_range.u16 = 0xffff;
    }
    rte_acl_add_rules(ctx, (rte_acl_rule*)rules, nrules);
    rte_acl_config cfg{}; cfg.num_categories = 1; cfg.num_fields = f_count; memcpy(cfg.defs, defs, sizeof defs);
    if (rte_acl_build(ctx, &cfg) != 0) { printf("build failed\n"); return 1; }
    key keys[32]; const uint8_t* data[32]; uint32_t res[32];
    for (int i = 0; i < 32; ++i) { keys[i] = {}; keys[i].proto = 17; keys[i].src = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, i)); keys[i].dst = rte_cpu_to_be_32(RTE_IPV4(10, 1, 0, i)); keys[i].sport = 1000; keys[i].dport = 2000; data[i] = (const uint8_t*)&keys[i]; }
    const char* names[] = {"default", "scalar", "sse", "avx2", "neon", "altivec", "avx512x16", "avx512x32"};
    for (int alg : {RTE_ACL_CLASSIFY_DEFAULT, RTE_ACL_CLASSIFY_SCALAR, RTE_ACL_CLASSIFY_SSE, RTE_ACL_CLASSIFY_AVX2}) {
      double best = 1e9;
      for (int rep = 0; rep < 15; ++rep) {
        uint64_t t0 = rte_rdtsc_precise();
        for (int it = 0; it < 2000; ++it) rte_acl_classify_alg(ctx, data, res, 32, 1, static_cast<enum rte_acl_classify_alg>(alg));
        best = std::min(best, double(rte_rdtsc_precise() - t0) / (2000.0 * 32));
      }
      printf("rules %5d alg %-8s %6.1f cycles/pkt (res %u)\n", nrules, names[alg], best, res[0]);
    }
  }
  return 0;
}
