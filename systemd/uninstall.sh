#!/usr/bin/env bash
# Removes the spool-agent service and the app in /opt/spool.
#
#   sudo systemd/uninstall.sh            stop, disable, remove the unit and the app;
#                                        keep the data, the config and the user
#   sudo systemd/uninstall.sh --purge    also remove /var/lib/spool (the database
#                                        and the work area), /etc/spool and the
#                                        user spool
#   sudo systemd/uninstall.sh --root DIR the same under DIR (see install.sh)
#
# /srv/spool (inboxes, outboxes: people's files) is never removed; delete it
# by hand once its files are safe elsewhere.
set -euo pipefail

usage() { sed -n '2,13s/^# \{0,1\}//p' "$0"; }
say() { printf 'uninstall: %s\n' "$*"; }
die() { printf 'uninstall: %s\n' "$*" >&2; exit 1; }

ROOT=""
PURGE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT="${2:?--root needs a folder}"; shift 2 ;;
    --root=*) ROOT="${1#--root=}"; shift ;;
    --purge) PURGE=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done
[ -z "$ROOT" ] || ROOT="$(cd "$ROOT" && pwd)" || die "--root $ROOT: no such folder"
[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0)"

UNIT=spool-agent.service
USER_NAME=spool

if [ -n "$ROOT" ]; then
  systemctl --root="$ROOT" disable "$UNIT" >/dev/null 2>&1 || true
else
  # A graceful stop: running attempts finish or go back to pending first.
  systemctl disable --now "$UNIT" >/dev/null 2>&1 || true
fi
rm -f "$ROOT/etc/systemd/system/$UNIT"
rm -rf "$ROOT/etc/systemd/system/$UNIT.d"
[ -n "$ROOT" ] || systemctl daemon-reload
say "removed $UNIT"

rm -rf "$ROOT/opt/spool" "$ROOT/opt/spool.new" "$ROOT/opt/spool.old"
if [ "$(readlink "$ROOT/usr/local/bin/spool" 2>/dev/null)" = /opt/spool/bin/spool ]; then
  rm -f "$ROOT/usr/local/bin/spool"
fi
say "removed /opt/spool"

if [ "$PURGE" -eq 0 ]; then
  say "kept /var/lib/spool (database), /etc/spool (config) and user $USER_NAME; --purge removes them"
else
  rm -rf "$ROOT/var/lib/spool" "$ROOT/etc/spool"
  if [ -n "$ROOT" ]; then
    ! grep -q "^$USER_NAME:" "$ROOT/etc/passwd" || userdel --prefix "$ROOT" "$USER_NAME"
  elif getent passwd "$USER_NAME" >/dev/null; then
    userdel "$USER_NAME"
  fi
  say "purged /var/lib/spool, /etc/spool and user $USER_NAME"
fi
[ ! -d "$ROOT/srv/spool" ] || say "left /srv/spool (inboxes and outboxes) in place; remove it by hand when its files are safe"
