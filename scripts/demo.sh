#!/usr/bin/env bash
# seam's main job on a bundled default: set up and build (idempotent), then analyse the real
# pretrained BlazeFace model, split it into three segments and check that the segments, run one
# after the other in ONNX Runtime, give exactly the whole model's outputs.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${SEAM_BUILD:-$repo/build}
cache=${SEAM_CACHE:-$HOME/.cache/seam}

"$repo/scripts/setup.sh"

model=${1:-$cache/models/blazeface.onnx}
out=$(mktemp -d "${TMPDIR:-/tmp}/seam-demo.XXXXXX")
trap 'rm -rf "$out"' EXIT
seam="$build/seam"

echo "== seam analyze $(basename "$model") (first nodes and cheapest cuts)"
"$seam" analyze "$model" > "$out/analysis.txt"
sed -n '1,/^$/p' "$out/analysis.txt"
sed -n '/^smallest cuts/,/^$/p' "$out/analysis.txt"
# Two boundaries: after the first third and after the second third of the compute nodes.
n=$(awk '/^smallest cuts/{exit} /^ +[0-9]+  /{c++} END{print c}' "$out/analysis.txt")
first=$(awk -v k=$((n / 3)) '$1==k {print $2; exit}' "$out/analysis.txt")
second=$(awk -v k=$((2 * n / 3)) '$1==k {print $2; exit}' "$out/analysis.txt")
echo
echo "== seam split --after-node $first --after-node $second"
"$seam" split "$model" --after-node "$first" --after-node "$second" -o "$out/split"
echo
echo "== seam verify (segments vs whole model, bitwise)"
"$seam" verify "$model" "$out/split" --runs 3
