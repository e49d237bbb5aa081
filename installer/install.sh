#!/usr/bin/env bash
# Switchboard appliance installer. Run as root from the extracted bundle:
#
#   tar xzf switchboard-<version>-linux-x64.tar.gz && sudo ./switchboard-<version>-linux-x64/install.sh
#
# The bundle carries its own Node runtime, the application and its dependencies: nothing is
# downloaded. Only when the OS's MariaDB or nats-server is missing (and no external one is named)
# does it ask the OS's package manager for them. Re-running repairs the installation; running a
# newer bundle upgrades it (backup, migrate, health check, automatic rollback on failure).
#
# Options (all optional; choices are remembered in /etc/switchboard/install.state):
#   --prefix DIR               install under DIR (DIR/opt/switchboard, DIR/etc/switchboard, ...); for tests
#   --no-systemd               run the services as plain background processes (CI, containers)
#   --database-url URL         use an existing MySQL 8 / MariaDB database instead of a local MariaDB
#   --nats-url URL             use an existing NATS JetStream server/cluster instead of a local nats-server
#   --nats-user U --nats-password P   credentials for --nats-url
#   --hostname NAME            name in the public URL and the self-signed certificate (default: hostname -f)
#   --http-port N              core's HTTP port on 127.0.0.1 (default 3000)
#   --https-port N             TLS front's port (default 443); --no-tls serves plain HTTP on --bind
#   --bind ADDR                core's listen address when --no-tls (default 127.0.0.1)
#   --tls-cert FILE --tls-key FILE    use this certificate instead of a self-signed one
#   --db-port N                local MariaDB port in --no-systemd mode (default 3306)
#   --nats-port N              local nats-server client port (default 4222); --nats-monitor-port N (8222)
#   --nats-sync VALUE          JetStream fsync: "always" (no loss on power failure), a duration such as
#                              "1s" (default; at most that much loss), or "default" (server default, 2 min)
#   --plugins LIST             comma-separated plugin ids that get NATS users (default, or "all": every plugin
#                              the core loads)
#   --encryption-key-file F    install with this appliance key (restoring another machine's backup)
#   --user NAME                service user (default: switchboard; --no-systemd: the invoking user)
#   --health-timeout SECONDS   how long to wait for /health/ready (default 120)
#   --skip-verify              do not check the bundle's SHA256SUMS
#   --no-backup                upgrade without the pre-upgrade backup (not recommended)
#   --uninstall [--purge]      remove the appliance; --purge also deletes data, secrets and logs
set -euo pipefail
umask 027

case " $* " in *" -h "* | *" --help "*)
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  exit 0
  ;;
esac
BUNDLE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ -f "$BUNDLE/MANIFEST.json" ] || BUNDLE="$(cd "$BUNDLE/.." && pwd)" # run as installer/install.sh
[ -f "$BUNDLE/MANIFEST.json" ] || {
  echo "install.sh: run me from an extracted bundle (MANIFEST.json not found)" >&2
  exit 2
}
VERSION="$(cat "$BUNDLE/VERSION")"

say() { printf '==> [%3ss] %s\n' "$SECONDS" "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'install.sh: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------- options
PREFIX='' OPT_SYSTEMD='' UNINSTALL=no PURGE=no VERIFY=yes PRE_BACKUP=yes
OPT_DATABASE_URL='' OPT_NATS_URL='' OPT_NATS_USER='' OPT_NATS_PASSWORD='' OPT_HOSTNAME='' OPT_HTTP_PORT='' OPT_HTTPS_PORT=''
OPT_BIND='' OPT_TLS='' OPT_TLS_CERT='' OPT_TLS_KEY='' OPT_DB_PORT='' OPT_NATS_PORT='' OPT_NATS_MONITOR_PORT='' OPT_NATS_SYNC=''
OPT_PLUGINS='' OPT_KEY_FILE='' OPT_USER='' HEALTH_TIMEOUT=120
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX="${2%/}"; shift ;;
    --no-systemd) OPT_SYSTEMD=off ;;
    --database-url) OPT_DATABASE_URL=$2; shift ;;
    --nats-url) OPT_NATS_URL=$2; shift ;;
    --nats-user) OPT_NATS_USER=$2; shift ;;
    --nats-password) OPT_NATS_PASSWORD=$2; shift ;;
    --hostname) OPT_HOSTNAME=$2; shift ;;
    --http-port) OPT_HTTP_PORT=$2; shift ;;
    --https-port) OPT_HTTPS_PORT=$2; shift ;;
    --bind) OPT_BIND=$2; shift ;;
    --no-tls) OPT_TLS=off ;;
    --tls-cert) OPT_TLS_CERT=$2; shift ;;
    --tls-key) OPT_TLS_KEY=$2; shift ;;
    --db-port) OPT_DB_PORT=$2; shift ;;
    --nats-port) OPT_NATS_PORT=$2; shift ;;
    --nats-monitor-port) OPT_NATS_MONITOR_PORT=$2; shift ;;
    --nats-sync) OPT_NATS_SYNC=$2; shift ;;
    --plugins) OPT_PLUGINS=$2; shift ;;
    --encryption-key-file) OPT_KEY_FILE=$2; shift ;;
    --user) OPT_USER=$2; shift ;;
    --health-timeout) HEALTH_TIMEOUT=$2; shift ;;
    --skip-verify) VERIFY=no ;;
    --no-backup) PRE_BACKUP=no ;;
    --uninstall) UNINSTALL=yes ;;
    --purge) PURGE=yes ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
