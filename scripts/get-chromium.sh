#!/usr/bin/env bash
# Provide Debian's `chromium` for the HTML browser tests (tests/html/): installed with apt-get
# when missing (as root), as the report page must be checked in a real browser.
#
#   bash scripts/get-chromium.sh        # prints the path of the executable on stdout
#
# Environment:
#   ASM_ADVISOR_CHROMIUM   an executable to use as is (e.g. /usr/bin/chromium)
set -euo pipefail

say() { printf '[get-chromium] %s\n' "$*" >&2; }
die() { printf '[get-chromium] ERROR: %s\n' "$*" >&2; exit 2; }

if [ -n "${ASM_ADVISOR_CHROMIUM:-}" ]; then
  [ -x "${ASM_ADVISOR_CHROMIUM}" ] || die "ASM_ADVISOR_CHROMIUM=${ASM_ADVISOR_CHROMIUM} is not executable"
  printf '%s\n' "${ASM_ADVISOR_CHROMIUM}"
  exit 0
fi

found="$(command -v chromium || true)"
if [ -z "${found}" ]; then
  [ "$(id -u)" -eq 0 ] || die "chromium is not installed: run 'apt-get install -y chromium' as root"
  command -v apt-get >/dev/null 2>&1 || die "apt-get is needed to install Debian's chromium"
  say "installing Debian's chromium"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2 \
    || { say "refreshing the package lists"; apt-get update -qq >&2 \
         && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2; } \
    || die "cannot install chromium (apt-get install -y chromium)"
  found="$(command -v chromium)" || die "chromium installed but not on the PATH"
fi
"${found}" --version >/dev/null 2>&1 || die "${found} does not run"
printf '%s\n' "${found}"
