-- pktgen-dpdk profile for gm-dataplane with configs/pktgen-gcm.yaml (docs/benchmarking.md).
--
--   pktgen port 0 -> GM LAN (cleartext)      GM WAN (ESP) -> pktgen port 1   "encrypt"
--   pktgen port 1 -> GM WAN (ESP, a pcap)    GM LAN       -> pktgen port 0   "decrypt"
--
-- encrypt: pktgen builds one UDP flow 10.1.0.1:1024 -> 192.168.1.1:5001 per size (one
-- flow = one RSS queue = one GM worker: a per-core figure). With pcaps loaded on the
-- command line (`-s 0:lan-clear-1420.pcap`, perf/pktgen/make_pcaps.py, 256 flows) set
-- MODE = "pcap": the loaded frames are sent instead, at their own size (SIZES = {that}).
-- decrypt: always from a pcap on port 1 (`-s 1:wan-esp-1420.pcap`): pktgen cannot make
-- ESP with our key.
--
-- Sizes are the cleartext frame FCS excluded, as in perf/ (64 = a 60-byte IP packet);
-- pktgen counts the FCS in its "size", so 4 is added below. Gbps counts cleartext frame
-- bits, as perf/dataplane_bench.py does, so the two read alike.
--
-- Written against the Pktgen-DPDK Lua API of the 21.x-23.x releases (pktgen.set,
-- set_mac with "src"/"dst", set_ipaddr, set_proto, pcap, portStats); Debian 12 has no
-- pktgen package, so this file is not run by the project's tests.
package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;"
require "Pktgen"

local DIRECTION = "encrypt"            -- "encrypt" or "decrypt"
local MODE = "single"                  -- encrypt only: "single" (built-in flow) or "pcap"
local SIZES = {64, 512, 1420}          -- cleartext frame bytes, FCS excluded
local WARMUP_MS = 2000
local MEASURE_MS = 10000
local RATE = 100                       -- percent of line rate offered
local GM_LAN_MAC = "02:00:00:00:0a:00" -- destination MAC: the GM's LAN port
local PKTGEN_MAC0 = "02:00:00:00:00:01" -- must equal lan.next_hop_mac in the GM config

local tx_port, rx_port = "0", "1"
if DIRECTION == "decrypt" then
  tx_port, rx_port = "1", "0"
end

local function counters(port)
  local s = pktgen.portStats(port, "port")[tonumber(port)]
  return s.opackets, s.ipackets, s.imissed or 0, s.ierrors
end

local function measure(size)
  pktgen.clear("all")
  pktgen.start(tx_port)
  pktgen.delay(WARMUP_MS)
  local tx0 = counters(tx_port)
  local _, rx0 = counters(rx_port)
  pktgen.delay(MEASURE_MS)
  local tx1 = counters(tx_port)
  local _, rx1, missed, errors = counters(rx_port)
  pktgen.stop(tx_port)
  local secs = MEASURE_MS / 1000
  local offered = (tx1 - tx0) / secs
  local forwarded = (rx1 - rx0) / secs
  printf("%-8s %5d B  offered %8.3f Mpps  forwarded %8.3f Mpps  %7.3f Gbps  " ..
         "loss %6.3f %%  rx missed %d errors %d\n",
         DIRECTION, size, offered / 1e6, forwarded / 1e6, forwarded * size * 8 / 1e9,
         offered > 0 and 100 * (1 - forwarded / offered) or 0, missed, errors)
end

pktgen.set(tx_port, "rate", RATE)
if DIRECTION == "encrypt" and MODE == "single" then
  pktgen.set_mac(tx_port, "src", PKTGEN_MAC0)
  pktgen.set_mac(tx_port, "dst", GM_LAN_MAC)
  pktgen.set_proto(tx_port, "udp")
  pktgen.set_ipaddr(tx_port, "src", "10.1.0.1/16")
  pktgen.set_ipaddr(tx_port, "dst", "192.168.1.1")
  pktgen.set(tx_port, "sport", 1024)
  pktgen.set(tx_port, "dport", 5001)
  for _, size in ipairs(SIZES) do
    pktgen.set(tx_port, "size", size + 4)
    measure(size)
  end
else
  -- The frames are the pcap's; SIZES[1] only labels the line and sizes the Gbps.
  pktgen.pcap(tx_port, "on")
  measure(SIZES[1])
end
