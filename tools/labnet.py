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
# The GMs' WAN ports' own addresses, used only with Lab(arp=True): each is the other's
# next hop, found by ARP (ESP itself carries the hosts' addresses: header preservation).
WAN_ADDR = {"gA": "192.0.2.1", "gB": "192.0.2.2"}
# The GMs reach the KS over a control network (a bridge in the KS's namespace), apart from
# the DPDK-owned WAN ports: the kernel stack of a GM's namespace carries UDP 848.
CTL = {"ks": "10.99.0.1", "gA": "10.99.0.2", "gB": "10.99.0.3", "ks2": "10.99.0.4"}
MAC.update({"gAk": "02:0d:00:00:00:02", "ksA": "02:0d:00:00:01:02",
            "gBk": "02:0d:00:00:00:03", "ksB": "02:0d:00:00:01:03"})
# The optional WAN hop's ends (Lab.build(wan_hop=True)).
MAC.update({"wA": "02:0e:00:00:00:01", "wB": "02:0e:00:00:00:02"})


# More branch subnets than the lab's hosts use: with them the KS's registration and rekey
# messages exceed the 1500-byte MTU of the control legs, so UDP 848 arrives in IP fragments
# (spec §7: fragmented rekeys must not be lost).
EXTRA_ACES = "".join("  - permit ip 10.%d.0.0 0.0.255.255 10.%d.0.0 0.0.255.255\n" % (a, b)
                     for a, b in [(1, 10 + i) for i in range(12)] + [(10 + i, 1) for i in range(12)])


