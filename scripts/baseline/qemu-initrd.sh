#!/usr/bin/env bash
# A bare initramfs for the baseline-tools rig: static busybox and an /init that
# says hello on the serial console and reboots at once; with -no-reboot qemu
# then exits. Boot to exit of this is qemu + kernel with nothing of rigor's.
# Usage: qemu-initrd.sh OUT.cpio
set -euo pipefail
out=${1:?usage: qemu-initrd.sh OUT.cpio}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/proc"
cp "$(command -v busybox)" "$root/bin/busybox"
cat > "$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox echo hello
/bin/busybox reboot -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) > "$out"
