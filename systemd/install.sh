#!/usr/bin/env bash
# Installs or upgrades Spool as the systemd service spool-agent.
#
# Run as root from a checkout in which `npm ci` has run (it builds dist/ and
# the native SQLite module for this machine's Node):
#
#   sudo systemd/install.sh              install or upgrade, enable, (re)start
#   sudo systemd/install.sh --no-start   the same, without starting
#   sudo systemd/install.sh --root DIR   lay everything out under DIR instead of /
#                                        (an image or a test): the user goes into
#                                        DIR/etc/passwd, the unit is enabled there,
#                                        nothing is started
#
# Running it again is safe: the app in /opt/spool is replaced (that is the
# upgrade), while /etc/spool/spool.yaml, /var/lib/spool and /srv/spool are
# kept as they are.
set -euo pipefail

usage() { sed -n '2,16s/^# \{0,1\}//p' "$0"; }
say() { printf 'install: %s\n' "$*"; }
die() { printf 'install: %s\n' "$*" >&2; exit 1; }

ROOT=""
START=1
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT="${2:?--root needs a folder}"; shift 2 ;;
    --root=*) ROOT="${1#--root=}"; shift ;;
    --no-start) START=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done
if [ -n "$ROOT" ]; then
  ROOT="$(cd "$ROOT" && pwd)" || die "--root $ROOT: no such folder"
  START=0
fi

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
UNIT=spool-agent.service
USER_NAME=spool
# Final paths, as the running system sees them; files are written under $ROOT.
APP=/opt/spool
CONF=/etc/spool/spool.yaml
STATE=/var/lib/spool
SRV=/srv/spool
# What a running agent needs from the checkout: the built agent and the console it serves at /.
APP_PATHS=(package.json package-lock.json README.md config dist/agent console/dist)
# Inboxes of the config written on a first install, one per built-in profile.
PROFILES=(web thumbnail chat-8mb probe)

[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0)"

# --- Node: the one the unit will run -----------------------------------------
NODE="$(command -v node || true)"
[ -n "$NODE" ] || die "node is not on PATH; install Node.js 20.19 or newer system-wide"
NODE="$(readlink -f "$NODE")"
"$NODE" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
  die "$NODE is Node $("$NODE" -v); Spool needs 20.19 or newer"
