#!/usr/bin/env bash
# The fleet rig's untimed setup and cleanup: N simulated hosts in the background.
#   bench-hosts.sh start <count> <dir>   start them, return once every sshd listens (<dir>/inventory.ini)
#   bench-hosts.sh stop <dir>            stop them (every process of every host) and remove <dir>
set -euo pipefail
case "${1:-}" in
  start)
    count=$2 dir=$3
    rm -rf "$dir"
    mkdir -p "$dir"
    # the checkout's node_modules (same lockfile) on every host instead of npm ci; pipelining as docs/fleet.md advises
    nohup node --import tsx scripts/fleet/simulated-hosts.ts "$count" "$dir/hosts" \
      rigor_node_modules="$PWD/node_modules" ansible_pipelining=true >"$dir/hosts.log" 2>&1 &
    while [ ! -e "$dir/hosts/ready" ]; do
      kill -0 $! 2>/dev/null || { cat "$dir/hosts.log" >&2; exit 1; }
      sleep 0.2
    done
    ;;
  stop)
    dir=$2
    if [ -e "$dir/hosts/pid" ]; then
      pid=$(cat "$dir/hosts/pid")
      kill "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start <count> <dir> | stop <dir>" >&2
    exit 2
    ;;
esac
