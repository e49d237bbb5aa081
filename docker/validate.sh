#!/usr/bin/env bash
# Validates docker/ without a Docker engine (there is none on the CI machines): a structural check in
# Node, then `docker compose config` when the compose plugin exists, else Debian's docker-compose
# (installed here when missing and apt-get can), else the structural check alone.
set -euo pipefail
cd "$(dirname "$0")/.."
node docker/validate-compose.mjs docker/compose.yaml
if docker compose version >/dev/null 2>&1; then
  docker compose -f docker/compose.yaml config -q
  echo "docker compose config: ok"
  exit 0
fi
if ! command -v docker-compose >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null 2>&1; } || true
fi
if command -v docker-compose >/dev/null 2>&1; then
  docker-compose -f docker/compose.yaml config -q
  echo "docker-compose config: ok"
else
  echo "no compose CLI available: docker/compose.yaml passed the structural check only"
fi