def ip_reassembled(ns):
    """IP datagrams the kernel of namespace `ns` has reassembled from fragments."""
    text = sh("cat", "/proc/net/snmp", ns=ns).stdout
    lines = [l.split() for l in text.splitlines() if l.startswith("Ip:")]
    return int(lines[1][lines[0].index("ReasmOKs")])


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
    def __init__(self, dataplane, tag=None, hugepages=False, arp=False):
        """arp: no static neighbour entry anywhere; the GMs answer ARP for their addresses
        and find their next hops (the host; the other GM's WAN port) by ARP. Otherwise the
        hosts hold their gateway's MAC and the GMs their next hops' (next_hop_mac)."""
        self.dp = dataplane
        self.arp = arp
        self.tag = tag or str(os.getpid() % 100000)
        self.ns = {n: "%s%s" % (n, self.tag) for n in ("hA", "gA", "gB", "hB")}
        self.ifs = {}
        self.gms = {}
        self.procs = {}  # name -> Popen: gm-ks, gm-control per GM
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

    def build(self, wan_hop=False):
        """The namespaces and veths. wan_hop: the WAN goes through a namespace of its own
        ("wan"), a veth from each GM's WAN port (wA, wB there), with nothing joining them:
        a relay there carries, and may impair, the frames (tests/soak/wanrelay.py)."""
        if wan_hop:
            self.ns["wan"] = "wan" + self.tag
        for ns in self.ns.values():
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)
            sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", ns=ns, check=False)
        self._veth("hA0", self.ns["hA"], "gAl", self.ns["gA"])
        if wan_hop:
            self._veth("gAw", self.ns["gA"], "wA", self.ns["wan"])
            self._veth("wB", self.ns["wan"], "gBw", self.ns["gB"])
        else:
            self._veth("gAw", self.ns["gA"], "gBw", self.ns["gB"])
        self._veth("gBl", self.ns["gB"], "hB0", self.ns["hB"])
        for host, dev, gw, gw_mac in (("hA", "hA0", "gA", MAC["gAl"]), ("hB", "hB0", "gB", MAC["gBl"])):
            ns = self.ns[host]
            sh("ip", "addr", "add", ADDR[host] + "/24", "dev", self.ifs[dev], ns=ns)
            sh("ip", "route", "add", "default", "via", ADDR[gw], ns=ns)
            if not self.arp:
                sh("ip", "neigh", "replace", ADDR[gw], "lladdr", gw_mac, "dev", self.ifs[dev],
                   "nud", "permanent", ns=ns)

    def build_ks_net(self):
        """A KS namespace with a bridge; each GM namespace gets a leg on it."""
        self.ns["ks"] = "ks" + self.tag
        ks = self.ns["ks"]
        sh("ip", "netns", "add", ks)
        sh("ip", "link", "set", "lo", "up", ns=ks)
        # No IGMP snooping: with no querier on this bridge, multicast rekeys just flood.
        sh("ip", "link", "add", "br0", "type", "bridge", "mcast_snooping", "0", ns=ks)
        sh("ip", "link", "set", "br0", "up", ns=ks)
        sh("ip", "addr", "add", CTL["ks"] + "/24", "dev", "br0", ns=ks)
        sh("ip", "route", "add", "224.0.0.0/4", "dev", "br0", ns=ks)
        for gm, leg, port in (("gA", "gAk", "ksA"), ("gB", "gBk", "ksB")):
            self._veth(leg, self.ns[gm], port, ks)
            sh("ip", "link", "set", self.ifs[port], "master", "br0", ns=ks)
            sh("ip", "addr", "add", CTL[gm] + "/24", "dev", self.ifs[leg], ns=self.ns[gm])
            sh("ip", "route", "add", "224.0.0.0/4", "dev", self.ifs[leg], ns=self.ns[gm])

    def _spawn(self, name, ns, cmd, log):
        f = open(log, "w")
        p = subprocess.Popen(["ip", "netns", "exec", ns] + cmd, stdout=f, stderr=subprocess.STDOUT)
        self.procs[name] = (p, log)
        return p

    def write_ks_config(self, workdir, name="ks", transport="unicast", tek_lifetime=600,
                        state_file=None, more_aces=""):
        """gm-ks's YAML for KS `name` ('ks' or 'ks2', listening on CTL[name]); `more_aces`:
        ACE lines appended to the lab ACL (a policy change for `reload`). Returns the path."""
        psk = os.path.join(workdir, "psk")
        if not os.path.exists(psk):
            # Written once, whole: a KS re-reading its config (reload) must never see it
            # truncated while another config is being written.
            with open(psk + ".new", "w") as f:
                f.write("getvpn-lab-secret\n")
            os.chmod(psk + ".new", 0o600)
            os.replace(psk + ".new", psk)
        cfg = os.path.join(workdir, name + ".yaml")
        # Multicast: the GAP activation delay is half of before_expiry (4 s here).
        mcast = (", address: 239.192.1.190, before_expiry: 8" if transport == "multicast" else
                 ", retransmit: {period: 1, count: 2}, ack_missed_limit: 3, before_expiry: %d"
                 % min(60, tek_lifetime // 2))
        # Both KSs sign with the same RSA key (key sharing needs it).
        redundancy = ("redundancy: {state_file: %s, takeover_after: 3}\n" % state_file
                      if state_file else "")
        text = ("listen: %s\n"
                "group: {name: GETVPN-LAB, identity: 1234}\n"
                "psk: [{peer: any, key_file: %s}]\n"
                "acl:\n"
                "  - deny udp any eq 848 any eq 848\n"
                "  - permit ip 10.1.0.0 0.0.255.255 10.2.0.0 0.0.255.255\n"
                "  - permit ip 10.2.0.0 0.0.255.255 10.1.0.0 0.0.255.255\n"
                "%s%s"
                "tek: {transform: aes-gcm-128, lifetime: %d, replay: {mode: time, window: 5}}\n"
                "kek: {algorithm: aes-128, lifetime: 3600, sig_hash: sha256, rsa_key: %s, rsa_bits: 2048}\n"
                "rekey: {transport: %s%s}\n"
                "sender_ids: true\n"
                "%s"
                "socket: %s\n" % (CTL[name], psk, EXTRA_ACES, more_aces, tek_lifetime,
                                   os.path.join(workdir, "ks-rsa.pem"), transport, mcast,
                                   redundancy, self.ks_socket(workdir, name)))
        tmp = cfg + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, cfg)  # a reload never reads a half-written file
        return cfg

    def start_ks(self, bindir, workdir, transport="unicast", tek_lifetime=600, name="ks",
                 state_file=None):
        """gm-ks `name` in the KS namespace ('ks2': a second KS on 10.99.0.4 of the same
        bridge). `tek_lifetime` (s): the soak test rekeys every few seconds and keeps it
        short, so the GMs hold few old TEKs (each takes an SA slot until it expires); unicast
        rekeys go out min(60, lifetime / 2) s before expiry. `state_file`: the KSs share the
        group's keys through it (gm-ks `redundancy`)."""
        if name != "ks":
            sh("ip", "addr", "replace", CTL[name] + "/24", "dev", "br0", ns=self.ns["ks"])
        cfg = self.write_ks_config(workdir, name, transport, tek_lifetime, state_file)
        return self._spawn(name, self.ns["ks"], [os.path.join(bindir, "control", "ks", "gm-ks"),
                                                 "--config", cfg, "--foreground"],
                           os.path.join(workdir, name + ".log"))

    def wait_log(self, name, text, timeout):
        """Until lab process `name`'s log holds `text` (False after `timeout` s)."""
        end = time.time() + timeout
        while time.time() < end:
            with open(self.procs[name][1]) as f:
                if text in f.read():
                    return True
            time.sleep(0.1)
        return False

    def ks_socket(self, workdir, name="ks"):
        return os.path.join(workdir, name + ".sock")

    def gm_socket(self, gm, workdir):
        return os.path.join(workdir, gm + "-control.sock")

    def start_control(self, gm, bindir, workdir, servers=None):
        """`servers`: the KS list in failover order (default: the lab KS alone)."""
        cfg = os.path.join(workdir, gm + "-control.yaml")
        with open(cfg, "w") as f:
            f.write("group: {name: GETVPN-LAB, identity: 1234, servers: [%s]}\n"
                    "local_address: %s\n"
                    "psk_file: %s\n"
                    "local_acl: [\"deny udp any eq 848 any eq 848\"]\n"
                    "dataplane: {file_prefix: %s}\n"
                    "socket: %s\n"
                    "timers: {retransmit: 1, retransmit_count: 1, activation_delay: 2}\n"
                    "prometheus: 127.0.0.1:9464\n"
                    "interface: net_af_packet1\n" % (", ".join(servers or [CTL["ks"]]), CTL[gm], os.path.join(workdir, "psk"),
                                                     self.prefix(gm), self.gm_socket(gm, workdir)))
        os.chmod(cfg, 0o600)
        return self._spawn("ctl" + gm, self.ns[gm], [os.path.join(bindir, "control", "gm", "gm-control"),
                                                     "--config", cfg],
                           os.path.join(workdir, gm + "-control.log"))

    def gmctl(self, bindir, socket_path, *words):
        p = subprocess.run([os.path.join(bindir, "control", "gmctl"), "-s", socket_path] + list(words),
                           capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout + p.stderr

    def stop_procs(self):
        """SIGTERM gm-control and gm-ks (before their data planes go); returns their logs."""
        for p, _ in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        logs = {}
        for name, (p, log) in self.procs.items():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            with open(log) as f:
                logs[name] = f.read()
        self.procs = {}
        return logs

    def start_gm(self, gm, workdir, key=None, spi=0x1234abcd, pseudotime_ms=442843290):
        lan, wan = ("gAl", "gAw") if gm == "gA" else ("gBl", "gBw")
        lan_next, wan_next = (MAC["hA0"], MAC["gBw"]) if gm == "gA" else (MAC["hB0"], MAC["gAw"])
        cfg = os.path.join(workdir, gm + ".yaml")
        host, peer = ("hA", "gB") if gm == "gA" else ("hB", "gA")
        if self.arp:
            lan_hop = "next_hop_ip: %s" % ADDR[host]
            wan_hop = "ip: %s, next_hop_ip: %s" % (WAN_ADDR[gm], WAN_ADDR[peer])
        else:
            lan_hop = "next_hop_mac: \"%s\"" % lan_next
            wan_hop = "next_hop_mac: \"%s\"" % wan_next
        with open(cfg, "w") as f:
            f.write("lan: {dev: net_af_packet0, %s, ip: %s, mss_clamp: 1360}\n"
                    "wan: {dev: net_af_packet1, %s}\n"
                    "idle_backoff: true\nsender_id: %d\n"
                    % (lan_hop, ADDR[gm], wan_hop, 1 if gm == "gA" else 2))
            if key is not None:  # a static group; else gm-control installs the KS's
                f.write("static_group:\n  transform: aes-gcm-128\n  spi: %d\n  key: \"%s\"\n"
                        "  window: 4\n  pseudotime_ms: %d\n  acl:\n"
                        "    - deny udp any port = 848 any port = 848\n    - permit ip any any\n"
                        % (spi, key, pseudotime_ms))
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
        """Until each GM's telemetry socket answers (its workers are forwarding) and, with
        arp, each has found both its next hops."""
        end = time.time() + timeout
        for gm in self.gms:
            path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % self.prefix(gm)
            while not os.path.exists(path):
                if time.time() > end or self.gms[gm][0].poll() is not None:
                    return False
                time.sleep(0.1)
        for gm in self.gms if self.arp else []:
            # None until the data plane has registered its endpoints, after EAL's socket.
            while not all(n["resolved"] for n in
                          (self.telemetry(gm, "/gm/neighbors") or {"": {"resolved": 0}}).values()):
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
        self.stop_procs()
        self.stop_gms()
        for ns in self.ns.values():
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        for gm in ("gA", "gB"):
            remove_runtime(self.prefix(gm))