[ "$PURGE" = yes ] && [ "$UNINSTALL" = no ] && die "--purge goes with --uninstall"

SB_OPT="$PREFIX/opt/switchboard"
SB_ETC="$PREFIX/etc/switchboard"
SB_LIB="$PREFIX/var/lib/switchboard"
SB_LOG="$PREFIX/var/log/switchboard"
STATE_FILE="$SB_ETC/install.state"
UNIT_DIR="$PREFIX/etc/systemd/system"

# Previous choices: a re-run without options repairs the same installation.
PREVIOUS_VERSION=''
if [ -f "$STATE_FILE" ]; then
  # shellcheck source=/dev/null
  . "$STATE_FILE"
  PREVIOUS_VERSION="${SB_VERSION:-}"
fi
SB_OPT="$PREFIX/opt/switchboard" SB_ETC="$PREFIX/etc/switchboard" SB_LIB="$PREFIX/var/lib/switchboard" SB_LOG="$PREFIX/var/log/switchboard"
SB_SYSTEMD=$(if [ -n "$OPT_SYSTEMD" ]; then echo "$OPT_SYSTEMD"; else echo "${SB_SYSTEMD:-on}"; fi)
SYSTEMD=$SB_SYSTEMD
if [ "$SYSTEMD" = on ] && [ "$(id -u)" -ne 0 ]; then die "run me as root (or use --no-systemd --prefix DIR for a user-level install)"; fi

# ---------------------------------------------------------------- uninstall
ctl() { "$SB_OPT/bin/switchboardctl" "$@"; }

if [ "$UNINSTALL" = yes ]; then
  [ -f "$STATE_FILE" ] || die "nothing to uninstall under ${PREFIX:-/} (no $STATE_FILE)"
  say "Stopping Switchboard"
  if [ -x "$SB_OPT/bin/switchboardctl" ]; then ctl stop || true; fi
  if [ "${SB_SYSTEMD:-off}" = on ]; then
    systemctl disable switchboard switchboard-nats switchboard-proxy >/dev/null 2>&1 || true
    rm -f "$UNIT_DIR/switchboard.service" "$UNIT_DIR/switchboard-nats.service" "$UNIT_DIR/switchboard-proxy.service"
    [ -z "$PREFIX" ] && systemctl daemon-reload || true
    rm -f "$PREFIX/usr/local/bin/switchboard" "$PREFIX/usr/local/bin/switchboardctl"
  fi
  rm -rf "$SB_OPT"
  if [ "$PURGE" = yes ]; then
    if [ "${SB_DB_MODE:-}" = local ] && [ "${SB_SYSTEMD:-off}" = on ]; then
      say "Dropping the local database ${SB_DB_NAME} and its user"
      mariadb --protocol=socket -uroot -e "DROP DATABASE IF EXISTS \`${SB_DB_NAME}\`; DROP USER IF EXISTS '${SB_DB_USER}'@'localhost'; DROP USER IF EXISTS '${SB_DB_USER}'@'127.0.0.1';" || warn "could not drop the database"
    fi
    say "Purging data, configuration, secrets and logs"
    rm -rf "$SB_LIB" "$SB_ETC" "$SB_LOG"
    if [ "${SB_USER_CREATED:-no}" = yes ] && id "$SB_USER" >/dev/null 2>&1; then userdel "$SB_USER" || true; fi
    say "Switchboard is uninstalled and its data deleted."
  else
    say "Switchboard is uninstalled. Data ($SB_LIB), configuration and secrets ($SB_ETC) and logs ($SB_LOG) are kept; --uninstall --purge deletes them."
  fi
  exit 0
fi

# ---------------------------------------------------------------- choices
if [ "$VERIFY" = yes ]; then
  say "Verifying the bundle's checksums"
  (cd "$BUNDLE" && sha256sum --quiet --strict -c SHA256SUMS) || die "the bundle is damaged (SHA256SUMS does not match)"
