#!/usr/bin/python3
"""Two gm-dataplane processes back to back over kernel veth pairs (net_af_packet), with a
host behind each, all in network namespaces this test creates and deletes: ping and a
2 MB TCP transfer from host A to host B cross the WAN as ESP with preserved headers
(checked with tshark on the WAN veth), with a static group on both GMs and no key
server. This is the lab's data path; every name carries the test's pid."""
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

DP = sys.argv[1]
TAG = str(os.getpid() % 100000)
NS = {n: "%s%s" % (n, TAG) for n in ("hA", "gA", "gB", "hB")}
KEY = "2b7e151628aed2a6abf7158809cf4f3cdeadbeef"
MAC = {"hA0": "02:0a:00:00:00:02", "gAl": "02:0a:00:00:00:01", "gAw": "02:0c:00:00:00:01",
       "gBw": "02:0c:00:00:00:02", "gBl": "02:0b:00:00:00:01", "hB0": "02:0b:00:00:00:02"}
failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg, flush=True)
    if not cond:
        failures.append(msg)


def sh(*cmd, ns=None, check_rc=True, timeout=30, **kw):
    full = (["ip", "netns", "exec", ns] if ns else []) + list(cmd)
    p = subprocess.run(full, capture_output=True, text=True, timeout=timeout, **kw)
    if check_rc and p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(full), p.stderr.strip()))
    return p


def veth(a, ns_a, b, ns_b):
    name_a, name_b = a + TAG, b + TAG
    sh("ip", "link", "add", name_a, "type", "veth", "peer", "name", name_b)
    for name, ns, key in ((name_a, ns_a, a), (name_b, ns_b, b)):
        sh("ip", "link", "set", name, "netns", ns)
        sh("ip", "link", "set", name, "address", MAC[key], ns=ns)
        sh("ip", "link", "set", name, "up", ns=ns)
        # Full checksums on the wire: a GM sees what a NIC would (no CHECKSUM_PARTIAL).
        sh("ethtool", "-K", name, "tx", "off", ns=ns, check_rc=False)
    return name_a, name_b


def setup():
    for ns in NS.values():
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "set", "lo", "up", ns=ns)
        sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", ns=ns, check_rc=False)
    ha, gal = veth("hA0", NS["hA"], "gAl", NS["gA"])
    gaw, gbw = veth("gAw", NS["gA"], "gBw", NS["gB"])
    gbl, hb = veth("gBl", NS["gB"], "hB0", NS["hB"])
    for host, dev, addr, gw, gw_mac in ((NS["hA"], ha, "10.1.0.2/24", "10.1.0.1", MAC["gAl"]),
                                        (NS["hB"], hb, "10.2.0.2/24", "10.2.0.1", MAC["gBl"])):
        sh("ip", "addr", "add", addr, "dev", dev, ns=host)
        sh("ip", "route", "add", "default", "via", gw, ns=host)
        # The GM does not answer ARP yet: the hosts know their gateway's MAC.
        sh("ip", "neigh", "replace", gw, "lladdr", gw_mac, "dev", dev, "nud", "permanent", ns=host)
    return {"gA": (gal, gaw), "gB": (gbl, gbw), "hA": ha, "hB": hb}


def teardown():
    for ns in NS.values():
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def start_gm(tmp, name, lan_if, wan_if, lan_next, wan_next, lan_ip):
    cfg = os.path.join(tmp, name + ".yaml")
    with open(cfg, "w") as f:
        f.write("lan: {dev: net_af_packet0, next_hop_mac: \"%s\", ip: %s, mss_clamp: 1360}\n"
                "wan: {dev: net_af_packet1, next_hop_mac: \"%s\"}\n"
                "idle_backoff: true\nsender_id: %d\n"
                "static_group:\n  transform: aes-gcm-128\n  spi: 0x1234abcd\n  key: \"%s\"\n"
                "  window: 4\n  pseudotime_ms: 442843290\n  acl:\n"
                "    - deny udp any port = 848 any port = 848\n    - permit ip any any\n"
                % (lan_next, lan_ip, wan_next, 1 if name == "gA" else 2, KEY))
    os.chmod(cfg, 0o600)
    stats = os.path.join(tmp, name + ".json")
    cmd = ["ip", "netns", "exec", NS[name], DP, "-l", "0,1", "--no-huge", "-m", "256",
           "--no-pci", "--file-prefix", "gmveth%s%s" % (name, TAG), "--log-level=lib.eal:error",
           "--vdev", "net_af_packet0,iface=%s" % lan_if, "--vdev", "net_af_packet1,iface=%s" % wan_if,
           "--", "--config", cfg, "--stats-json", stats]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True), stats


