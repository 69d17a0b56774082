#!/usr/bin/env bash
# `make fresh-check`: proves that `make run` and `make test` work on a fresh Debian 12 that has
# only Go. It builds a minimal Debian 12 root with debootstrap (from the host's Debian mirror),
# copies the host's Go into it (/usr/local/go), installs make and ca-certificates (what a user
# needs to type `make`), clones this repository (the committed HEAD) inside, then, chrooted:
# `make run` until /readyz answers, stop it, `make test`. It prints the timings. Everything else
# (PostgreSQL, Node.js, npm packages, chromium) is installed by the Makefile itself.
#
# Needs root (debootstrap, chroot, mounts) and a few GB in FRESH_DIR (default /var/tmp/tessera-fresh,
# removed first; KEEP=1 keeps it afterwards). Takes long: tens of minutes. The pristine Debian root
# (debootstrap + make + ca-certificates, before anything of Tessera ran) is cached in
# FRESH_DIR-base and copied for each check; FRESH_REBUILD=1 bootstraps it again.
# Networks with a TLS-inspecting proxy: the host's local CAs (/usr/local/share/ca-certificates)
# are trusted inside the root too (FRESH_HOST_CA=0 turns that off).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
DIR=${FRESH_DIR:-/var/tmp/tessera-fresh}
MIRROR=${FRESH_MIRROR:-$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
PORT=${FRESH_PORT:-18990}
GOROOT_HOST=$(go env GOROOT)
[ "$(id -u)" = 0 ] || { echo "fresh-check needs root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; }

t0=$(date +%s)
stamp() { echo "[fresh-check +$(( $(date +%s) - t0 ))s] $*"; }
mounted=()
cleanup() {
  local still=0
  for ((i=${#mounted[@]}-1; i>=0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
  for m in "${mounted[@]}"; do mountpoint -q "$m" && still=1; done
  # never delete through a mount that is still there (it would be the host's /dev or /sys)
  if [ "${KEEP:-0}" != 1 ] && [ $still = 0 ]; then rm -rf --one-file-system "$DIR"; fi
}
trap cleanup EXIT

BASE=$DIR-base
rm -rf --one-file-system "$DIR"
if [ "${FRESH_REBUILD:-0}" = 1 ] || [ ! -f "$BASE/.complete" ]; then
  rm -rf --one-file-system "$BASE"
  stamp "debootstrap bookworm (minbase) from $MIRROR into $BASE"
  debootstrap --variant=minbase bookworm "$BASE" "$MIRROR" >"$DIR.debootstrap.log" 2>&1 || { tail -20 "$DIR.debootstrap.log"; exit 1; }
  cp -a /etc/apt/sources.list.d/debian.sources "$BASE/etc/apt/sources.list.d/" 2>/dev/null && rm -f "$BASE/etc/apt/sources.list" || true
  cp /etc/resolv.conf "$BASE/etc/resolv.conf"
  stamp "installing make and ca-certificates (nothing else) into the root"
  chroot "$BASE" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin /bin/bash -c \
    'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends make ca-certificates >/dev/null && apt-get clean'
  touch "$BASE/.complete"
else
  stamp "reusing the pristine Debian 12 root $BASE (FRESH_REBUILD=1 bootstraps it again)"
fi
cp -a "$BASE" "$DIR"
rm -f "$DIR/.complete"
t_root=$(date +%s)
cp /etc/resolv.conf "$DIR/etc/resolv.conf"
if [ "${FRESH_HOST_CA:-1}" = 1 ] && ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
  cp /usr/local/share/ca-certificates/*.crt "$DIR/usr/local/share/ca-certificates/"
  chroot "$DIR" /usr/sbin/update-ca-certificates >/dev/null 2>&1
fi
mkdir -p "$DIR/usr/local"
cp -a "$GOROOT_HOST" "$DIR/usr/local/go"
for m in proc sys dev dev/pts dev/shm; do
  mkdir -p "$DIR/$m"
  case $m in proc) mount -t proc proc "$DIR/proc" ;; dev/shm) mount -t tmpfs shm "$DIR/dev/shm" ;; *) mount --bind "/$m" "$DIR/$m" ;; esac
  mounted+=("$DIR/$m")
done
git clone -q --branch "$(git rev-parse --abbrev-ref HEAD)" "$REPO" "$DIR/root/tessera"
in_root() {
  chroot "$DIR" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
    PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    GOPROXY="$(go env GOPROXY)" GOSUMDB="$(go env GOSUMDB)" GOFLAGS=-buildvcs=false \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    TESSERA_E2E_PORT=$((PORT + 1)) /bin/bash -c "$1"
}
in_root 'go version; command -v node npm psql chromium || true'

stamp "make run (until /readyz answers on 127.0.0.1:$PORT)"
t_run=$(date +%s)
# own process group (setsid), stopped like Ctrl-C stops it: SIGINT to the whole group
setsid bash -c "$(declare -f in_root); DIR=$DIR PORT=$PORT; in_root 'cd /root/tessera && TESSERA_ADDR=127.0.0.1:$PORT TESSERA_ADMIN_EMAIL=admin@example.com TESSERA_ADMIN_PASSWORD=fresh-check-pass-1 exec make run'" >"$DIR.run.log" 2>&1 &
run_pid=$!
ready=0
while kill -0 $run_pid 2>/dev/null; do
  if curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then ready=1; break; fi
  sleep 2
done
t_ready=$(date +%s)
if [ $ready != 1 ]; then tail -40 "$DIR.run.log"; echo "make run did not serve" >&2; exit 1; fi
stamp "make run answered /readyz after $((t_ready - t_run))s; stopping it"
kill -INT -- -$run_pid 2>/dev/null || true
wait $run_pid 2>/dev/null || true

stamp "make run again (warm: nothing to install or rebuild)"
t_warm=$(date +%s)
setsid bash -c "$(declare -f in_root); DIR=$DIR PORT=$PORT; in_root 'cd /root/tessera && TESSERA_ADDR=127.0.0.1:$PORT exec make run'" >"$DIR.run2.log" 2>&1 &
run_pid=$!
while kill -0 $run_pid 2>/dev/null && ! curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do sleep 1; done
t_warm_ready=$(date +%s)
kill -INT -- -$run_pid 2>/dev/null || true
wait $run_pid 2>/dev/null || true

stamp "make test"
t_test=$(date +%s)
status=0
in_root 'cd /root/tessera && make test' >"$DIR.test.log" 2>&1 || status=$?
t_end=$(date +%s)
tail -25 "$DIR.test.log"
echo
echo "fresh-check timings: root $((t_root - t0))s, make run cold $((t_ready - t_run))s, make run warm $((t_warm_ready - t_warm))s, make test $((t_end - t_test))s (exit $status), total $((t_end - t0))s"
echo "logs: $DIR.debootstrap.log $DIR.run.log $DIR.run2.log $DIR.test.log"
exit $status