fi

pick() { # first non-empty of: option, remembered state, default
  local value
  for value in "$@"; do
    if [ -n "$value" ]; then
      printf '%s' "$value"
      return
    fi
  done
}

if [ -n "$OPT_USER" ]; then SB_USER=$OPT_USER
elif [ -z "${SB_USER:-}" ]; then
  if [ "$SYSTEMD" = on ]; then SB_USER=switchboard; else SB_USER=$(id -un); fi
fi
SB_HOSTNAME=$(pick "$OPT_HOSTNAME" "${SB_HOSTNAME:-}" "$(hostname -f 2>/dev/null || hostname)")
SB_HTTP_PORT=$(pick "$OPT_HTTP_PORT" "${SB_HTTP_PORT:-}" 3000)
SB_HTTPS_PORT=$(pick "$OPT_HTTPS_PORT" "${SB_HTTPS_PORT:-}" 443)
SB_TLS=$(pick "$OPT_TLS" "${SB_TLS:-}" on)
SB_BIND=$(pick "$OPT_BIND" "${SB_BIND:-}" 127.0.0.1)
SB_DB_PORT=$(pick "$OPT_DB_PORT" "${SB_DB_PORT:-}" 3306)
SB_NATS_PORT=$(pick "$OPT_NATS_PORT" "${SB_NATS_PORT:-}" 4222)
SB_NATS_MONITOR_PORT=$(pick "$OPT_NATS_MONITOR_PORT" "${SB_NATS_MONITOR_PORT:-}" 8222)
SB_NATS_SYNC=$(pick "$OPT_NATS_SYNC" "${SB_NATS_SYNC:-}" 1s)
SB_DB_NAME=${SB_DB_NAME:-switchboard}
SB_DB_USER=${SB_DB_USER:-switchboard}
if [ -n "$OPT_DATABASE_URL" ]; then SB_DB_MODE=external SB_EXTERNAL_DATABASE_URL=$OPT_DATABASE_URL
elif [ -z "${SB_DB_MODE:-}" ]; then SB_DB_MODE=local; fi
if [ -n "$OPT_NATS_URL" ]; then SB_NATS_MODE=external SB_EXTERNAL_NATS_URL=$OPT_NATS_URL
elif [ -z "${SB_NATS_MODE:-}" ]; then SB_NATS_MODE=local; fi
[ -n "$OPT_NATS_USER" ] && SB_EXTERNAL_NATS_USER=$OPT_NATS_USER
[ -n "$OPT_NATS_PASSWORD" ] && SB_EXTERNAL_NATS_PASSWORD=$OPT_NATS_PASSWORD
if [ "$SB_TLS" = on ]; then SB_HTTP_HOST=127.0.0.1; else SB_HTTP_HOST=$SB_BIND; fi
SB_HTTPS_LISTEN="0.0.0.0:$SB_HTTPS_PORT"
if [ "$SB_TLS" = on ]; then
  if [ "$SB_HTTPS_PORT" = 443 ]; then PUBLIC_URL="https://$SB_HOSTNAME"; else PUBLIC_URL="https://$SB_HOSTNAME:$SB_HTTPS_PORT"; fi
else
  PUBLIC_URL="http://$SB_HOSTNAME:$SB_HTTP_PORT"
fi

# ---------------------------------------------------------------- OS packages (only when missing)
find_bin() {
  local candidate
  for candidate in "$@"; do
    if [ -x "$candidate" ]; then
      printf '%s' "$candidate"
      return 0
    fi
  done
  return 1
}
os_install() {
  say "Installing the OS packages: $*"
  if command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"; } ||
      die "could not install $* (offline? install them from your local mirror, or use --database-url/--nats-url)"
  elif command -v dnf >/dev/null; then
    dnf install -y "$@" || die "could not install $* (offline? use your local repository, or --database-url/--nats-url)"
  else
    die "$* missing and no apt-get/dnf: install them, or use --database-url/--nats-url"
  fi
}
if [ "$SB_DB_MODE" = local ]; then
  SB_MARIADBD=$(find_bin /usr/sbin/mariadbd /usr/bin/mariadbd /usr/sbin/mysqld /usr/libexec/mysqld) || {
    os_install mariadb-server
    SB_MARIADBD=$(find_bin /usr/sbin/mariadbd /usr/bin/mariadbd /usr/sbin/mysqld /usr/libexec/mysqld) || die "mariadbd not found after installing mariadb-server"
  }
  MARIADB_CLIENT=$(command -v mariadb || command -v mysql) || die "the mariadb client is missing"
