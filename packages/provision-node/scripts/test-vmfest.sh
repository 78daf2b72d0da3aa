#!/usr/bin/env bash
# Boot one qemu VM of the vmfest provider (KVM when usable, else TCG), run a real command on it over
# SSH trusting only the host key pinned in its node record, tear it down, and print the timings.
# Usage (from anywhere, as root for bridge mode):
#   packages/provision-node/scripts/test-vmfest.sh [bridge|user]
set -euo pipefail
mode=${1:-bridge}
case $mode in bridge|user) ;; *) echo "usage: $0 [bridge|user]" >&2; exit 64 ;; esac
repo=$(cd "$(dirname "$0")/../../.." && pwd)
work=$(mktemp -d /tmp/forklift-vmfest-XXXXXX)
export FORKLIFT_HOME=$work/home
export FORKLIFT_IMAGE_CACHE=${FORKLIFT_IMAGE_CACHE:-/var/cache/forklift/images}
provision() { node "$repo/packages/provision-node/bin/provision-node.js" "$@"; }
cleanup() {
  (cd "$work" && provision vmcheck 0 --group check >/dev/null) || echo "test-vmfest: teardown failed, see $work" >&2
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$repo" && npx tsc -b packages/provision-node)
mkdir -p "$work/services"
printf '{ provider: "qemu", options: { network: "%s" } }\n' "$mode" >"$work/services/vmcheck.json5"
cd "$work"

start=$(date +%s)
provision vmcheck 1 --group check >nodes.ndjson
up=$(date +%s)
node=$(jq -c 'select(.kind == "node")' nodes.ndjson)
address=$(jq -r .address <<<"$node")
port=$(jq -r .port <<<"$node")
key=$(jq -r .privateKey <<<"$node")
host=$address
[ "$port" = 22 ] || host="[$address]:$port"
printf '%s %s\n' "$host" "$(jq -r .hostKey <<<"$node")" >known_hosts
ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=known_hosts -o GlobalKnownHostsFile=/dev/null \
  -i "$key" -p "$port" "root@$address" \
  'echo "hostname: $(hostname)"; echo "kernel: $(uname -r)"; echo "vendor: $(cat /sys/class/dmi/id/sys_vendor)"; echo "systemd: $(systemctl is-system-running --wait)"'
ran=$(date +%s)
provision vmcheck 0 --group check >/dev/null
down=$(date +%s)
echo "vmfest ($mode, $(jq -r .tags.accel <<<"$node")): VM answered SSH after $((up - start)) s, command $((ran - up)) s, teardown $((down - ran)) s"
