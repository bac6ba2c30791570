"""The lab's network: two hosts, two GMs and a WAN in network namespaces joined by veth
pairs, and gm-dataplane processes on net_af_packet. Shared by tools/lab.py and the
integration tests. Every name carries a tag (the pid) so runs never collide."""
import json
import os
import signal
import socket
import subprocess
import time

MAC = {"hA0": "02:0a:00:00:00:02", "gAl": "02:0a:00:00:00:01", "gAw": "02:0c:00:00:00:01",
       "gBw": "02:0c:00:00:00:02", "gBl": "02:0b:00:00:00:01", "hB0": "02:0b:00:00:00:02"}
ADDR = {"hA": "10.1.0.2", "gA": "10.1.0.1", "hB": "10.2.0.2", "gB": "10.2.0.1"}


def free_hugepages():
    """Free 2 MB hugepages on a mounted /dev/hugepages (0 if none). Multi-process DPDK
    (a secondary such as gm-dpctl attaching to gm-dataplane) needs them."""
    try:
        with open("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages") as f:
            free = int(f.read())
    except OSError:
        return 0
    return free if os.path.ismount("/dev/hugepages") else 0


def telemetry(prefix, cmd):
    """One DPDK telemetry command against the process with --file-prefix `prefix`."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect("/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix)
    s.recv(1024)
    s.send(cmd.encode())
    reply = json.loads(s.recv(1 << 20))
    s.close()
    return reply[cmd.split(",")[0]]


def remove_runtime(prefix):
    """Removes a DPDK process's runtime directory and any hugepage files it left behind
    (a primary killed before cleanup does)."""
    subprocess.run(["rm", "-rf", "/var/run/dpdk/" + prefix])
    if os.path.isdir("/dev/hugepages"):
        for name in os.listdir("/dev/hugepages"):
            if name.startswith(prefix + "map_"):
                os.unlink(os.path.join("/dev/hugepages", name))


def sh(*cmd, ns=None, check=True, timeout=30, **kw):
    full = (["ip", "netns", "exec", ns] if ns else []) + list(cmd)
    p = subprocess.run(full, capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(full), p.stderr.strip()))
    return p


class Lab:
    def __init__(self, dataplane, tag=None, hugepages=False):
        self.dp = dataplane
        self.tag = tag or str(os.getpid() % 100000)
        self.ns = {n: "%s%s" % (n, self.tag) for n in ("hA", "gA", "gB", "hB")}
        self.ifs = {}
        self.gms = {}
        self.hugepages = hugepages

    def prefix(self, gm):
        return "gmlab%s%s" % (gm, self.tag)

    def _veth(self, a, ns_a, b, ns_b):
        name_a, name_b = a + self.tag, b + self.tag
        sh("ip", "link", "add", name_a, "type", "veth", "peer", "name", name_b)
        for name, ns, key in ((name_a, ns_a, a), (name_b, ns_b, b)):
            sh("ip", "link", "set", name, "netns", ns)
            sh("ip", "link", "set", name, "address", MAC[key], ns=ns)
            sh("ip", "link", "set", name, "up", ns=ns)
            # Full checksums on the wire: the GM sees what a NIC would.
            sh("ethtool", "-K", name, "tx", "off", ns=ns, check=False)
        self.ifs[a], self.ifs[b] = name_a, name_b

    def build(self):
        for ns in self.ns.values():
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)
            sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", ns=ns, check=False)
        self._veth("hA0", self.ns["hA"], "gAl", self.ns["gA"])
        self._veth("gAw", self.ns["gA"], "gBw", self.ns["gB"])
        self._veth("gBl", self.ns["gB"], "hB0", self.ns["hB"])
        for host, dev, gw, gw_mac in (("hA", "hA0", "gA", MAC["gAl"]), ("hB", "hB0", "gB", MAC["gBl"])):
            ns = self.ns[host]
            sh("ip", "addr", "add", ADDR[host] + "/24", "dev", self.ifs[dev], ns=ns)
            sh("ip", "route", "add", "default", "via", ADDR[gw], ns=ns)
            # The GM does not answer ARP yet: each host knows its gateway's MAC.
            sh("ip", "neigh", "replace", ADDR[gw], "lladdr", gw_mac, "dev", self.ifs[dev],
               "nud", "permanent", ns=ns)

    def start_gm(self, gm, workdir, key, spi=0x1234abcd, pseudotime_ms=442843290):
        lan, wan = ("gAl", "gAw") if gm == "gA" else ("gBl", "gBw")
        lan_next, wan_next = (MAC["hA0"], MAC["gBw"]) if gm == "gA" else (MAC["hB0"], MAC["gAw"])
        cfg = os.path.join(workdir, gm + ".yaml")
        with open(cfg, "w") as f:
            f.write("lan: {dev: net_af_packet0, next_hop_mac: \"%s\", ip: %s, mss_clamp: 1360}\n"
                    "wan: {dev: net_af_packet1, next_hop_mac: \"%s\"}\n"
                    "idle_backoff: true\nsender_id: %d\n"
                    "static_group:\n  transform: aes-gcm-128\n  spi: %d\n  key: \"%s\"\n"
                    "  window: 4\n  pseudotime_ms: %d\n  acl:\n"
                    "    - deny udp any port = 848 any port = 848\n    - permit ip any any\n"
                    % (lan_next, ADDR[gm], wan_next, 1 if gm == "gA" else 2, spi, key,
                       pseudotime_ms))
        os.chmod(cfg, 0o600)
        stats = os.path.join(workdir, gm + ".json")
        mem = ["-m", "256"] if self.hugepages else ["--no-huge", "-m", "256"]
        cmd = ["ip", "netns", "exec", self.ns[gm], self.dp, "-l", "0,1", "--no-pci",
               "--file-prefix", self.prefix(gm), "--log-level=lib.eal:error"] + mem + [
            "--vdev", "net_af_packet0,iface=%s" % self.ifs[lan],
            "--vdev", "net_af_packet1,iface=%s" % self.ifs[wan],
            "--", "--config", cfg, "--stats-json", stats]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.gms[gm] = (p, stats)
        return p

    def wait_ready(self, timeout=15):
        """Until each GM's telemetry socket answers (its workers are forwarding)."""
        end = time.time() + timeout
        for gm in self.gms:
            path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % self.prefix(gm)
            while not os.path.exists(path):
                if time.time() > end or self.gms[gm][0].poll() is not None:
                    return False
                time.sleep(0.1)
        return True

    def telemetry(self, gm, cmd):
        return telemetry(self.prefix(gm), cmd)

    def stop_gms(self):
        """SIGINT every GM; returns {gm: (output, stats dict or None)}."""
        for p, _ in self.gms.values():
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        out = {}
        for gm, (p, stats) in self.gms.items():
            try:
                text, _ = p.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                text, _ = p.communicate()
            st = None
            if os.path.exists(stats):
                with open(stats) as f:
                    st = json.load(f)
            out[gm] = (text, st)
        self.gms = {}
        return out

    def teardown(self):
        self.stop_gms()
        for ns in self.ns.values():
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        for gm in ("gA", "gB"):
            remove_runtime(self.prefix(gm))