fi
if [ "$SB_NATS_MODE" = local ]; then
  SB_NATS_BIN=$(find_bin /usr/sbin/nats-server /usr/bin/nats-server /usr/local/bin/nats-server) || {
    os_install nats-server
    SB_NATS_BIN=$(find_bin /usr/sbin/nats-server /usr/bin/nats-server /usr/local/bin/nats-server) || die "nats-server not found after installing it"
  }
fi
SB_MARIADBD=${SB_MARIADBD:-} SB_NATS_BIN=${SB_NATS_BIN:-}

# ---------------------------------------------------------------- user and directories
SB_USER_CREATED=${SB_USER_CREATED:-no}
if ! id "$SB_USER" >/dev/null 2>&1; then
  [ "$(id -u)" -eq 0 ] || die "user $SB_USER does not exist"
  say "Creating the system user $SB_USER"
  useradd --system --home-dir "$SB_LIB" --no-create-home --shell /usr/sbin/nologin "$SB_USER"
  SB_USER_CREATED=yes
fi
SB_GROUP=$(id -gn "$SB_USER")

install -d -m 0755 "$SB_OPT" "$SB_OPT/releases" "$SB_OPT/bin"
install -d -m 0750 -o root -g "$SB_GROUP" "$SB_ETC" "$SB_ETC/secrets" "$SB_ETC/tls" "$SB_ETC/nats" "$SB_ETC/mariadb" 2>/dev/null ||
  install -d -m 0750 "$SB_ETC" "$SB_ETC/secrets" "$SB_ETC/tls" "$SB_ETC/nats" "$SB_ETC/mariadb"
for dir in "$SB_LIB" "$SB_LIB/data" "$SB_LIB/nats" "$SB_LIB/backups" "$SB_LIB/run" "$SB_LOG"; do
  install -d -m 0750 -o "$SB_USER" -g "$SB_GROUP" "$dir"
done

# ---------------------------------------------------------------- secrets (generated once, kept on re-runs)
random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
secret() { # secret NAME BYTES: prints the secret, creating it once
  local file="$SB_ETC/secrets/$1"
  if [ ! -s "$file" ]; then
    (umask 077 && random_hex "$2" >"$file")
  fi
  chgrp "$SB_GROUP" "$file" 2>/dev/null || true
  chmod 0640 "$file"
  cat "$file"
}
if [ -n "$OPT_KEY_FILE" ]; then
  key=$(tr -d ' \n\r' <"$OPT_KEY_FILE")
  [[ "$key" =~ ^[0-9A-Fa-f]{64}$ ]] || die "$OPT_KEY_FILE must hold 32 bytes as 64 hex digits"
  if [ -s "$SB_ETC/secrets/encryption.key" ] && [ "$(cat "$SB_ETC/secrets/encryption.key")" != "$key" ]; then
    cp -p "$SB_ETC/secrets/encryption.key" "$SB_ETC/secrets/encryption.key.replaced-$(date +%Y%m%d%H%M%S)"
  fi
  (umask 077 && printf '%s' "$key" >"$SB_ETC/secrets/encryption.key")
fi
ENCRYPTION_KEY=$(secret encryption.key 32)
DB_PASSWORD=$(secret db-password 24)
ADMIN_PASSWORD=$(secret admin-password 12)
NATS_CORE_USER=core
NATS_CORE_PASSWORD=$(secret nats-core.password 24)

# Plugins that get NATS users: every plugin the core loads (empty), or the --plugins selection (remembered).
if [ -n "$OPT_PLUGINS" ]; then SB_NATS_PLUGINS=$OPT_PLUGINS; fi
SB_NATS_PLUGINS=${SB_NATS_PLUGINS:-}
[ "$SB_NATS_PLUGINS" = all ] && SB_NATS_PLUGINS=''
[[ -z "$SB_NATS_PLUGINS" || "$SB_NATS_PLUGINS" =~ ^[a-z0-9][a-z0-9_-]*(,[a-z0-9][a-z0-9_-]*)*$ ]] ||
  die "--plugins takes comma-separated plugin ids (or all): $SB_NATS_PLUGINS"