case "$NODE" in
  /root/* | /home/*) die "$NODE is in a home folder, which the hardened unit hides (ProtectHome=yes); install Node system-wide (/usr/bin or /usr/local/bin)" ;;
esac

# --- The checkout must be built -------------------------------------------------
[ -f "$SRC/dist/agent/cli.js" ] || die "$SRC/dist/agent/cli.js is missing: run \`npm ci\` in $SRC first"
[ -f "$SRC/console/dist/index.html" ] || die "$SRC/console/dist/index.html is missing: run \`npm ci\` in $SRC first"
[ -d "$SRC/node_modules/better-sqlite3" ] || die "$SRC/node_modules is incomplete: run \`npm ci\` in $SRC first"

# --- Groups and the service user ------------------------------------------------
# In --root mode the account files under ROOT are edited (useradd --prefix).
account_tool() {
  local tool="$1"
  shift
  if [ -n "$ROOT" ]; then "$tool" --prefix "$ROOT" "$@"; else "$tool" "$@"; fi
}
has_entry() { # has_entry passwd|group NAME
  if [ -n "$ROOT" ]; then grep -q "^$2:" "$ROOT/etc/$1"; else getent "$1" "$2" >/dev/null; fi
}
[ -z "$ROOT" ] || [ -f "$ROOT/etc/passwd" ] || die "$ROOT/etc/passwd is missing: --root needs the account files (passwd, group, shadow, gshadow)"

# The unit's SupplementaryGroups=video render fails to start without them;
# udev usually creates render, but not on every system.
for group in video render; do
  if ! has_entry group "$group"; then
    account_tool groupadd --system "$group"
    say "created group $group"
  fi
done
if has_entry passwd "$USER_NAME"; then
  say "user $USER_NAME exists"
else
  account_tool useradd --system --user-group --home-dir "$STATE" --no-create-home \
    --shell /usr/sbin/nologin --comment "Spool media-job agent" "$USER_NAME"
  say "created system user $USER_NAME"
fi
ids="$(if [ -n "$ROOT" ]; then awk -F: -v u="$USER_NAME" '$1 == u { print $3 ":" $4 }' "$ROOT/etc/passwd"; else printf '%s:%s' "$(id -u "$USER_NAME")" "$(id -g "$USER_NAME")"; fi)"
[ -n "$ids" ] || die "cannot find the ids of user $USER_NAME"

# --- The app ------------------------------------------------------------------
# Staged beside the old one and swapped in with two renames, so a failed
# copy leaves the installed version whole. A running agent keeps the code it
# loaded until the restart below.
stage="$ROOT$APP.new"
rm -rf "$stage"
mkdir -p "$stage/bin"
for item in "${APP_PATHS[@]}"; do
  mkdir -p "$stage/$(dirname "$item")"
  cp -a "$SRC/$item" "$stage/$item"
done
# The native module was built for this Node by `npm ci`; copying it avoids a
# rebuild (and a compiler) here. Development packages are then pruned.
cp -a "$SRC/node_modules" "$stage/node_modules"
(cd "$stage" && npm prune --omit=dev --ignore-scripts --offline --no-audit --no-fund --loglevel=error >/dev/null)
cat >"$stage/bin/spool" <<EOF
#!/bin/sh
# Written by install.sh: the Node found at install time runs Spool's CLI.
exec $NODE $APP/dist/agent/cli.js "\$@"
EOF
chmod 0755 "$stage/bin/spool"
# The agent reads its code but cannot change it.
chown -R 0:0 "$stage"
chmod -R go-w "$stage"
if [ -e "$ROOT$APP" ]; then
  rm -rf "$ROOT$APP.old"
  mv "$ROOT$APP" "$ROOT$APP.old"
fi
mv "$stage" "$ROOT$APP"
rm -rf "$ROOT$APP.old"
mkdir -p "$ROOT/usr/local/bin"
ln -sfn "$APP/bin/spool" "$ROOT/usr/local/bin/spool"
say "installed $("$NODE" -p 'require(process.argv[1]).version' "$ROOT$APP/package.json") in $APP (node: $NODE)"

# --- Config and folders (first install only) ------------------------------------
if [ -e "$ROOT$CONF" ]; then
  say "kept $CONF"
else
  mkdir -p "$(dirname "$ROOT$CONF")"
  {
    cat <<EOF
# Spool agent configuration, written by install.sh and kept on upgrade.
# Every key with its default: $APP/config/spool.example.yaml
# After an edit: \`systemctl reload spool-agent\` takes new profiles and
# inboxes; other keys need \`systemctl restart spool-agent\`.
appliance:
  name: $(uname -n)
dataDir: $STATE
server:
  host: 127.0.0.1
  port: 7420
profiles:
  web: { kind: transcode, encoder: auto }
  thumbnail: { kind: thumbnail, at: "10%", width: 640, format: jpeg }
  chat-8mb: { kind: target-size, targetMb: 8 }
  probe: { kind: probe }
# Folders outside $SRV need a ReadWritePaths= drop-in (systemctl edit spool-agent).
inboxes:
EOF
    for p in "${PROFILES[@]}"; do
      printf '  - { path: %s/inbox/%s, profile: %s, outbox: %s/outbox/%s }\n' "$SRV" "$p" "$p" "$SRV" "$p"
    done
  } >"$ROOT$CONF.new"
  # Token hashes live here: readable by the agent's group, not by everyone.
  chown "0:${ids#*:}" "$ROOT$CONF.new"
  chmod 0640 "$ROOT$CONF.new"
  mv "$ROOT$CONF.new" "$ROOT$CONF"
  say "wrote $CONF"
  # Setgid folders for group $USER_NAME: add people (or a file server) who
  # drop files and collect results to that group.
  for p in "${PROFILES[@]}"; do
    for kind in inbox outbox; do
      install -d -m 2770 -o "${ids%:*}" -g "${ids#*:}" "$ROOT$SRV/$kind/$p"
    done
  done
  say "created inboxes and outboxes under $SRV"
fi

# --- The unit -------------------------------------------------------------------
install -D -m 0644 "$SRC/systemd/$UNIT" "$ROOT/etc/systemd/system/$UNIT"
if [ -n "$ROOT" ]; then
  systemctl --root="$ROOT" enable "$UNIT" >/dev/null 2>&1 || die "systemctl --root=$ROOT enable $UNIT failed"
  say "installed and enabled $UNIT under $ROOT (not started)"
  exit 0
fi
systemctl daemon-reload
systemctl enable "$UNIT" >/dev/null 2>&1
say "enabled $UNIT"
if [ "$START" -eq 0 ]; then
  say "not started (--no-start): systemctl start spool-agent"
  exit 0
fi

since="$(date '+%Y-%m-%d %H:%M:%S')"
# Type=notify: this returns once the agent has said READY=1 (or failed).
if ! systemctl restart "$UNIT"; then
  journalctl -u "$UNIT" --since "$since" --no-pager -n 40 >&2 || true
  die "$UNIT did not start; the journal lines above say why"
fi
say "$UNIT is running: systemctl status spool-agent; logs: journalctl -u spool-agent -f"
# The agent prints a new admin token once, on its first start, before it
# reports ready; journald may take a moment to store the line.
token_lines=""
for _ in 1 2 3 4 5; do
  token_lines="$(journalctl -u "$UNIT" --since "$since" --no-pager -o cat 2>/dev/null | sed 's/^<[0-7]>//' | grep -E 'admin token:|https?://' || true)"
  case "$token_lines" in *"admin token:"*) break ;; esac
  sleep 1
done
if [ -n "$token_lines" ]; then
  printf '\n%s\n\nThe token is shown once: keep it now (a password manager).\n' "$token_lines"
else
  printf '\nNo new admin token this time (one is made only on the first start).\nEarlier ones: journalctl -u spool-agent | grep "admin token:"\n'
fi
