#!/usr/bin/env bash
# Manual installer test in a fresh Debian bookworm root (too slow for CI: debootstrap takes minutes).
#
#   sudo installer/test-chroot.sh dist/switchboard-<version>-linux-x64.tar.gz [WORKDIR]
#
# 1. debootstrap makes a minimal bookworm root with the OS packages an operator would have from
#    their own mirror (mariadb-server, nats-server, openssl); the mirror is the host's own apt
#    source unless DEBIAN_MIRROR is set;
# 2. the bundle is copied in and installed by install.sh --no-systemd (a chroot has no systemd)
#    inside a network namespace with only loopback: proof that the install needs no network;
# 3. health check, a backup, its verification and a restore (row counts and checksums compared),
#    a re-run (repair), then uninstall --purge.
# Every step runs in the same offline network namespace (the services the install starts live in
# it, so later steps must reach them there). Everything it starts runs inside the chroot and is
# stopped before it unmounts. WORKDIR is kept for inspection unless KEEP=no.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || {
  echo "run as root" >&2
  exit 1
}
TARBALL=$(readlink -f "${1:?usage: test-chroot.sh BUNDLE.tar.gz [WORKDIR]}")
WORK=${2:-/var/tmp/sb-chroot}
ROOT="$WORK/root"
KEEP=${KEEP:-yes}

mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
fi
if [ -z "$mirror" ]; then
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
fi
[ -n "$mirror" ] || {
  echo "set DEBIAN_MIRROR to a Debian mirror URL" >&2
  exit 1
}

command -v debootstrap >/dev/null || apt-get install -y --no-install-recommends debootstrap

if [ ! -x "$ROOT/usr/sbin/mariadbd" ]; then
  echo "==> debootstrap bookworm into $ROOT (from $mirror)"
  mkdir -p "$ROOT"
  debootstrap --variant=minbase --include=mariadb-server,nats-server,openssl,ca-certificates,procps,util-linux bookworm "$ROOT" "$mirror"
fi

# One network namespace with only loopback for every step: the services install.sh starts stay in
# it, so the health check, backup and re-run below reach them (a fresh namespace per step would not).
NETNS="sb-offline-$$"
ip netns add "$NETNS"
ip -n "$NETNS" link set lo up

cleanup() {
  if [ -x "$ROOT/opt/switchboard/bin/switchboardctl" ]; then
    ip netns exec "$NETNS" chroot "$ROOT" /opt/switchboard/bin/switchboardctl stop proxy core nats db || true
  fi
  ip netns delete "$NETNS" 2>/dev/null || true
  for mount in dev/pts dev proc; do if mountpoint -q "$ROOT/$mount"; then umount -l "$ROOT/$mount"; fi; done
  if [ "$KEEP" = no ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
mount -t proc proc "$ROOT/proc"
mount --bind /dev "$ROOT/dev"
mount --bind /dev/pts "$ROOT/dev/pts"

echo "==> copying the bundle"
rm -rf "$ROOT/root/bundle" && mkdir -p "$ROOT/root/bundle"
tar -C "$ROOT/root/bundle" -xzf "$TARBALL"
bundle_dir=$(basename "$(find "$ROOT/root/bundle" -mindepth 1 -maxdepth 1 -type d | head -1)")

offline() { # runs a command in the chroot, in the network namespace that has only loopback
  ip netns exec "$NETNS" chroot "$ROOT" /bin/bash -c "$1"
}

echo "==> install (no network)"
# Proof of "offline": the namespace has no interface but loopback and no route anywhere else.
if ip -n "$NETNS" -o link show | grep -v ': lo:' | grep -q . || ip -n "$NETNS" route show | grep -q .; then
  echo "the offline namespace has a network interface or a route" >&2
  exit 1
fi
offline "cd /root/bundle/$bundle_dir && ./install.sh --no-systemd --hostname localhost --user root"
echo "==> health"
offline "/opt/switchboard/bin/switchboardctl health && /opt/switchboard/bin/switchboardctl status"
echo "==> backup, verify and restore"
offline "/opt/switchboard/bin/switchboardctl stop core proxy && /opt/switchboard/bin/switchboard backup --output /root/test.sbbk && /opt/switchboard/bin/switchboard backup verify /root/test.sbbk"
offline "/opt/switchboard/bin/switchboard restore /root/test.sbbk --yes | tee /root/restore.out && grep -q 'rows identical to the backup' /root/restore.out"
echo "==> re-run (repair)"
offline "cd /root/bundle/$bundle_dir && ./install.sh"
echo "==> uninstall --purge"
offline "cd /root/bundle/$bundle_dir && ./install.sh --uninstall --purge"
echo "chroot installer test passed"
