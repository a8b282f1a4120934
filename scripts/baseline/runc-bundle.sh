#!/usr/bin/env bash
# A bare OCI bundle for the baseline-tools rig: `runc spec`'s default config
# (terminal off, process = busybox echo hello) over a rootfs holding only the
# static busybox. Nothing of rigor's own launcher is involved.
# Usage: runc-bundle.sh DIR   (creates DIR/config.json and DIR/rootfs)
set -euo pipefail
dir=${1:?usage: runc-bundle.sh DIR}
rm -rf "$dir"
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/dev" "$dir/rootfs/sys" "$dir/rootfs/tmp"
cp "$(command -v busybox)" "$dir/rootfs/bin/busybox"
cd "$dir"
runc spec
node -e '
  const fs = require("fs");
  const config = JSON.parse(fs.readFileSync("config.json", "utf8"));
  config.process.terminal = false;
  config.process.args = ["/bin/busybox", "echo", "hello"];
  fs.writeFileSync("config.json", JSON.stringify(config, null, 1));
'