# ---------------------------------------------------------------- TLS
if [ "$SB_TLS" = on ]; then
  if [ -n "$OPT_TLS_CERT" ]; then
    [ -n "$OPT_TLS_KEY" ] || die "--tls-cert needs --tls-key"
    install -m 0644 "$OPT_TLS_CERT" "$SB_ETC/tls/cert.pem"
    install -m 0640 "$OPT_TLS_KEY" "$SB_ETC/tls/key.pem"
    echo provided >"$SB_ETC/tls/source"
  elif [ ! -s "$SB_ETC/tls/cert.pem" ]; then
    command -v openssl >/dev/null || die "openssl is needed for a self-signed certificate: install it, pass --tls-cert/--tls-key, or use --no-tls"
    say "Creating a self-signed certificate for $SB_HOSTNAME"
    openssl req -x509 -newkey rsa:2048 -sha256 -days 825 -nodes -subj "/CN=$SB_HOSTNAME" \
      -addext "subjectAltName=DNS:$SB_HOSTNAME,DNS:localhost,IP:127.0.0.1" \
      -keyout "$SB_ETC/tls/key.pem" -out "$SB_ETC/tls/cert.pem" >/dev/null 2>&1 || die "openssl could not create the certificate"
    echo self-signed >"$SB_ETC/tls/source"
  fi
  chgrp "$SB_GROUP" "$SB_ETC/tls/key.pem" "$SB_ETC/tls/cert.pem" 2>/dev/null || true
  chmod 0640 "$SB_ETC/tls/key.pem"
fi

# ---------------------------------------------------------------- configuration
render() { # render TEMPLATE OUT MODE: replaces @NAME@ with $NAME
  local text name
  text=$(<"$1")
  for name in $(grep -o '@[A-Z_]*@' "$1" | tr -d @ | sort -u); do
    text=${text//@$name@/${!name-}}
  done
  printf '%s\n' "$text" >"$2.tmp"
  chmod "$3" "$2.tmp"
  chgrp "$SB_GROUP" "$2.tmp" 2>/dev/null || true
  mv -f "$2.tmp" "$2"
}

ETC=$SB_ETC LIB=$SB_LIB LOG=$SB_LOG OPT=$SB_OPT INSTALLED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
DATA_DIR="$SB_LIB/data"
HTTP_HOST=$SB_HTTP_HOST HTTP_PORT=$SB_HTTP_PORT HTTPS_LISTEN=$SB_HTTPS_LISTEN DB_PORT=$SB_DB_PORT
SB_GROUP_NAME=$SB_GROUP
if [ "$SB_DB_MODE" = local ]; then
  DATABASE_URL="mysql://$SB_DB_USER:$DB_PASSWORD@127.0.0.1:$SB_DB_PORT/$SB_DB_NAME"
else
  DATABASE_URL=$SB_EXTERNAL_DATABASE_URL
fi
if [ "$SB_NATS_MODE" = local ]; then
  NATS_URL="nats://127.0.0.1:$SB_NATS_PORT"
else
  NATS_URL=$SB_EXTERNAL_NATS_URL
  NATS_CORE_USER=${SB_EXTERNAL_NATS_USER:-}
  NATS_CORE_PASSWORD=${SB_EXTERNAL_NATS_PASSWORD:-}
fi
NATS_BIN=$SB_NATS_BIN

say "Writing the configuration to $SB_ETC"
render "$BUNDLE/appliance/config.yaml.in" "$SB_ETC/config.yaml" 0640
if [ -z "$NATS_CORE_USER" ]; then sed -i '/^  user: ""$/d; /^  password: ""$/d' "$SB_ETC/config.yaml"; fi
render "$BUNDLE/appliance/switchboard.env.in" "$SB_ETC/switchboard.env" 0640

if [ "$SB_NATS_MODE" = local ]; then
  NATS_SERVER_NAME="switchboard-$(printf '%s' "$SB_HOSTNAME" | tr -c 'A-Za-z0-9_-' '-')"
  NATS_LISTEN="127.0.0.1:$SB_NATS_PORT"
  NATS_MONITOR="127.0.0.1:$SB_NATS_MONITOR_PORT"
  NATS_STORE="$SB_LIB/nats"
  NATS_MAX_FILE=10GB
  nats_version=$("$SB_NATS_BIN" --version 2>/dev/null | grep -o '[0-9]*\.[0-9]*\.[0-9]*' | head -1 || true)
  if [ "$SB_NATS_SYNC" = default ]; then
    NATS_SYNC_LINE='  # sync_interval: server default (fsync every 2 minutes)'
  elif printf '%s\n2.10.0\n' "$nats_version" | sort -V -C; then
    # nats-server before 2.10 has no sync_interval; it fsyncs on its own schedule (2 minutes).
    warn "nats-server $nats_version cannot set sync_interval ($SB_NATS_SYNC): JetStream fsyncs every 2 minutes; see docs/operations.md (Durability)"
    NATS_SYNC_LINE="  # sync_interval: $SB_NATS_SYNC requested, but nats-server $nats_version does not support it (needs 2.10+)"
  else
    NATS_SYNC_LINE="  sync_interval: $SB_NATS_SYNC"
  fi
  # The core derives each out-of-process plugin's NATS password from the appliance key and knows each
  # plugin's subjects from its manifest, so the user entries come from the core itself.
  NATS_USERS=$(
    set -a
    # shellcheck source=/dev/null
    . "$SB_ETC/switchboard.env"
    set +a
    "$BUNDLE/runtime/bin/node" "$BUNDLE/app/core/bin/switchboard.js" plugins nats-config --users-only \
      --core-user "$NATS_CORE_USER" --core-password "$NATS_CORE_PASSWORD"
  ) || die "could not generate the NATS users for the core and its plugins"
  if [ -n "$SB_NATS_PLUGINS" ]; then # --plugins: keep the core's user and the selected plugins' users
    NATS_USERS=$(printf '%s\n' "$NATS_USERS" | while IFS= read -r line; do
      case "$line" in
        *'{ user: "plugin-'*)
          id=${line#*\{ user: \"plugin-}
          id=${id%%\"*}
          case ",$SB_NATS_PLUGINS," in *",$id,"*) printf '%s\n' "$line" ;; esac
          ;;
        *) printf '%s\n' "$line" ;;
      esac
    done)
  fi
  render "$BUNDLE/appliance/nats-server.conf.in" "$SB_ETC/nats/nats-server.conf" 0640
  "$SB_NATS_BIN" -c "$SB_ETC/nats/nats-server.conf" -t >/dev/null 2>&1 || "$SB_NATS_BIN" -c "$SB_ETC/nats/nats-server.conf" -t || die "nats-server rejects $SB_ETC/nats/nats-server.conf"
