#!/usr/bin/env bash
# What a newcomer sees: clone the committed repository into an empty temporary folder (no
# ../shared beside it), and run the test command there in a brand-new virtual environment.
#
#   bash scripts/fresh-clone-check.sh                  # newest releases, no real API server
#   bash scripts/fresh-clone-check.sh --pinned         # the pinned versions instead
#   bash scripts/fresh-clone-check.sh --cluster        # also the real-kube-apiserver tests
#
# Only committed work is cloned: commit first. The folder is removed afterwards unless
# ASM_ADVISOR_KEEP_CLONE=1.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

mode=(--latest)
cluster=(--no-cluster)
for arg in "$@"; do
  case "${arg}" in
    --pinned) mode=() ;;
    --cluster) cluster=() ;;
    *) printf 'usage: %s [--pinned] [--cluster]\n' "$0" >&2; exit 2 ;;
  esac
done

scratch="$(mktemp -d)"
if [ "${ASM_ADVISOR_KEEP_CLONE:-0}" != 1 ]; then
  trap 'rm -rf "${scratch}"' EXIT
fi
git clone --quiet "${repo}" "${scratch}/asm-advisor"
cd "${scratch}/asm-advisor"
printf '[fresh-clone-check] %s at %s, no shared/ beside it\n' "$(pwd)" "$(git rev-parse --short HEAD)" >&2
# A clean environment: no inherited virtual environment and not CI (so ../shared may be absent).
env -u VIRTUAL_ENV -u CI bash scripts/test.sh "${mode[@]+"${mode[@]}"}" "${cluster[@]+"${cluster[@]}"}" -- -q
