#!/usr/bin/env bash
# Installs what Hearth needs and is missing. Sourced by run.sh and test.sh.
#   hearth_deps run   — what building and running the desktop app and the CLI needs
#   hearth_deps test  — that, plus what the test suite needs
set -euo pipefail

say() { printf '==> %s\n' "$*" >&2; }

hearth_deps() {
  local want=(build-essential pkg-config libssl-dev ca-certificates curl)
  # The desktop shell (Tauri 2 on WebKitGTK) builds against these.
  want+=(libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev)
  # Building the UI needs Node.js.
  command -v node >/dev/null 2>&1 || want+=(nodejs npm)
  if [ "${1:-run}" = test ]; then
    # A real Secret Service in a private D-Bus session, secret-tool to look at it from
    # outside, sqlite3 to show plain SQLite cannot read the vault, Python for the
    # independent SQLCipher client.
    want+=(dbus dbus-x11 gnome-keyring libsecret-tools sqlite3 python3 python3-venv)
    # The end-to-end tests run the app in a virtual X display through WebDriver.
    want+=(xvfb xauth webkit2gtk-driver)
  fi

  if command -v dpkg >/dev/null 2>&1; then
    local missing=()
    for pkg in "${want[@]}"; do
      dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
      local sudo=()
      if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
          sudo=(sudo)
        else
          say "Missing system packages: ${missing[*]}"
          say "Install them as root: apt-get install -y ${missing[*]}"
          exit 1
        fi
      fi
      say "Installing system packages: ${missing[*]}"
      "${sudo[@]}" apt-get update -qq
      DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
  else
    say "Not a Debian/Ubuntu system: install a C compiler, pkg-config and OpenSSL headers yourself (see README.md)."
  fi

  if ! command -v cargo >/dev/null 2>&1; then
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
      export PATH="$HOME/.cargo/bin:$PATH"
    else
      say "Installing the Rust toolchain with rustup (stable)"
      curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component rustfmt,clippy
      export PATH="$HOME/.cargo/bin:$PATH"
    fi
  fi
}

# The UI toolchain (Vite 8, Vitest 4) needs Node.js 20.19 or newer.
hearth_require_node() {
  local version
  version="$(node --version 2>/dev/null || echo v0)"
  local major="${version#v}"; major="${major%%.*}"
  local minor="${version#v*.}"; minor="${minor%%.*}"
  if [ "$major" -lt 20 ] || { [ "$major" -eq 20 ] && [ "$minor" -lt 19 ]; }; then
    say "Node.js $version is too old for the UI tools: install Node.js 20.19 or newer (Debian 12's own package is 18; use a newer distribution package or nodejs.org) and run again."
    exit 1
  fi
}

# The independent SQLCipher 4 client the tests use to open vaults from outside Hearth.
hearth_sqlcipher_venv() {
  local venv="$1"
  if ! "$venv/bin/python" -c 'import sqlcipher3' >/dev/null 2>&1; then
    say "Creating $venv with PyPI sqlcipher3-binary (an independent SQLCipher 4 client)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check sqlcipher3-binary
  fi
}

# tauri-driver (crates.io, the 2.x line) puts WebDriver in front of WebKitWebDriver for
# the end-to-end tests.
hearth_tauri_driver() {
  if ! tauri-driver --help >/dev/null 2>&1; then
    say "Installing tauri-driver 2.x from crates.io (for the end-to-end tests)"
    cargo install --locked --quiet tauri-driver --version '^2'
  fi
}

# Pinned versions of the third-party MCP servers the hearth-tools tests run.
HEARTH_MCP_PYPI="mcp==2.3.0"
HEARTH_MCP_EVERYTHING_NPM="@modelcontextprotocol/server-everything@2026.8.31"

# The official MCP Python SDK (PyPI mcp) in a venv of its own; the tests run
# tests/data/mcp/python_server.py with it.
hearth_mcp_python_venv() {
  local venv="$1"
  if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('mcp') != '${HEARTH_MCP_PYPI#mcp==}')" >/dev/null 2>&1; then
    say "Creating $venv with PyPI $HEARTH_MCP_PYPI (the official MCP Python SDK, for the hearth-tools tests)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "$HEARTH_MCP_PYPI"
  fi
}

# npm @modelcontextprotocol/server-everything, the MCP reference test server, installed
# into a folder of its own (no global install).
hearth_mcp_everything() {
  local dir="$1"
  local entry="$dir/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
  local want="${HEARTH_MCP_EVERYTHING_NPM##*@}"
  local have
  have="$(node -p "require('$dir/node_modules/@modelcontextprotocol/server-everything/package.json').version" 2>/dev/null || true)"
  if [ ! -f "$entry" ] || [ "$have" != "$want" ]; then
    say "Installing npm $HEARTH_MCP_EVERYTHING_NPM into $dir (for the hearth-tools tests)"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error --ignore-scripts "$HEARTH_MCP_EVERYTHING_NPM" >/dev/null
  fi
}
