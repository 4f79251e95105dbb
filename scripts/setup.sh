#!/bin/sh
# Installs whatever gst-webrtc-node is missing, and nothing else:
#   1. Debian/Ubuntu system packages (GStreamer, plugins, compiler), listed in scripts/debian-packages.txt
#      (with --dev also scripts/debian-packages-dev.txt: what only the tests need)
#   2. npm dependencies
#   3. the native addon (when native/ or binding.gyp changed since the last build)
#   4. the TypeScript build (when lib/ changed since the last build)
# Idempotent; when nothing is missing it only compares timestamps.
# Set GST_WEBRTC_NODE_EXTRA_PACKAGES="pkg ..." to add packages (the browser and
# bridge tests use it).
set -eu
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else say "need root to run: $*"; exit 1
  fi
}

# 1. System packages: what the library needs; with --dev also what only the tests
# need (a headless browser, servers to test against).
lists=scripts/debian-packages.txt
[ "${1:-}" = "--dev" ] && lists="$lists scripts/debian-packages-dev.txt"
wanted=$(cat $lists | grep -v '^#' | tr '\n' ' ')
wanted="$wanted ${GST_WEBRTC_NODE_EXTRA_PACKAGES:-}"
missing=""
if command -v dpkg-query >/dev/null 2>&1; then
  for p in $wanted; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    say "installing system packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    # An old or empty package list is the usual cause of "unable to locate package".
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
else
  say "not a Debian/Ubuntu system: make sure these are installed: $wanted"
fi

# 2. npm dependencies (before the build: node-addon-api and node-gyp come from npm).
# npm writes node_modules/.package-lock.json last: without it the install is missing or partial
# (dash's -nt is false when the second file does not exist, so test it on its own).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  # npm ci installs exactly the committed lockfile and never rewrites it.
  npm ci --no-audit --no-fund --ignore-scripts >/dev/null
fi

# 3. Native addon.
addon=build/Release/gst_webrtc_node.node
if [ ! -f "$addon" ] || [ -n "$(find native binding.gyp -newer "$addon" 2>/dev/null | head -1)" ]; then
  say "building the native addon"
  npx --no-install node-gyp rebuild >build.log 2>&1 || { cat build.log >&2; exit 1; }
  if grep -q 'warning:' build.log; then grep 'warning:' build.log >&2; say "the native build has warnings"; fi
fi

# 4. TypeScript.
if [ ! -f dist/cjs/index.js ] || [ ! -f dist/esm/index.mjs ] || [ -n "$(find lib tsconfig.json scripts/build-ts.mjs -newer dist/esm/index.mjs 2>/dev/null | head -1)" ]; then
  say "compiling TypeScript"
  node scripts/build-ts.mjs
fi