fi
if [ "$SB_DB_MODE" = local ] && [ "$SYSTEMD" = off ]; then
  render "$BUNDLE/appliance/mariadb.cnf.in" "$SB_ETC/mariadb/my.cnf" 0640
fi

write_state() {
  local name
  {
    echo "# Written by install.sh; read by switchboardctl and by the next install.sh run."
    for name in SB_VERSION SB_PREVIOUS_RELEASE SB_SYSTEMD SB_USER SB_GROUP SB_USER_CREATED SB_OPT SB_ETC SB_LIB SB_LOG SB_HOSTNAME \
      SB_HTTP_HOST SB_HTTP_PORT SB_HTTPS_PORT SB_HTTPS_LISTEN SB_TLS SB_BIND SB_DB_MODE SB_DB_NAME SB_DB_USER SB_DB_PORT \
      SB_EXTERNAL_DATABASE_URL SB_NATS_MODE SB_EXTERNAL_NATS_URL SB_EXTERNAL_NATS_USER SB_EXTERNAL_NATS_PASSWORD SB_NATS_PORT \
      SB_NATS_MONITOR_PORT SB_NATS_SYNC SB_NATS_PLUGINS SB_MARIADBD SB_NATS_BIN SB_DB_UNIT; do
      printf "%s=%q\n" "$name" "${!name-}"
    done
  } >"$STATE_FILE.tmp"
  chmod 0640 "$STATE_FILE.tmp"
  mv -f "$STATE_FILE.tmp" "$STATE_FILE"
}
SB_DB_UNIT=mariadb
SB_PREVIOUS_RELEASE=${SB_PREVIOUS_RELEASE:-}
SB_VERSION=${PREVIOUS_VERSION:-$VERSION}
SB_EXTERNAL_DATABASE_URL=${SB_EXTERNAL_DATABASE_URL:-} SB_EXTERNAL_NATS_URL=${SB_EXTERNAL_NATS_URL:-}
SB_EXTERNAL_NATS_USER=${SB_EXTERNAL_NATS_USER:-} SB_EXTERNAL_NATS_PASSWORD=${SB_EXTERNAL_NATS_PASSWORD:-}

# Control scripts (they read the state file).
render "$BUNDLE/appliance/switchboardctl.in" "$SB_OPT/bin/switchboardctl" 0750
render "$BUNDLE/appliance/switchboard.in" "$SB_OPT/bin/switchboard" 0750
if [ "$SYSTEMD" = on ]; then
  say "Writing systemd units"
  mkdir -p "$UNIT_DIR"
  for unit in switchboard switchboard-nats switchboard-proxy; do
    render "$BUNDLE/appliance/systemd/$unit.service.in" "$UNIT_DIR/$unit.service" 0644
  done
  mkdir -p "$PREFIX/usr/local/bin"
  ln -sfn "$SB_OPT/bin/switchboard" "$PREFIX/usr/local/bin/switchboard"
  ln -sfn "$SB_OPT/bin/switchboardctl" "$PREFIX/usr/local/bin/switchboardctl"
fi
write_state