SERVER = r"""
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.2.0.2", 5001)); s.listen(1); s.settimeout(30)
c, _ = s.accept(); h = hashlib.sha256(); n = 0
while True:
    d = c.recv(65536)
    if not d: break
    h.update(d); n += len(d)
c.sendall(("%d %s" % (n, h.hexdigest())).encode()); c.close()
"""

CLIENT = r"""
import socket, sys
data = bytes(range(256)) * 8192
s = socket.create_connection(("10.2.0.2", 5001), timeout=30)
s.sendall(data); s.shutdown(socket.SHUT_WR)
print(s.recv(200).decode())
"""


def main():
    tmp = tempfile.mkdtemp(prefix="gm-veth-")
    gms = []
    try:
        ifs = setup()
        gal, gaw = ifs["gA"]
        gbl, gbw = ifs["gB"]
        gms.append(start_gm(tmp, "gA", gal, gaw, MAC["hA0"], MAC["gBw"], "10.1.0.1"))
        gms.append(start_gm(tmp, "gB", gbl, gbw, MAC["hB0"], MAC["gAw"], "10.2.0.1"))
        time.sleep(2)
        for p, _ in gms:
            check(p.poll() is None, "a GM is running")
        cap = os.path.join(tmp, "wan.pcap")
        tshark = subprocess.Popen(["ip", "netns", "exec", NS["gA"], "tshark", "-q", "-i", gaw,
                                   "-a", "duration:12", "-w", cap],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(2)
        p = sh("ping", "-c", "5", "-i", "0.2", "-W", "2", "10.2.0.2", ns=NS["hA"], check_rc=False)
        check(p.returncode == 0 and " 0% packet loss" in p.stdout,
              "host A pings host B through both GMs: " + p.stdout.strip().splitlines()[-2]
              if p.stdout.strip() else "no ping output")
        server = subprocess.Popen(["ip", "netns", "exec", NS["hB"], "/usr/bin/python3", "-c", SERVER],
                                  stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)
        c = sh("/usr/bin/python3", "-c", CLIENT, ns=NS["hA"], check_rc=False, timeout=60)
        server.wait(timeout=30)
        want = "%d %s" % (256 * 8192, hashlib.sha256(bytes(range(256)) * 8192).hexdigest())
        check(c.stdout.strip() == want, "2 MB over TCP arrive intact: " + (c.stdout.strip() or c.stderr.strip()))
        tshark.wait(timeout=30)
        fields = sh("tshark", "-r", cap, "-T", "fields", "-e", "ip.src", "-e", "ip.dst",
                    "-e", "ip.proto", "-e", "esp.spi", "ip").stdout.split("\n")
        rows = [r.split("\t") for r in fields if r.strip()]
        esp = [r for r in rows if r[2] == "50"]
        clear = [r for r in rows if r[2] != "50"]
        check(len(esp) >= 10, "the WAN carries ESP (%d packets)" % len(esp))
        check(not clear, "nothing crosses the WAN in clear (%d clear IPv4 packets)" % len(clear))
        check(all({r[0], r[1]} == {"10.1.0.2", "10.2.0.2"} for r in esp),
              "every ESP packet keeps the hosts' addresses (header preservation)")
        check(all(r[3] == "0x1234abcd" for r in esp), "every ESP packet uses the group SPI")
    finally:
        for p, _ in gms:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        outs = []
        for p, stats in gms:
            try:
                out, _ = p.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                out, _ = p.communicate()
            outs.append(out)
            if os.path.exists(stats):
                with open(stats) as f:
                    st = json.load(f)
                sa = st["sas"][0]
                check(sa["encaps"] > 0 and sa["decaps"] > 0 and not sa["drops"],
                      "GM counters: %d encaps, %d decaps, drops %s" % (sa["encaps"], sa["decaps"], sa["drops"]))
                check(st["lan"]["mss_clamped"] > 0,
                      "the SYN (GM A) and SYN-ACK (GM B) from the LAN got their MSS clamped (%d)" % st["lan"]["mss_clamped"])
            else:
                check(False, "GM wrote its stats:\n" + out[-1500:])
        teardown()
        subprocess.run(["rm", "-rf", tmp])
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
