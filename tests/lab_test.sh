#!/usr/bin/env bash
# The three-tier integration test in the network lab (scripts/netlab.sh): device, edge and cloud
# in their own network namespaces, links shaped by tc tbf with the round trip added by seam relay,
# the device under a CPU quota. A plan splitting dag_blocks over the three tiers is deployed
# (--bitwise) and run from the device namespace; its outputs must equal the whole model's bit for
# bit, and every request must take at least the two links' round trips (the delays are real).
# Skips (exit 77, with the reason) where namespaces cannot be created.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seam=${SEAM:?set SEAM to the seam binary}
export SEAM="$seam"
netlab="$repo/scripts/netlab.sh"
export SEAM_NETLAB_STATE=${SEAM_NETLAB_STATE:-/run/seam-netlab-test}

if ! reason=$("$netlab" check 2>&1); then
  echo "SKIPPED: cannot build the network lab here: $reason"
  exit 77
fi

out=$(mktemp -d "${TMPDIR:-/tmp}/seam-lab-test.XXXXXX")
cleanup() {
  "$netlab" down >/dev/null 2>&1 || true
  rm -rf "$out"
}
trap cleanup EXIT
"$netlab" down >/dev/null 2>&1 || true

fail() { echo "FAILED: $*" >&2; for f in "$out"/*.log "$out"/*.out; do echo "--- $f"; cat "$f"; done >&2 || true; exit 1; }
wait_address() {
  for _ in $(seq 200); do
    if line=$(grep -m1 "grpc listening" "$1" 2>/dev/null); then echo "${line##* on }"; return 0; fi
    sleep 0.05
  done
  fail "no server address in $1"
}

"$netlab" up --device-edge 50mbit,6ms --edge-cloud 200mbit,10ms --device-cpu 0.5

mkdir -p "$out/edge-repo" "$out/cloud-repo"
"$netlab" exec cloud "$seam" serve --repo "$out/cloud-repo" --host 127.0.0.1 --grpc-port 0 \
  --http-port -1 --log-level warn >"$out/cloud.out" 2>"$out/cloud.log" &
"$netlab" exec edge "$seam" serve --repo "$out/edge-repo" --host 127.0.0.1 --grpc-port 0 \
  --http-port -1 --log-level warn >"$out/edge.out" 2>"$out/edge.log" &
cloud_local=$(wait_address "$out/cloud.out")
edge_local=$(wait_address "$out/edge.out")
"$netlab" relay cloud 10.77.2.2:9002 "$cloud_local" edge-cloud
"$netlab" relay edge 10.77.1.2:9001 "$edge_local" device-edge

# A plan with a third of dag_blocks' nodes on each tier (the placement seam plan writes).
model="$repo/models/dag_blocks.onnx"
"$seam" analyze "$model" --json >"$out/analysis.json"
/usr/bin/python3 - "$model" "$out/analysis.json" "$out/plan.json" <<'PY'
import hashlib, json, sys
model, analysis, plan = sys.argv[1:]
nodes = [n["name"] for n in json.load(open(analysis))["nodes"]]
tiers = ["device", "edge", "cloud"]
placement = [{"node": n, "tier": tiers[3 * i // len(nodes)]} for i, n in enumerate(nodes)]
json.dump({"schema": "seam.plan/v1",
           "model": {"path": model, "sha256": hashlib.sha256(open(model, "rb").read()).hexdigest()},
           "tiers": [{"name": t} for t in tiers], "placement": placement, "transfers": []},
          open(plan, "w"))
PY

"$netlab" exec edge "$seam" deploy "$out/plan.json" --bitwise \
  --repository "edge=$out/edge-repo" --repository "cloud=$out/cloud-repo" \
  --address edge=10.77.1.2:9001 --address cloud=10.77.2.2:9002 \
  --control "edge=$edge_local" --control cloud=10.77.2.2:9002 --device-dir "$out/device" \
  >"$out/deploy.log" 2>&1 || fail "seam deploy"

"$netlab" exec device "$seam" run --plan "$out/plan.json" --random 2 --warmup 1 --repeat 5 \
  --check --no-adapt >"$out/run.log" 2>&1 || fail "seam run"
cat "$out/run.log"
grep -q "check: outputs equal the whole model's, bitwise" "$out/run.log" || fail "not bitwise equal"
grep -q "device->edge" "$out/run.log" || fail "no device->edge link in the trace"
grep -q "edge->cloud" "$out/run.log" || fail "no edge->cloud link in the trace"
min=$(sed -nE 's/.* min ([0-9.]+) ms.*/\1/p' "$out/run.log")
awk -v m="$min" 'BEGIN { exit !(m >= 16) }' || fail "a request took $min ms, less than the 6 + 10 ms of round trips"

# The device reaches the edge only: the cloud's address is not routable from its namespace.
if "$netlab" exec device "$seam" probe 10.77.2.2:9002 --timeout-s 2 >/dev/null 2>&1; then
  fail "the device reached the cloud directly"
fi
echo "lab test passed: bitwise equal across three namespaces, min latency $min ms"
