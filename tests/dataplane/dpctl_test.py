#!/usr/bin/python3
"""gm-dataplane driven through its control rings by gm-dpctl (a DPDK secondary process),
observed through its DPDK telemetry endpoints: policy push, SA add/activate, a rekey,
delete, flush, refusals. Needs 2 MB hugepages (multi-process shares hugepage memory):
tools/test reserves them; without any the test is skipped (exit 77) and says so."""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from labnet import free_hugepages, remove_runtime, telemetry as dpdk_telemetry  # noqa: E402

DP, DPCTL = sys.argv[1], sys.argv[2]
PREFIX = "gmdpctl%d" % os.getpid()
failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg, flush=True)
    if not cond:
        failures.append(msg)


def telemetry(cmd):
    return dpdk_telemetry(PREFIX, cmd)


def dpctl(*args):
    p = subprocess.run([DPCTL, "--file-prefix", PREFIX, "--"] + list(args),
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def wait_for(pred, what, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.1)
    check(False, "timed out waiting for " + what)
    return False


def sa_counts():
    return {int(k, 16): v for k, v in telemetry("/gm/sa").items()}


def main():
    if free_hugepages() < 128:
        print("SKIP: needs >= 128 free 2 MB hugepages mounted at /dev/hugepages "
              "(tools/setup --hugepages 512 reserves them)")
        return 77
    tmp = tempfile.mkdtemp(prefix="gm-dpctl-")
    from scapy.all import Ether, IP, UDP, Raw, wrpcap  # noqa: E402
    pcap = os.path.join(tmp, "loop.pcap")
    wrpcap(pcap, [Ether() / IP(src="10.1.1.%d" % i, dst="10.2.2.2") / UDP(sport=1000 + i, dport=2000)
                  / Raw(b"x" * 64) for i in range(16)])
    cfg = os.path.join(tmp, "gm.yaml")
    with open(cfg, "w") as f:
        f.write('lan: {dev: net_pcap0, next_hop_mac: "02:00:00:00:0a:01"}\n'
                'wan: {dev: net_null0, next_hop_mac: "02:00:00:00:0b:01"}\n'
                "idle_backoff: true\n")
    dp = subprocess.Popen([DP, "-l", "0,1", "-m", "256", "--no-pci", "--file-prefix", PREFIX,
                           "--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap,
                           "--vdev", "net_null0,no-rx=1", "--log-level=lib.eal:error",
                           "--", "--config", cfg],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: os.path.exists("/var/run/dpdk/%s/dpdk_telemetry.v2" % PREFIX),
                 "the telemetry socket")
        time.sleep(0.5)
        ports = telemetry("/gm/ports")
        check(ports["lan"]["rx"] > 0 and ports["wan"]["tx"] > 0,
              "no group yet: traffic is forwarded in clear (%d rx, %d tx)"
              % (ports["lan"]["rx"], ports["wan"]["tx"]))
        check(sa_counts() == {}, "no SA installed yet")
        eng = telemetry("/gm/crypto")
        flags = open("/proc/cpuinfo").read()
        check(eng["ipsec_mb_arch"] in ("SSE", "AVX", "AVX2", "AVX512")
              and eng["disabled_transforms"] == [],
              "/gm/crypto: ipsec-mb %s %s, every transform passed its self-test"
              % (eng["ipsec_mb_version"], eng["ipsec_mb_arch"]))
        check(eng["des3"] == ("ipsec-mb" if eng["ipsec_mb_arch"] == "AVX512" else "openssl")
              and bool(eng["hmac_sha_ni"]) == (" sha_ni" in flags
                                                and eng["ipsec_mb_arch"] != "AVX512"),
              "/gm/crypto: 3DES on %s, SHA-NI HMAC split %s, as this CPU calls for"
              % (eng["des3"], "on" if eng["hmac_sha_ni"] else "off"))
        vaes = all(" %s" % f in flags for f in ("avx2", "aes", "pclmulqdq", "vaes", "vpclmulqdq"))
        want_gcm = ("vaes-avx2" if vaes and eng["ipsec_mb_arch"] != "AVX512"
                    and os.environ.get("GM_GCM_ENGINE") != "ipsec-mb" else "ipsec-mb")
        check(eng["gcm"] == want_gcm, "/gm/crypto: AES-GCM on %s, as this CPU calls for"
              % eng["gcm"])
        shani = all(" %s" % f in flags for f in ("avx", "aes", "sha_ni", "ssse3", "sse4_1"))
        want_cbc = ("stitched-sha-ni" if shani and eng["ipsec_mb_arch"] != "AVX512"
                    and os.environ.get("GM_CBC_SHA1_ENGINE") != "ipsec-mb" else "ipsec-mb")
        check(eng["cbc_sha1"] == want_cbc,
              "/gm/crypto: AES-CBC-SHA1 on %s, as this CPU calls for" % eng["cbc_sha1"])
        want_dec = ("sha-ni+vaes" if want_cbc != "ipsec-mb"
                    and all(" %s" % f in flags for f in ("avx2", "vaes")) else "ipsec-mb")
        check(eng["cbc_sha1_decrypt"] == want_dec,
              "/gm/crypto: AES-CBC-SHA1 decryption on %s, as this CPU calls for"
              % eng["cbc_sha1_decrypt"])
        checked = eng["self_test_engine_checks"]
        want_checked = ["aes-cbc-128-sha1", "aes-cbc-256-sha1"] if want_cbc != "ipsec-mb" else []
        check(sorted(checked) == want_checked,
              "/gm/crypto: the self-test checked our engines against ipsec-mb for %s"
              % (", ".join(want_checked) or "no transform (ipsec-mb runs them)"))

        pol = os.path.join(tmp, "policy.txt")
        with open(pol, "w") as f:
            f.write("# the seed ACL\ndeny icmp any any\ndeny udp any port = 848 any port = 848\n"
                    "permit ip any any\n")
        rc, out = dpctl("policy", "--file", pol)
        check(rc == 0, "policy pushed through a memzone: " + out.strip())
        before = telemetry("/gm/ports")["lan"]["no_outbound_sa"]
        wait_for(lambda: telemetry("/gm/ports")["lan"]["no_outbound_sa"] > before,
                 "no_outbound_sa drops (protect without an SA)")

        key1 = "000102030405060708090a0b0c0d0e0f10111213"
        rc, out = dpctl("sa-add", "--spi", "0x3000", "--transform", "aes-gcm-128", "--key", key1)
        check(rc == 0, "sa-add: " + out.strip())
        rc, out = dpctl("activate", "--spi", "0x3000")
        check(rc == 0, "activate: " + out.strip())
        wait_for(lambda: sa_counts().get(0x3000, {}).get("pkts_encaps", 0) > 1000,
                 "encryption on SPI 0x3000")

        # dpdk-dumpcap (pdump) captures the WAN port: what leaves it is ESP with SPI 0x3000.
        cap = os.path.join(tmp, "wan.pcapng")
        p = subprocess.run(["dpdk-dumpcap", "--file-prefix=" + PREFIX, "-i", "net_null0", "-c",
                            "20", "-q", "-w", cap], capture_output=True, text=True, timeout=60)
        spis = subprocess.run(["tshark", "-r", cap, "-T", "fields", "-e", "esp.spi"],
                              capture_output=True, text=True, timeout=60).stdout.split()
        check(p.returncode == 0 and len(spis) >= 20 and set(spis) == {"0x00003000"},
              "dpdk-dumpcap on the WAN port sees ESP with SPI 0x3000 (rc %d, %d packets: %s %s)" % (p.returncode, len(spis), set(spis), p.stderr[-200:]))

        rc, out = dpctl("sa-add", "--spi", "0x3000", "--transform", "aes-gcm-128", "--key", key1)
        check(rc != 0 and "already installed" in out, "a duplicate SPI is refused: " + out.strip())
        rc, out = dpctl("sa-add", "--spi", "0x3001", "--transform", "aes-gcm-128", "--key", "0011")
        check(rc != 0 and "key length" in out, "a short key is refused: " + out.strip())
        rc, out = dpctl("activate", "--spi", "0x9999")
        check(rc != 0 and "no SA" in out, "activating an unknown SPI is refused: " + out.strip())

        # Rekey: new TEK inbound, then outbound, then the old one goes.
        rc, out = dpctl("sa-add", "--spi", "0x4000", "--transform", "aes-cbc-128-sha1",
                        "--key", "00" * 16, "--auth-key", "11" * 20)
        check(rc == 0, "second SA added: " + out.strip())
        rc, out = dpctl("activate", "--spi", "0x4000")
        check(rc == 0, "outbound switched: " + out.strip())
        wait_for(lambda: sa_counts().get(0x4000, {}).get("pkts_encaps", 0) > 1000,
                 "encryption on the new SPI")
        old1 = sa_counts()[0x3000]["pkts_encaps"]
        time.sleep(0.3)
        check(sa_counts()[0x3000]["pkts_encaps"] == old1, "the old SPI no longer encrypts")
        rc, out = dpctl("sa-del", "--spi", "0x3000")
        check(rc == 0, "sa-del: " + out.strip())
        wait_for(lambda: set(sa_counts()) == {0x4000}, "the old SA to disappear")

        rc, out = dpctl("pseudotime", "--ms", "5000000", "--window-ms", "4000")
        check(rc == 0, "pseudotime sync: " + out.strip())
        rc, out = dpctl("flush")
        check(rc == 0, "flush: " + out.strip())
        wait_for(lambda: sa_counts() == {}, "flush to remove every SA")
        replay = telemetry("/gm/replay")
        check(replay["output_packets"] > 0, "TBAR stamped %d packets" % replay["output_packets"])
        lcores = telemetry("/gm/lcores")
        check("worker0" in lcores, "per-lcore counters published")
    finally:
        dp.send_signal(signal.SIGINT)
        try:
            out, _ = dp.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            dp.kill()
            out, _ = dp.communicate()
        check(dp.returncode == 0, "gm-dataplane exits cleanly on SIGINT (rc %s)" % dp.returncode)
        check("#pkts encaps:" in out, "and prints show crypto ipsec sa")
        subprocess.run(["rm", "-rf", tmp])
        remove_runtime(PREFIX)
    rc, out = subprocess.run([DPCTL, "--file-prefix", PREFIX + "x", "--", "flush"],
                             capture_output=True, text=True, timeout=30).returncode, ""
    check(rc != 0, "gm-dpctl without a running data plane fails")
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
