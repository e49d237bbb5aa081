#!/usr/bin/env bash
# Installs the Debian packages the test suite runs for real (MariaDB, nats-server, socat,
# Chromium, a CJK font for Chinese console screenshots, udev, Dovecot for the email channel's
# IMAP polling) when any is missing. Needs root or sudo; does nothing when all are present.
set -euo pipefail
packages=(mariadb-server nats-server socat chromium fonts-wqy-microhei udev dovecot-imapd)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing system packages: ${missing[*]}"
run=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "Need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  run=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${run[@]}" apt-get update -qq || true
"${run[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
