#!/usr/bin/env bash
# netlab.sh: seam's three-host network lab on one Linux machine (root only).
#
#   device (seam-device) 10.77.1.1 <--veth--> 10.77.1.2 edge (seam-edge) 10.77.2.1 <--veth--> cloud
#                                                                         (seam-cloud) 10.77.2.2
#
# Each host is a network namespace. The device reaches only the edge, the cloud only the edge, the
# edge both (connected /24 routes only, no default route, no forwarding). Bandwidth is `tc tbf` on
# both ends of each veth, so it holds in each direction. Round-trip time is NOT done by tc (this
# kernel has no netem): `up` records it, and the caller puts a `seam relay --delay-ms RTT/2` in
# front of the receiving server (`netlab.sh relay`), which delays each direction by half the RTT.
#
#   netlab.sh check
#       exit 0 if this machine can build the lab (root, `ip netns`, veth and `tc tbf` work); else
#       print why and exit 2, so callers can fall back to loopback + `seam relay --rate`.
#   netlab.sh up --device-edge RATE,RTT --edge-cloud RATE,RTT [--device-cpu CORES]
#       e.g. up --device-edge 20mbit,5ms --edge-cloud 100mbit,20ms --device-cpu 0.5
#       RATE: 20mbit, 1.5gbit, 800kbit or bit/s. RTT: 5ms, 500us, 0.1s or ms.
#       CORES: a cgroup v1 CPU quota (cfs_quota_us = CORES x cfs_period_us) for `exec device`.
#       Idempotent: run it again to change rates or the quota in place (relays keep running; a new
#       RTT needs the relays restarted, since their delay is fixed when they start).
#   netlab.sh relay NS LISTEN TO DELAY
#       starts `seam relay --listen LISTEN --to TO --delay-ms DELAY` in namespace NS (device, edge,
#       cloud) in the background, waits until it listens and prints its line; `down` stops it.
#       DELAY is ms, or a link name (device-edge, edge-cloud) for half of that link's RTT.
#       e.g. relay edge 10.77.1.2:9000 127.0.0.1:9001 device-edge
#   netlab.sh exec device|edge|cloud CMD [ARGS...]
#       runs CMD in that namespace; `device` also in the device's CPU cgroup when there is one.
#   netlab.sh status     what is up: links, relays, qdiscs.
#   netlab.sh down       stops relays and every process left in the namespaces, deletes the
#                        namespaces and the cgroup. Safe to run twice or when nothing exists.
#
# Environment: SEAM, the seam binary (default $repo/build/seam); SEAM_NETLAB_STATE, the state
# directory (default /run/seam-netlab: `links`, `relays` (pids) and relay logs).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seam=${SEAM:-$repo/build/seam}
state=${SEAM_NETLAB_STATE:-/run/seam-netlab}
cgroup=/sys/fs/cgroup/cpu/seam-device
namespaces=(seam-device seam-edge seam-cloud)

die() { echo "netlab: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit "${1:-1}"; }

# "20mbit" -> bit/s as an integer.
rate_bps() {
  awk -v s="$1" 'BEGIN {
    if (!match(tolower(s), /^[0-9]+(\.[0-9]+)?(bit|kbit|mbit|gbit)?$/)) exit 1
    v = s + 0; u = tolower(s); sub(/^[0-9.]+/, "", u)
    f = (u == "kbit") ? 1e3 : (u == "mbit") ? 1e6 : (u == "gbit") ? 1e9 : 1
    if (v * f < 8000) exit 1
    printf "%d\n", v * f }' || die "rate '$1': expected e.g. 20mbit, 1.5gbit, 800kbit (at least 8kbit)"
}

# "20ms" -> ms (may be fractional).
rtt_ms() {
  awk -v s="$1" 'BEGIN {
    if (!match(tolower(s), /^[0-9]+(\.[0-9]+)?(ms|us|s)?$/)) exit 1
    v = s + 0; u = tolower(s); sub(/^[0-9.]+/, "", u)
    printf "%g\n", (u == "us") ? v / 1e3 : (u == "s") ? v * 1e3 : v }' ||
    die "round-trip time '$1': expected e.g. 20ms, 500us, 0.1s"
}

