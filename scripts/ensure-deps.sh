#!/usr/bin/env bash
# Installs what `make run` / `make test` need when it is missing (Debian, as root).
set -euo pipefail
apt_updated=0
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "missing $*: run as root, or install it: apt-get install -y $*" >&2; exit 1
  fi
  if [ $apt_updated = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
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
  node)
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
      echo "installing Node.js and npm"
      apt_install nodejs npm
    fi ;;
  chromium)
    if [ ! -x /usr/bin/chromium ]; then
      echo "installing Chromium for the end-to-end tests"
      apt_install chromium fonts-wqy-microhei
    fi ;;
  *) echo "usage: ensure-deps.sh postgres|node|chromium" >&2; exit 2 ;;
esac
