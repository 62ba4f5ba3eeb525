#!/usr/bin/env bash
# seam's main job, end to end, on a bundled real model: set up and build (idempotent), profile the
# three tiers, plan, build the network lab, deploy the plan and run requests from the device
# through the edge to the cloud, then compare with running the whole model on each single tier.
#
#   device  `seam run` under a CPU quota (a weak device), in network namespace seam-device
#   edge    `seam serve` under a smaller quota than the host, in seam-edge
#   cloud   `seam serve`, in seam-cloud
#   links   veth pairs shaped by `tc tbf`, round trip added by `seam relay` (this kernel has no
#           netem); without root or namespaces: loopback, with `seam relay` shaping rate and delay
#
# Settings (environment): SEAM_DEMO_MODEL (default: the pretrained BlazeFace), SEAM_DEMO_DEVICE_EDGE
# (20mbit,5ms), SEAM_DEMO_EDGE_CLOUD (100mbit,20ms), SEAM_DEMO_DEVICE_CPU (0.1 core),
# SEAM_DEMO_EDGE_CPU (0.5 core), SEAM_DEMO_REQUESTS (20), SEAM_DEMO_LAB (auto|netns|loopback);
# the adaptive run: SEAM_DEMO_ADAPT_UPLINK (200mbit,2ms), SEAM_DEMO_ADAPT_S (30),
# SEAM_DEMO_DEADLINE_MS (1000), SEAM_DEMO_SVG (./seam-demo-adapt.svg).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${SEAM_BUILD:-$repo/build}
cache=${SEAM_CACHE:-$HOME/.cache/seam}

"$repo/scripts/setup.sh"

seam="$build/seam"
model=${SEAM_DEMO_MODEL:-$cache/models/blazeface.onnx}
device_edge=${SEAM_DEMO_DEVICE_EDGE:-20mbit,5ms}
edge_cloud=${SEAM_DEMO_EDGE_CLOUD:-100mbit,20ms}
device_cpu=${SEAM_DEMO_DEVICE_CPU:-0.1}
edge_cpu=${SEAM_DEMO_EDGE_CPU:-0.5}
requests=${SEAM_DEMO_REQUESTS:-20}
lab=${SEAM_DEMO_LAB:-auto}
netlab="$repo/scripts/netlab.sh"
export SEAM="$seam"

out=$(mktemp -d "${TMPDIR:-/tmp}/seam-demo.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ "$lab" = netns ] && "$netlab" down >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  [ -n "${edge_cgroup:-}" ] && rmdir "$edge_cgroup" 2>/dev/null || true
  rm -rf "$out"
}
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }

# Waits for a line matching $2 in file $1 and prints the HOST:PORT after "on ".
listening_address() {
  for _ in $(seq 200); do
    if line=$(grep -m1 "$2" "$1" 2>/dev/null); then
      echo "$line" | sed -E 's/.* on ([^ ]+).*/\1/'
      return 0
    fi
    sleep 0.05
  done
  echo "demo: no '$2' in $1:" >&2; cat "$1" "${1%.out}.log" >&2 2>/dev/null || true
  return 1
}

# 1. Profiles, cached by the model's hash: the device and the edge measured under their quotas.
sha=$(sha256sum "$model" | cut -c1-16)
profiles="$cache/demo-profiles/$sha"
mkdir -p "$profiles"
say "profiling $(basename "$model") on each tier (cached in $profiles)"
for tier in device edge cloud; do
  quota=""
  [ "$tier" = device ] && quota="--cpu-quota $device_cpu"
  [ "$tier" = edge ] && quota="--cpu-quota $edge_cpu"
  if [ ! -s "$profiles/$tier.json" ]; then
    # shellcheck disable=SC2086
    "$seam" profile "$model" --tier "$tier" $quota -o "$profiles/$tier.json" | tail -n 3
  else
    echo "$tier: cached"
  fi
done

# 2. The plan for these links, and each single tier costed the same way.
say "seam plan: device-edge $device_edge, edge-cloud $edge_cloud"
plan_args=("$model" --profile "device=$profiles/device.json" --profile "edge=$profiles/edge.json"
  --profile "cloud=$profiles/cloud.json" --link "device-edge=$device_edge"
  --link "edge-cloud=$edge_cloud")