# ---------------------------------------------------------------- database and bus
if [ "$SB_DB_MODE" = local ]; then
  if [ "$SYSTEMD" = off ] && [ ! -d "$SB_LIB/mysql/mysql" ]; then
    say "Initialising MariaDB in $SB_LIB/mysql"
    install -d -m 0750 -o "$SB_USER" -g "$SB_GROUP" "$SB_LIB/mysql"
    install_db=$(command -v mariadb-install-db || command -v mysql_install_db) || die "mariadb-install-db is missing"
    # --force: no name lookups (a fresh or offline host may resolve neither its name nor localhost;
    # the server runs with skip-name-resolve, so grants use IP addresses).
    "$install_db" --defaults-file="$SB_ETC/mariadb/my.cnf" --user="$SB_USER" --auth-root-authentication-method=socket --skip-test-db --force \
      >>"$SB_LOG/mariadb.log" 2>&1 ||
      die "mariadb-install-db failed (see $SB_LOG/mariadb.log)"
  fi
fi

sql_root() {
  if [ "$SYSTEMD" = off ]; then
    "$MARIADB_CLIENT" --no-defaults --protocol=socket --socket="$SB_LIB/run/mysqld.sock" -uroot "$@"
  else
    "$MARIADB_CLIENT" --protocol=socket -uroot "$@"
  fi
}

