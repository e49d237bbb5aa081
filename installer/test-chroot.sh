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
# 3. health check, a backup and its verification, a re-run (repair), then uninstall --purge.
# Everything it starts runs inside the chroot and is stopped before it unmounts. WORKDIR is kept
# for inspection unless KEEP=no.
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

cleanup() {
  if [ -x "$ROOT/opt/switchboard/bin/switchboardctl" ]; then chroot "$ROOT" /opt/switchboard/bin/switchboardctl stop proxy core nats db || true; fi
  for mount in dev/pts dev proc; do mountpoint -q "$ROOT/$mount" && umount -l "$ROOT/$mount"; done
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

offline() { # runs a command in the chroot, in a network namespace that has only loopback
  unshare --net sh -c "ip link set lo up 2>/dev/null || true; exec chroot '$ROOT' /bin/bash -c \"\$0\"" "$1"
}

echo "==> install (no network)"
offline "cd /root/bundle/$bundle_dir && ./install.sh --no-systemd --hostname localhost --user root"
echo "==> health"
offline "/opt/switchboard/bin/switchboardctl health && /opt/switchboard/bin/switchboardctl status"
echo "==> backup and verify"
offline "/opt/switchboard/bin/switchboardctl stop core proxy && /opt/switchboard/bin/switchboard backup --output /root/test.sbbk && /opt/switchboard/bin/switchboard backup verify /root/test.sbbk"
echo "==> re-run (repair)"
offline "cd /root/bundle/$bundle_dir && ./install.sh"
echo "==> uninstall --purge"
offline "cd /root/bundle/$bundle_dir && ./install.sh --uninstall --purge"
echo "chroot installer test passed"
