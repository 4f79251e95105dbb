#!/bin/sh
# Builds the native addon with AddressSanitizer and UndefinedBehaviorSanitizer
# into build-asan/ (build/ is left alone). Load it with scripts/fuzz/asan-env.sh:
#   . scripts/fuzz/asan-env.sh && node -r ./scripts/fuzz/use-asan-addon.cjs app.js
# docs/reliability.md explains the options.
set -eu
cd "$(dirname "$0")/.."
out=build-asan
mkdir -p "$out"
# The sources stay where they are; the build folder gets a binding.gyp of its own.
ln -sfn ../native "$out/native"
node -e '
const fs = require("node:fs");
const gyp = JSON.parse(fs.readFileSync("binding.gyp", "utf8"));
const sanitize = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined", "-g", "-O1"];
for (const target of gyp.targets) {
  target.cflags = [...(target.cflags ?? []), ...sanitize];
  target.cflags_cc = [...(target.cflags_cc ?? []), ...sanitize];
  target.ldflags = [...(target.ldflags ?? []), "-fsanitize=address,undefined"];
}
fs.writeFileSync(process.argv[1], JSON.stringify(gyp, null, 2));
' "$out/binding.gyp"
cd "$out"
npx --no-install node-gyp rebuild >build.log 2>&1 || { cat build.log >&2; exit 1; }
if grep -q 'warning:' build.log; then grep 'warning:' build.log >&2; fi
echo "built $out/build/Release/gst_webrtc_node.node"