ns_exists() { [ -e "/run/netns/$1" ]; }

ns_name() {
  case "$1" in
    device | edge | cloud) echo "seam-$1" ;;
    seam-device | seam-edge | seam-cloud) echo "$1" ;;
    *) die "namespace '$1': expected device, edge or cloud" ;;
  esac
}

cmd_check() {
  local reason="" probe="seam-netlab-check-$$"
  if [ "$(id -u)" != 0 ]; then
    reason="needs root (network namespaces, veth, tc)"
  elif ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
    reason="needs iproute2 ('ip' and 'tc'): apt-get install iproute2"
  elif ! ip netns add "$probe" 2>/dev/null; then
    reason="'ip netns add' fails here (no network namespaces: a container without CAP_SYS_ADMIN?)"
  elif ! ip -n "$probe" link add c0 type veth peer name c1 2>/dev/null; then
    reason="cannot create a veth pair (veth module missing?)"
  elif ! tc -n "$probe" qdisc add dev c0 root tbf rate 10mbit burst 32kb latency 50ms 2>/dev/null; then
    reason="cannot add a 'tc tbf' qdisc (sch_tbf module missing?)"
  fi
  ip netns del "$probe" 2>/dev/null || true
  if [ -n "$reason" ]; then
    echo "netlab: cannot build the lab: $reason" >&2
    exit 2
  fi
  echo "netlab: ok (namespaces, veth and tc tbf work)"
}

# Shapes both ends of a veth: DEV_A in NS_A, DEV_B in NS_B, at RATE bit/s.
shape() {
  local ns_a=$1 dev_a=$2 ns_b=$3 dev_b=$4 bps=$5
  # At least 32 KiB or one tick (HZ=250) of bytes: smaller bursts cap the rate below RATE.
  local burst=$((bps / 8 / 250))
  if [ "$burst" -lt 32768 ]; then burst=32768; fi
  tc -n "$ns_a" qdisc replace dev "$dev_a" root tbf rate "${bps}bit" burst "$burst" latency 50ms
  tc -n "$ns_b" qdisc replace dev "$dev_b" root tbf rate "${bps}bit" burst "$burst" latency 50ms
}

# A veth pair between two namespaces, with addresses; idempotent.
veth() {
  local ns_a=$1 dev_a=$2 addr_a=$3 ns_b=$4 dev_b=$5 addr_b=$6
  if ! ip -n "$ns_a" link show "$dev_a" >/dev/null 2>&1; then
    ip -n "$ns_b" link del "$dev_b" 2>/dev/null || true  # an orphan end of an older pair
    ip -n "$ns_a" link add "$dev_a" type veth peer name "$dev_b" netns "$ns_b"
  fi
  ip -n "$ns_a" addr replace "$addr_a" dev "$dev_a"
  ip -n "$ns_b" addr replace "$addr_b" dev "$dev_b"
  ip -n "$ns_a" link set "$dev_a" up
  ip -n "$ns_b" link set "$dev_b" up
}