start_backends() {
  if [ "$SYSTEMD" = on ]; then
    systemctl daemon-reload
    if [ "$SB_DB_MODE" = local ]; then systemctl enable --now mariadb >/dev/null; fi
    if [ "$SB_NATS_MODE" = local ]; then
      systemctl enable switchboard-nats >/dev/null
      systemctl restart switchboard-nats
    fi
  else
    if [ "$SB_DB_MODE" = local ]; then ctl start db; fi
    # Restart so a changed configuration (new plugin users) takes effect.
    if [ "$SB_NATS_MODE" = local ]; then
      ctl stop nats
      ctl start nats
    fi
  fi
  if [ "$SB_DB_MODE" = local ]; then
    local i
    for ((i = 0; i < 60; i++)); do
      sql_root -e 'SELECT 1' >/dev/null 2>&1 && break
      sleep 0.5
    done
    say "Creating the database $SB_DB_NAME and its user"
    sql_root <<SQL || die "could not create the database"
CREATE DATABASE IF NOT EXISTS \`$SB_DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$SB_DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
CREATE USER IF NOT EXISTS '$SB_DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
ALTER USER '$SB_DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
ALTER USER '$SB_DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON \`$SB_DB_NAME\`.* TO '$SB_DB_USER'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`$SB_DB_NAME\`.* TO '$SB_DB_USER'@'localhost';
FLUSH PRIVILEGES;
SQL
  fi
}

# ---------------------------------------------------------------- release install, migrate, start
release_dir() { printf '%s/releases/%s' "$SB_OPT" "$1"; }
CURRENT_RELEASE=''
[ -L "$SB_OPT/current" ] && CURRENT_RELEASE=$(basename "$(readlink "$SB_OPT/current")")
NEW_RELEASE=$VERSION
MODE=install
if [ -n "$CURRENT_RELEASE" ] && [ -d "$(release_dir "$CURRENT_RELEASE")" ]; then
  if [ "$CURRENT_RELEASE" = "$NEW_RELEASE" ]; then MODE=repair; else MODE=upgrade; fi
fi
say "Switchboard $VERSION: $MODE${CURRENT_RELEASE:+ (installed: $CURRENT_RELEASE)}"

cli() { "$SB_OPT/bin/switchboard" "$@"; }

wait_ready() {
  local deadline=$((SECONDS + HEALTH_TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    if ctl health 2>/dev/null; then return 0; fi
    if [ "$SYSTEMD" = off ] && ! ctl status core | grep -q running; then return 1; fi
    sleep 1
  done
  return 1
}

start_app() {
  if [ "$SYSTEMD" = on ]; then
    systemctl enable switchboard >/dev/null
    systemctl restart switchboard
    if [ "$SB_TLS" = on ]; then systemctl enable switchboard-proxy >/dev/null && systemctl restart switchboard-proxy; fi
  else
    ctl start core
    [ "$SB_TLS" = on ] && ctl start proxy
  fi
  return 0
}
stop_app() {
  if [ -x "$SB_OPT/bin/switchboardctl" ]; then
    ctl stop core proxy 2>/dev/null || true
  fi
}

copy_release() { # copy_release NAME: the bundle into releases/NAME (replacing a damaged copy)
  local target staging
  target=$(release_dir "$1")
  staging="$target.new.$$"
  rm -rf "$staging"
  mkdir -p "$staging"
  cp -a "$BUNDLE/app" "$BUNDLE/runtime" "$BUNDLE/appliance" "$BUNDLE/installer" "$BUNDLE/MANIFEST.json" "$BUNDLE/SHA256SUMS" "$BUNDLE/VERSION" "$staging/"
  [ -f "$BUNDLE/OPERATIONS.md" ] && cp -a "$BUNDLE/OPERATIONS.md" "$staging/"
  chmod -R go-w "$staging"
  rm -rf "$target"
  mv "$staging" "$target"
}

start_backends
PRE_UPGRADE_BACKUP=''
if [ "$MODE" = upgrade ] && [ "$PRE_BACKUP" = yes ]; then
  PRE_UPGRADE_BACKUP="$SB_LIB/backups/pre-upgrade-$CURRENT_RELEASE-to-$NEW_RELEASE-$(date +%Y%m%d%H%M%S).sbbk"
  say "Backing up before the upgrade: $PRE_UPGRADE_BACKUP"
  stop_app
  cli backup create --output "$PRE_UPGRADE_BACKUP" || die "the pre-upgrade backup failed; nothing was changed"
fi

say "Stopping the core"
stop_app

say "Installing release $NEW_RELEASE into $(release_dir "$NEW_RELEASE")"
copy_release "$NEW_RELEASE" # a repair replaces the copy of the same version afresh
ln -sfn "releases/$NEW_RELEASE" "$SB_OPT/current.new" && mv -Tf "$SB_OPT/current.new" "$SB_OPT/current"
SB_VERSION=$NEW_RELEASE
[ "$MODE" = upgrade ] && SB_PREVIOUS_RELEASE=$CURRENT_RELEASE
write_state

rollback() {
  local reason=$1
  warn "$reason"
  if [ "$MODE" != upgrade ]; then die "$reason (see $SB_LOG/core.log)"; fi
  say "Rolling back to $CURRENT_RELEASE"
  stop_app
  ln -sfn "releases/$CURRENT_RELEASE" "$SB_OPT/current.new" && mv -Tf "$SB_OPT/current.new" "$SB_OPT/current"
  SB_VERSION=$CURRENT_RELEASE
  SB_PREVIOUS_RELEASE=''
  write_state
  if [ -n "$PRE_UPGRADE_BACKUP" ]; then
    say "Restoring the pre-upgrade backup with $CURRENT_RELEASE"
    cli restore "$PRE_UPGRADE_BACKUP" --yes || warn "the restore failed: restore $PRE_UPGRADE_BACKUP by hand (switchboard restore)"
  fi
  start_app
  if wait_ready; then
    die "upgrade to $NEW_RELEASE failed; rolled back to $CURRENT_RELEASE, which is running (see $SB_LOG/core.log)"
  fi
  die "upgrade to $NEW_RELEASE failed and the rollback to $CURRENT_RELEASE is not healthy either (see $SB_LOG/core.log)"
}

say "Applying database migrations"
cli migrate >>"$SB_LOG/install.log" 2>&1 || rollback "the migrations of $NEW_RELEASE failed (see $SB_LOG/install.log)"

say "Starting Switchboard"
start_app
wait_ready || rollback "Switchboard $NEW_RELEASE did not become ready within ${HEALTH_TIMEOUT}s"

# Keep the previous release for rollbacks; delete older ones.
for dir in "$SB_OPT"/releases/*; do
  name=$(basename "$dir")
  [ "$name" = "$NEW_RELEASE" ] || [ "$name" = "${SB_PREVIOUS_RELEASE:-}" ] || rm -rf "$dir"
done

# First admin: a local admin login (identity module), created once with the generated password.
ADMIN_NOTE="First admin: sign in with your identity provider (see OPERATIONS.md)."
if [ -f "$SB_ETC/secrets/.admin-created" ]; then
  ADMIN_NOTE="Admin login: admin (initial password in $SB_ETC/secrets/admin-password unless changed since)"
elif cli admin create --help >/dev/null 2>&1; then
  if cli admin create --username admin --password-stdin <"$SB_ETC/secrets/admin-password" >>"$SB_LOG/install.log" 2>&1; then
    touch "$SB_ETC/secrets/.admin-created"
    ADMIN_NOTE="First admin login: admin / $ADMIN_PASSWORD  (also in $SB_ETC/secrets/admin-password; change it after signing in)"
  else
    warn "could not create the first admin login (see $SB_LOG/install.log)"
  fi
fi

cat <<EOF

Switchboard $NEW_RELEASE is ready.
  URL:      $PUBLIC_URL
  health:   http://127.0.0.1:$SB_HTTP_PORT/health/ready
  $ADMIN_NOTE
  control:  $SB_OPT/bin/switchboardctl status|start|stop|restart
  CLI:      $SB_OPT/bin/switchboard (backup, restore, migrate, config check)
  config:   $SB_ETC/config.yaml    secrets: $SB_ETC/secrets (keep a copy of encryption.key off this machine)
  logs:     $SB_LOG
EOF
