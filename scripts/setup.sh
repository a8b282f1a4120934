#!/usr/bin/env bash
# Install what the rigs need from Debian's packages, only what is missing.
# As root it runs apt-get; otherwise it says what is missing and the cells
# needing it are recorded as skipped (with that reason) when a rig runs.
set -euo pipefail

# command on PATH -> Debian package that provides it
declare -A packages=(
  [hyperfine]=hyperfine
  [python3]=python3
  [bwrap]=bubblewrap
  [runc]=runc
  [qemu-system-x86_64]=qemu-system-x86
  [busybox]=busybox-static
  [cc]=gcc
  [git]=git
  [mksquashfs]=squashfs-tools
  [mkfs.ext4]=e2fsprogs
  [cpio]=cpio
  [lz4]=lz4
  [mitmdump]=mitmproxy
  # the callgrind workload: instructions counted, not timed
  [valgrind]=valgrind
  # GNU time: the artifact-scale rig's peak RSS
  [/usr/bin/time]=time
  # the docker and podman backends (as root rigor starts its own dockerd when none answers); gVisor alone and under them
  [dockerd]=docker.io
  [podman]=podman
  [runsc]=runsc
  # runc's snapshots: `criu check` decides at run time whether they can work here
  [criu]=criu
  # the project's guest kernel (kernel/), built from Debian's source on first use
  [make]=make
  [flex]=flex
  [bison]=bison
  [bc]=bc
  [patch]=patch
  # rigor fleet run drives ansible-playbook over SSH; the fleet tests simulate hosts with sshd
  [ansible-playbook]=ansible
  [sshd]=openssh-server
)

missing=()
for command in "${!packages[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${packages[$command]}")
done
if ! ls /boot/vmlinuz-* >/dev/null 2>&1; then missing+=(linux-image-cloud-amd64); fi
[ -f /usr/src/linux-source-6.1.tar.xz ] || missing+=(linux-source-6.1)
[ -f /usr/include/gelf.h ] || missing+=(libelf-dev)
# The seccomp compiler of the bwrap and runc backends (sandbox-core/seccomp/) links libseccomp.
[ -f /usr/include/seccomp.h ] || missing+=(libseccomp-dev)
# Static linking of the agent and the timing helper needs libc.a.
if command -v dpkg >/dev/null 2>&1 && ! dpkg -s libc6-dev >/dev/null 2>&1; then missing+=(libc6-dev); fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: system tools present"
elif [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: missing ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]});" \
    "cells that need them will be recorded as skipped"
fi

[ -d node_modules ] || { echo "setup: running npm ci"; npm ci --no-audit --no-fund; }
