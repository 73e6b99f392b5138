#!/usr/bin/env bash
# Runs a command with a real, unlocked gnome-keyring Secret Service. Call it inside
# `dbus-run-session`, with XDG_DATA_HOME pointing at a fresh folder so the keyring is new.
set -euo pipefail
eval "$(printf 'hearth-test-keyring' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
for _ in $(seq 1 100); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
    exec "$@"
  fi
  sleep 0.1
done
echo "gnome-keyring's Secret Service did not appear on the session bus" >&2
exit 1
