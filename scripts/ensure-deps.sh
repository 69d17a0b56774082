#!/usr/bin/env bash
# Installs what `make run` / `make test` need when it is missing (Debian, as root).
#   postgres   PostgreSQL server binaries (and pdftotext for the PDF connector's tests)
#   node       a Node.js satisfying ui/package.json's engines; when the distribution's is too old
#              (Debian 12 ships 18), the npm registry's node-linux-<arch> package of the required
#              major is installed with the distribution's npm into .tools/node (the Makefile puts
#              .tools/node/bin first on PATH). Nothing is downloaded from anywhere else.
#   ui-modules ui/node_modules, reinstalled (npm ci) when the Node major or package-lock.json
#              changed since the last install (stamp: ui/node_modules/.tessera-deps)
#   chromium   Debian's chromium for the end-to-end tests, checked by running it
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/.tools
NODE_MAJOR_FALLBACK=22 # the LTS major installed from the npm registry when the system's node is too old
apt_updated=0
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "missing $*: run as root, or install it: apt-get install -y $*" >&2; exit 1
  fi
  if [ $apt_updated = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# required_node prints the minimum "major.minor" of ui/package.json's engines.node (">=20.19").
required_node() {
  sed -n 's/.*"node": *">= *\([0-9][0-9]*\(\.[0-9][0-9]*\)\{0,1\}\).*/\1/p' ui/package.json | head -1
}
# node_satisfies BIN MIN: the node binary runs and its version is at least MIN (major.minor).
node_satisfies() {
  local v
  v=$("$1" -p 'process.versions.node' 2>/dev/null) || return 1
  awk -v have="$v" -v want="$2" 'BEGIN {
    split(have, h, "."); split(want, w, ".");
    if (h[1] + 0 != w[1] + 0) exit !(h[1] + 0 > w[1] + 0);
    exit !(h[2] + 0 >= w[2] + 0) }'
}

ensure_node() {
  local want; want=$(required_node); want=${want:-20.19}
  # .tools/node/bin comes first on the Makefile's PATH: a bootstrapped node wins when present.
  if [ -x "$TOOLS/node/bin/node" ] && node_satisfies "$TOOLS/node/bin/node" "$want"; then
    command -v npm >/dev/null || apt_install npm
    return
  fi
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "installing Node.js and npm from the distribution"
    command -v node >/dev/null || apt_install nodejs
    command -v npm >/dev/null || apt_install npm
  fi
  local sys; sys=$(command -v node)
  if node_satisfies "$sys" "$want"; then return; fi
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;; aarch64) arch=arm64 ;; armv7l) arch=armv7l ;; ppc64le) arch=ppc64le ;; s390x) arch=s390x ;;
    *) echo "Node.js $("$sys" -v) is older than the UI needs (>= $want) and no npm package of Node exists for $(uname -m): install Node.js >= $want" >&2; exit 1 ;;
  esac
  echo "Node.js $("$sys" -v) is older than the UI needs (>= $want): installing node-linux-$arch@$NODE_MAJOR_FALLBACK from the npm registry into .tools/node"
  rm -rf "$TOOLS/node" "$TOOLS/node-pkg"
  mkdir -p "$TOOLS/node-pkg" "$TOOLS/node/bin"
  npm install --prefix "$TOOLS/node-pkg" --no-audit --no-fund --no-save --loglevel=error "node-linux-$arch@$NODE_MAJOR_FALLBACK" >/dev/null
  ln -sf "$TOOLS/node-pkg/node_modules/node-linux-$arch/bin/node" "$TOOLS/node/bin/node"
  if ! node_satisfies "$TOOLS/node/bin/node" "$want"; then
    echo "the installed node ($("$TOOLS/node/bin/node" -v 2>&1)) does not satisfy >= $want" >&2; exit 1
  fi
  echo "using $("$TOOLS/node/bin/node" -v) from .tools/node"
}

ensure_ui_modules() {
  [ -f ui/package.json ] || return 0
  local node major lock want have
  node=$(command -v node)
  major=$("$node" -p 'process.versions.node.split(".")[0]')
  lock=$(sha256sum ui/package-lock.json | cut -c1-64)
  want="node-major=$major lock=$lock"
  have=$(cat ui/node_modules/.tessera-deps 2>/dev/null || true)
  if [ -d ui/node_modules ] && [ "$have" = "$want" ]; then return; fi
  if [ -d ui/node_modules ]; then
    echo "reinstalling ui/node_modules (Node major or package-lock.json changed)"
    rm -rf ui/node_modules
  fi
  (cd ui && npm ci --no-audit --no-fund)
  echo "$want" > ui/node_modules/.tessera-deps
}

ensure_chromium() {
  # The e2e suite drives /usr/bin/chromium (ui/playwright.config.ts); a broken or missing one is
  # (re)installed from Debian.
  if [ -x /usr/bin/chromium ] && /usr/bin/chromium --headless --no-sandbox --version >/dev/null 2>&1; then return; fi
  echo "installing Chromium for the end-to-end tests"
  apt_install chromium fonts-wqy-microhei
}

case "${1:-}" in
  postgres)
    # pdftotext checks the PDF connector's Chinese text (plugins/pdf tests).
    if ! command -v pdftotext >/dev/null; then echo "installing poppler-utils"; apt_install poppler-utils; fi
    if [ -n "${DATABASE_URL:-}" ] && [ -n "${TESSERA_TEST_DATABASE_URL:-}" ]; then exit 0; fi
    if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
      echo "installing PostgreSQL server binaries"
      apt_install postgresql postgresql-contrib
    fi ;;
  node) ensure_node ;;
  ui-modules) ensure_ui_modules ;;
  chromium) ensure_chromium ;;
  *) echo "usage: ensure-deps.sh postgres|node|ui-modules|chromium" >&2; exit 2 ;;
esac