"$seam" plan "${plan_args[@]}" --output "$out/seam.json" --svg "$out/seam.svg"
for tier in device edge cloud; do
  "$seam" plan "${plan_args[@]}" --pin "$tier" --output "$out/$tier-only.json" >/dev/null
done
# For contrast, a plan seam would not choose here: a third of the nodes on each tier, to show a
# request crossing both links (the placement rewritten in seam's own plan file).
/usr/bin/python3 - "$out/seam.json" "$out/thirds.json" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))
n = len(plan["placement"])
for i, p in enumerate(plan["placement"]):
    p["tier"] = ["device", "edge", "cloud"][3 * i // n]
plan["transfers"] = []
plan.pop("predicted", None)  # the planner did not cost this placement
json.dump(plan, open(sys.argv[2], "w"), indent=1)
PY

# 3. The lab: namespaces when this machine allows them, else loopback.
if [ "$lab" = auto ]; then
  if reason=$("$netlab" check 2>&1); then lab=netns; else lab=loopback; fi
fi
mkdir -p "$out/edge-repo" "$out/cloud-repo"
if [ "$lab" = netns ]; then
  say "network lab: namespaces seam-device, seam-edge, seam-cloud; tc tbf + seam relay"
  "$netlab" down >/dev/null 2>&1 || true
  "$netlab" up --device-edge "$device_edge" --edge-cloud "$edge_cloud" --device-cpu "$device_cpu"
  "$netlab" exec cloud "$seam" serve --repo "$out/cloud-repo" --host 127.0.0.1 --grpc-port 0 \
    --http-port -1 --log-level warn >"$out/cloud.out" 2>"$out/cloud.log" &
  pids+=($!)
  # `ip netns exec` mounts a fresh /sys, so the edge's quota is set up from outside: the subshell
  # joins a cgroup v1 group, then becomes the server in the edge's namespace.
  edge_cgroup=/sys/fs/cgroup/cpu/seam-demo-edge
  if [ -d /sys/fs/cgroup/cpu ]; then
    mkdir -p "$edge_cgroup"
    echo -1 >"$edge_cgroup/cpu.cfs_quota_us"
    echo 10000 >"$edge_cgroup/cpu.cfs_period_us"  # as seam profile's quota (cpu_quota.cc)
    awk -v c="$edge_cpu" 'BEGIN { printf "%d\n", c * 10000 }' >"$edge_cgroup/cpu.cfs_quota_us"
  fi
  (
    [ -d "$edge_cgroup" ] && echo "$BASHPID" >"$edge_cgroup/cgroup.procs"
    exec "$netlab" exec edge "$seam" serve --repo "$out/edge-repo" --host 127.0.0.1 --grpc-port 0 \
      --http-port -1 --log-level warn
  ) >"$out/edge.out" 2>"$out/edge.log" &
  pids+=($!)
  cloud_local=$(listening_address "$out/cloud.out" "grpc listening")
  edge_local=$(listening_address "$out/edge.out" "grpc listening")
  "$netlab" relay cloud 10.77.2.2:9002 "$cloud_local" edge-cloud
  "$netlab" relay edge 10.77.1.2:9001 "$edge_local" device-edge
  edge_addr=10.77.1.2:9001
  cloud_addr=10.77.2.2:9002
  # Deployed from the edge host, which reaches both servers.
  deploy=("$netlab" exec edge "$seam" deploy)
  control=(--control "edge=$edge_local" --control "cloud=$cloud_addr")
  on_device=("$netlab" exec device "$seam" run)
else
  say "network lab: loopback with seam relay shaping rate and delay (${reason:-chosen})"
  "$seam" serve --repo "$out/cloud-repo" --host 127.0.0.1 --grpc-port 0 --http-port -1 \
    --log-level warn >"$out/cloud.out" 2>"$out/cloud.log" &
  pids+=($!)
  "$seam" serve --repo "$out/edge-repo" --host 127.0.0.1 --grpc-port 0 --http-port -1 \
    --log-level warn --cpu-quota "$edge_cpu" >"$out/edge.out" 2>"$out/edge.log" &
  pids+=($!)
  cloud_local=$(listening_address "$out/cloud.out" "grpc listening")
  edge_local=$(listening_address "$out/edge.out" "grpc listening")
  for link in edge-cloud device-edge; do
    spec=$device_edge target=$edge_local
    [ $link = edge-cloud ] && spec=$edge_cloud target=$cloud_local
    rate=${spec%%,*} rtt=${spec#*,}; rtt=${rtt%ms}
    "$seam" relay --listen 127.0.0.1:0 --to "$target" --rate "$rate" \
      --delay-ms "$(awk -v r="$rtt" 'BEGIN{print r/2}')" >"$out/$link.out" 2>&1 &
    pids+=($!)
  done
  edge_addr=$(listening_address "$out/device-edge.out" "relay listening")
  cloud_addr=$(listening_address "$out/edge-cloud.out" "relay listening")
  deploy=("$seam" deploy)
  control=(--control "edge=$edge_local" --control "cloud=$cloud_local")
  on_device=("$seam" run --cpu-quota "$device_cpu")
fi
echo "edge at $edge_addr, cloud at $cloud_addr (as the tier below sees them)"

# 4. Deploy each plan and run it from the device; the first is seam's, with its trace.
declare -A p50 p99 predicted
for name in seam device-only edge-only cloud-only thirds; do
  "${deploy[@]}" "$out/$name.json" --repository "edge=$out/edge-repo" \
    --repository "cloud=$out/cloud-repo" --address "edge=$edge_addr" --address "cloud=$cloud_addr" \
    "${control[@]}" --device-dir "$out/device" --name demo >"$out/$name.deploy" ||
    { cat "$out/$name.deploy"; exit 1; }
  args=(--plan "$out/$name.json" --random 1 --warmup 1 --repeat "$requests")
  # The single-tier and thirds plans run as planned (the comparison); seam's adapts per request.
  [ $name = seam ] || args+=(--no-adapt)
  if [ $name = seam ] || [ $name = thirds ]; then
    if [ $name = seam ]; then
      say "seam deploy + seam run: $requests requests through seam's plan"
    else
      say "the same requests through a plan seam did not choose: a third of the nodes per tier"
    fi
    sed -n '1,4p' "$out/$name.deploy"
    "${on_device[@]}" "${args[@]}" --check | tee "$out/$name.run.log"
  else
    "${on_device[@]}" "${args[@]}" >"$out/$name.run.log" || { cat "$out/$name.run.log"; exit 1; }
  fi
  read -r p50[$name] p99[$name] < <(sed -nE 's/^latency over .* p50 ([0-9.]+) ms +p99 ([0-9.]+) ms.*/\1 \2/p' \
    "$out/$name.run.log")
  predicted[$name]=$(grep -m1 '"latency_ms"' "$out/$name.json" | sed -E 's/[^0-9.]//g' || true)
done

say "seam vs the whole model on each single tier ($requests requests each, $lab lab)"
printf '%-12s %14s %12s %12s\n' strategy "predicted ms" "p50 ms" "p99 ms"
for name in seam device-only edge-only cloud-only thirds; do
  pred=${predicted[$name]:+$(printf '%.2f' "${predicted[$name]}")}
  printf '%-12s %14s %12.2f %12.2f\n' "$name" "${pred:--}" "${p50[$name]}" "${p99[$name]}"
done
best=$(for n in device-only edge-only cloud-only; do echo "${p50[$n]} $n"; done | sort -g | head -1)
awk -v s="${p50[seam]}" -v b="${best% *}" -v n="${best#* }" \
  'BEGIN { printf "seam p50 / best single tier (%s): %.3f\n", n, s / b }'
for n in device-only edge-only cloud-only; do
  if [ "$(head -1 "$out/seam.deploy" | cut -d' ' -f2)" = "$(head -1 "$out/$n.deploy" | cut -d' ' -f2)" ]; then
    echo "(seam's plan is the $n plan: one execution measured twice, so any difference is noise)"
  fi
done

# 5. Adapting while the lab changes under it. seam makes a plan set for a fast uplink
#    (SEAM_DEMO_ADAPT_UPLINK, 200 Mbit/s: sending BlazeFace's 786 KB input beats the 0.1-core
#    device there; the set covers 1/256x to 256x that bandwidth and slower tiers), deploys all of
#    its plans, and runs it while the uplink drops to 1 Mbit/s and recovers (a link trace replayed
#    by a second relay in front of the edge), then the plan's top tier is killed (-9) and
#    restarted. `seam run` chooses a plan per request from what it measures and prints every plan
#    switch and route change with its reason and a line per second as they happen, and draws
#    latency over time coloured by route.
adapt_s=${SEAM_DEMO_ADAPT_S:-30}
deadline_ms=${SEAM_DEMO_DEADLINE_MS:-1000}
adapt_uplink=${SEAM_DEMO_ADAPT_UPLINK:-200mbit,2ms}
svg_out=${SEAM_DEMO_SVG:-$PWD/seam-demo-adapt.svg}
rate=${adapt_uplink%%,*} rtt=${adapt_uplink#*,}; rtt=${rtt%ms}
high_bps=$(awk -v r="$rate" 'BEGIN { n = r + 0; u = tolower(r); gsub(/[0-9.]/, "", u);
  m = u == "gbit" ? 1e9 : u == "mbit" ? 1e6 : u == "kbit" ? 1e3 : 1; print n * m }')
"$seam" plan "$model" --profile "device=$profiles/device.json" --profile "edge=$profiles/edge.json" \
  --profile "cloud=$profiles/cloud.json" --link "device-edge=$adapt_uplink" \
  --link "edge-cloud=$edge_cloud" --set --set-range 256 --output "$out/adapt.json" \
  >"$out/adapt.plan.log"
sed -n '1,/^$/p;/^m[0-9]/p' "$out/adapt.plan.log"
if [ "$lab" = netns ]; then
  # The veth's tc tbf would cap the uplink at $device_edge: give it this act's rate (in place;
  # the relays keep running, and this act's relay adds its own delay).
  "$netlab" up --device-edge "$adapt_uplink" --edge-cloud "$edge_cloud" \
    --device-cpu "$device_cpu" >/dev/null
fi
# A Mahimahi trace (one line per 1500-byte delivery, in ms): full rate, 1 Mbit/s from 17% to 40%
# of the run, full rate again.
awk -v T="$((adapt_s * 1000))" -v hi="$high_bps" 'BEGIN {
  for (t = 1; t <= T; t++) {
    r = (t >= 0.17 * T && t < 0.4 * T) ? 1e6 : hi
    owed += r / 8 / 1500 / 1000
    for (; owed >= 1; owed--) print t
  } }' >"$out/uplink.trace"
"${deploy[@]}" "$out/adapt.json" --repository "edge=$out/edge-repo" \
  --repository "cloud=$out/cloud-repo" --address "edge=$edge_addr" --address "cloud=$cloud_addr" \
  "${control[@]}" --device-dir "$out/device" --name demo >"$out/adapt.deploy"
if ! grep -q "deployed on [23] tiers" "$out/adapt.deploy"; then
  say "for a $adapt_uplink uplink every plan of seam's set runs everything on the device: nothing to adapt"
  exit 0
fi
# The relay's trace is started over (SIGUSR1) when the run has opened the set's plans, so that
# its events meet the run's clock.
relay_args=(relay --to "$edge_local" --trace "$out/uplink.trace" --window-ms 250
  --delay-ms "$(awk -v r="$rtt" 'BEGIN{print r/2}')")
if [ "$lab" = netns ]; then
  # In front of the edge, inside its namespace; the veth's tc tbf still caps the rate.
  "$netlab" exec edge "$seam" "${relay_args[@]}" --listen 10.77.1.2:9005 >"$out/adapt-relay.out" 2>&1 &
  relay_pid=$!
  pids+=($!)
  listening_address "$out/adapt-relay.out" "relay listening" >/dev/null
  adapt_edge=10.77.1.2:9005
else
  "$seam" "${relay_args[@]}" --listen 127.0.0.1:0 >"$out/adapt-relay.out" 2>&1 &
  relay_pid=$!
  pids+=($!)
  adapt_edge=$(listening_address "$out/adapt-relay.out" "relay listening")
fi
say "seam's plan set for a $adapt_uplink uplink, ${adapt_s} s, deadline ${deadline_ms} ms: the uplink drops to 1 Mbit/s at" \
  "$(awk -v T="$adapt_s" 'BEGIN{printf "%.0f", 0.17*T}') s and recovers at" \
  "$(awk -v T="$adapt_s" 'BEGIN{printf "%.0f", 0.4*T}') s; its top tier is killed at" \
  "$(awk -v T="$adapt_s" 'BEGIN{printf "%.0f", 0.55*T}') s and restarted at" \
  "$(awk -v T="$adapt_s" 'BEGIN{printf "%.0f", 0.75*T}') s"
# The fault: the highest tier the set's first plan (the one for the planned uplink) uses is killed
# and restarted on its port, the way it was started (in the namespace lab, in its namespace; the
# edge in its CPU cgroup).
victim=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["segments"][-1]["tier"])' \
  "$out/adapt.m0.json")
[ "$victim" = device ] && victim=edge
if [ $victim = cloud ]; then
  victim_local=$cloud_local
  victim_serve=(serve --repo "$out/cloud-repo" --host 127.0.0.1 --grpc-port "${cloud_local##*:}"
    --http-port -1 --log-level warn)
else
  victim_local=$edge_local
  victim_serve=(serve --repo "$out/edge-repo" --host 127.0.0.1 --grpc-port "${edge_local##*:}"
    --http-port -1 --log-level warn)
  # On loopback the edge's CPU limit is its own quota; in the namespace lab, its cgroup's.
  [ "$lab" = netns ] || victim_serve+=(--cpu-quota "$edge_cpu")
fi
grep -q "  $victim: model" "$out/adapt.deploy" ||
  echo "(the plan does not use the $victim, so killing it changes nothing here)"
"${on_device[@]}" --plan "$out/adapt.json" --random 1 --duration-s "$adapt_s" --report-ms 1000 \
  --deadline-ms "$deadline_ms" --next-address "$adapt_edge" --svg "$out/adapt.svg" \
  >"$out/adapt.run.log" 2>&1 &
run_pid=$!
# The run prints its plan line once it has opened every plan of the set; its clock starts there.
until grep -q "^plan .*: the device" "$out/adapt.run.log" 2>/dev/null || ! kill -0 "$run_pid" 2>/dev/null; do
  sleep 0.05
done
kill -USR1 "$relay_pid" 2>/dev/null || true
tail -n +1 -f "$out/adapt.run.log" --pid "$run_pid" | grep --line-buffered -v "^request " &
tail_pid=$!
sleep "$(awk -v T="$adapt_s" 'BEGIN{print 0.55*T}')"
echo "---- kill -9 the $victim ($victim_local)"
pkill -9 -f "serve --repo $out/$victim-repo" || true
sleep "$(awk -v T="$adapt_s" 'BEGIN{print 0.2*T}')"
echo "---- restart the $victim"
if [ "$lab" = netns ] && [ "$victim" = edge ]; then
  (
    [ -d "${edge_cgroup:-}" ] && echo "$BASHPID" >"$edge_cgroup/cgroup.procs"
    exec "$netlab" exec edge "$seam" "${victim_serve[@]}"
  ) >"$out/$victim.2.out" 2>"$out/$victim.2.log" &
elif [ "$lab" = netns ]; then
  "$netlab" exec cloud "$seam" "${victim_serve[@]}" >"$out/$victim.2.out" 2>"$out/$victim.2.log" &
else
  "$seam" "${victim_serve[@]}" >"$out/$victim.2.out" 2>"$out/$victim.2.log" &
fi
pids+=($!)
rc=0
wait "$run_pid" || rc=$?
wait "$tail_pid" 2>/dev/null || true
cp "$out/adapt.svg" "$svg_out" 2>/dev/null && echo "latency over time, by route: $svg_out"
if [ "$rc" -ne 0 ]; then
  echo "demo: requests failed during the adaptive run (exit $rc)" >&2
  exit "$rc"
fi
