#!/usr/bin/env bash
# Provide the `prometheus` executable for the traffic-evidence tests (tests/traffic/): Debian's
# `prometheus` package (2.42 on bookworm), unpacked into a cache outside the repository. The
# package is downloaded, not installed: its service is never started and nothing outside the
# cache changes.
#
#   bash scripts/get-prometheus.sh        # prints the path of the executable on stdout
#
# Environment:
#   ASM_ADVISOR_PROMETHEUS   an executable to use as is (e.g. /usr/bin/prometheus)
#   ASM_ADVISOR_PROM_CACHE   cache folder (default: $HOME/.cache/asm-advisor/prometheus)
set -euo pipefail

say() { printf '[get-prometheus] %s\n' "$*" >&2; }
die() { printf '[get-prometheus] ERROR: %s\n' "$*" >&2; exit 2; }

if [ -n "${ASM_ADVISOR_PROMETHEUS:-}" ]; then
  [ -x "${ASM_ADVISOR_PROMETHEUS}" ] || die "ASM_ADVISOR_PROMETHEUS=${ASM_ADVISOR_PROMETHEUS} is not executable"
  printf '%s\n' "${ASM_ADVISOR_PROMETHEUS}"
  exit 0
fi

HOME_DIR="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
CACHE="${ASM_ADVISOR_PROM_CACHE:-${HOME_DIR}/.cache/asm-advisor/prometheus}"
BINARY="${CACHE}/root/usr/bin/prometheus"

if [ -x "${BINARY}" ] && "${BINARY}" --version >/dev/null 2>&1; then
  printf '%s\n' "${BINARY}"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || die "apt-get is needed to fetch Debian's prometheus package"
command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb is needed to unpack Debian's prometheus package"
mkdir -p "${CACHE}/download"
cd "${CACHE}/download"
rm -f prometheus_*.deb
if ! apt-get download prometheus >&2 2>/dev/null; then
  [ "$(id -u)" -eq 0 ] || die "cannot download the prometheus package (try 'apt-get update' as root)"
  say "refreshing the package lists"
  apt-get update -qq >&2 || die "apt-get update failed"
  apt-get download prometheus >&2 || die "cannot download Debian's prometheus package"
fi
deb="$(ls prometheus_*.deb | head -n 1)"
rm -rf "${CACHE}/root"
dpkg-deb -x "${deb}" "${CACHE}/root"
"${BINARY}" --version >/dev/null 2>&1 || die "the unpacked ${BINARY} does not run"
say "unpacked ${deb} into ${CACHE}/root"
printf '%s\n' "${BINARY}"