cmd_up() {
  local device_edge="" edge_cloud="" cpu=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --device-edge) device_edge=${2:-}; shift 2 ;;
      --edge-cloud) edge_cloud=${2:-}; shift 2 ;;
      --device-cpu) cpu=${2:-}; shift 2 ;;
      -h | --help) usage 0 ;;
      *) die "up: unknown argument '$1' (see netlab.sh --help)" ;;
    esac
  done
  if [ -z "$device_edge" ] || [ -z "$edge_cloud" ]; then
    die "up: needs --device-edge RATE,RTT and --edge-cloud RATE,RTT, e.g. 20mbit,5ms"
  fi
  [[ "$device_edge" == *,* && "$edge_cloud" == *,* ]] ||
    die "up: a link is RATE,RTT, e.g. --device-edge 20mbit,5ms"
  local de_bps de_rtt ec_bps ec_rtt quota_us="" period_us=""
  de_bps=$(rate_bps "${device_edge%%,*}"); de_rtt=$(rtt_ms "${device_edge#*,}")
  ec_bps=$(rate_bps "${edge_cloud%%,*}"); ec_rtt=$(rtt_ms "${edge_cloud#*,}")
  if [ -n "$cpu" ]; then
    [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ] ||
      die "--device-cpu needs the cgroup v1 cpu controller at /sys/fs/cgroup/cpu"
    # The period is 10 ms (longer if the quota would fall under the kernel's 1 ms minimum), as
    # seam profile's quota (src/profile/cpu_quota.cc): with the kernel's default 100 ms, a short
    # request would run at full speed inside one period's budget and only some requests would be
    # throttled, so the device would not be uniformly slower and profiles would not match it.
    read -r period_us quota_us < <(awk -v c="$cpu" \
      'BEGIN { if (c !~ /^[0-9]*\.?[0-9]+$/ || c <= 0) exit 1
               p = 10000; if (c * p < 1000) p = int(1000 / c + 0.999); print p, int(c * p) }') ||
      die "--device-cpu '$cpu': expected a positive number of cores, e.g. 0.5"
  fi
  [ "$(id -u)" = 0 ] || die "up: needs root"

  for ns in "${namespaces[@]}"; do
    ns_exists "$ns" || ip netns add "$ns"
    ip -n "$ns" link set lo up
  done
  veth seam-device de0 10.77.1.1/24 seam-edge ed0 10.77.1.2/24
  veth seam-edge ec0 10.77.2.1/24 seam-cloud ce0 10.77.2.2/24
  # The edge is a host, not a router: the device and the cloud must not reach each other.
  ip netns exec seam-edge sysctl -qw net.ipv4.ip_forward=0
  shape seam-device de0 seam-edge ed0 "$de_bps"
  shape seam-edge ec0 seam-cloud ce0 "$ec_bps"

  if [ -n "$quota_us" ]; then
    mkdir -p "$cgroup"
    echo -1 >"$cgroup/cpu.cfs_quota_us"  # so that any period is accepted
    echo "$period_us" >"$cgroup/cpu.cfs_period_us"
    echo "$quota_us" >"$cgroup/cpu.cfs_quota_us"
  elif [ -d "$cgroup" ]; then
    echo -1 >"$cgroup/cpu.cfs_quota_us"  # an older lab's quota no longer applies
  fi

  mkdir -p "$state"
  {
    echo "# link rate_bps rtt_ms (rate by tc tbf; rtt by seam relay --delay-ms rtt/2)"
    echo "device-edge $de_bps $de_rtt"
    echo "edge-cloud $ec_bps $ec_rtt"
    if [ -n "$cpu" ]; then echo "device-cpu $cpu"; fi
  } >"$state/links"
  local cpu_note=""
  if [ -n "$cpu" ]; then cpu_note="; device CPU $cpu cores"; fi
  echo "netlab: up: device 10.77.1.1 <-> 10.77.1.2 edge 10.77.2.1 <-> 10.77.2.2 cloud;" \
    "device-edge ${de_bps} bit/s, RTT ${de_rtt} ms; edge-cloud ${ec_bps} bit/s, RTT ${ec_rtt} ms$cpu_note"
  echo "netlab: RTT is added by relays: netlab.sh relay edge 10.77.1.2:PORT 127.0.0.1:PORT2 device-edge"
}

cmd_relay() {
  [ $# -eq 4 ] || die "relay: usage: netlab.sh relay NS LISTEN TO DELAY_MS|LINK"
  local ns listen=$2 to=$3 delay=$4
  ns=$(ns_name "$1")
  ns_exists "$ns" || die "relay: namespace $ns does not exist (run netlab.sh up)"
  [ -x "$seam" ] || die "relay: seam binary '$seam' not found (build it, or set SEAM)"
  case "$delay" in
    device-edge | edge-cloud)
      local rtt
      rtt=$(awk -v l="$delay" '$1 == l {print $3}' "$state/links" 2>/dev/null) || true
      [ -n "$rtt" ] || die "relay: no RTT recorded for link $delay (run netlab.sh up)"
      delay=$(awk -v r="$rtt" 'BEGIN { printf "%g", r / 2 }') ;;
    *) [[ "$delay" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "relay: DELAY '$delay': ms or a link name" ;;
  esac
  mkdir -p "$state"
  local log="$state/relay-${ns#seam-}-${listen//[^0-9A-Za-z.]/_}.log"
  # setsid (its own session: no SIGHUP when the caller's terminal goes) and ip netns exec both exec
  # in place, so $! is the relay's own pid.
  setsid ip netns exec "$ns" "$seam" relay --listen "$listen" --to "$to" --delay-ms "$delay" \
    </dev/null >"$log" 2>&1 &
  local pid=$!
  echo "$pid $ns $listen $to $delay" >>"$state/relays"
  for _ in $(seq 100); do
    if grep -q '^relay listening on' "$log"; then
      echo "netlab: $ns: $(head -1 "$log") (one-way delay ${delay} ms, pid $pid)"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill "$pid" 2>/dev/null || true
  die "relay did not start in $ns: $(cat "$log")"
}

cmd_exec() {
  [ $# -ge 2 ] || die "exec: usage: netlab.sh exec device|edge|cloud CMD [ARGS...]"
  local ns; ns=$(ns_name "$1"); shift
  ns_exists "$ns" || die "exec: namespace $ns does not exist (run netlab.sh up)"
  if [ "$ns" = seam-device ] && [ -d "$cgroup" ]; then
    # ip netns exec remounts /sys, so join the cgroup here, before it; ip and CMD keep this pid.
    echo "$BASHPID" >"$cgroup/cgroup.procs"
  fi
  exec ip netns exec "$ns" "$@"
}

cmd_status() {
  if [ -f "$state/links" ]; then cat "$state/links"; else echo "netlab: no lab is recorded"; fi
  if [ -f "$state/relays" ]; then
    while read -r pid rest; do
      if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = seam ]; then echo "relay pid $pid: $rest"; fi
    done <"$state/relays"
  fi
  for ns in "${namespaces[@]}"; do
    ns_exists "$ns" || continue
    tc -n "$ns" qdisc show | sed "s/^/$ns: /" | grep tbf || true
  done
  if [ -d "$cgroup" ]; then echo "device cgroup: cfs_quota_us $(cat "$cgroup/cpu.cfs_quota_us")"; fi
  return 0
}

# TERM, then KILL after 3 s, for the given pids.
stop_pids() {
  [ $# -gt 0 ] || return 0
  kill "$@" 2>/dev/null || true
  for _ in $(seq 30); do
    local alive=0
    for pid in "$@"; do
      if kill -0 "$pid" 2>/dev/null; then alive=1; fi
    done
    if [ $alive = 0 ]; then return 0; fi
    sleep 0.1
  done
  kill -9 "$@" 2>/dev/null || true
}

cmd_down() {
  local pids=()
  if [ -f "$state/relays" ]; then
    # Only pids that are still seam: a relay that died long ago may have had its pid reused.
    while read -r pid _; do
      if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = seam ]; then pids+=("$pid"); fi
    done <"$state/relays"
  fi
  for ns in "${namespaces[@]}"; do
    ns_exists "$ns" || continue
    while read -r pid; do pids+=("$pid"); done < <(ip netns pids "$ns" 2>/dev/null)
  done
  if [ -d "$cgroup" ]; then
    while read -r pid; do pids+=("$pid"); done <"$cgroup/cgroup.procs"
  fi
  stop_pids "${pids[@]}"
  for ns in "${namespaces[@]}"; do
    if ns_exists "$ns"; then ip netns del "$ns"; fi
  done
  if [ -d "$cgroup" ]; then
    for _ in $(seq 20); do rmdir "$cgroup" 2>/dev/null && break; sleep 0.1; done
    if [ -d "$cgroup" ]; then echo "netlab: warning: could not remove $cgroup (processes left in it)" >&2; fi
  fi
  rm -rf "$state"
  echo "netlab: down"
}

[ $# -ge 1 ] || usage
command=$1; shift
case "$command" in
  check) cmd_check ;;
  up) cmd_up "$@" ;;
  relay) cmd_relay "$@" ;;
  exec) cmd_exec "$@" ;;
  status) cmd_status ;;
  down) cmd_down ;;
  -h | --help | help) usage 0 ;;
  *) die "unknown command '$command' (check, up, relay, exec, status, down; see --help)" ;;
esac
