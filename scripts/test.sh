#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs, then ruff, mypy and pytest.
# This is the test command README.md names; .ci/run calls it.
#
#   bash scripts/test.sh                 # pinned versions (scripts/constraints.txt), everything
#   bash scripts/test.sh --latest        # the newest release of every dependency instead
#   bash scripts/test.sh --no-cluster    # all but the real-kube-apiserver tests (CI never uses it)
#   bash scripts/test.sh -- -k plan      # anything after the options goes to pytest
#
# Python: the active virtual environment when there is one (VIRTUAL_ENV), else a project
# virtual environment made on first use: .venv (pinned) or .venv-latest (--latest). Debian's
# system Python refuses `pip install` outside a virtual environment, so none is used directly.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[test.sh] %s\n' "$*" >&2; }
die() { printf '[test.sh] ERROR: %s\n' "$*" >&2; exit 2; }

latest=0
cluster=1
pytest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --latest) latest=1 ;;
    --no-cluster) cluster=0 ;;
    --) shift; pytest_args+=("$@"); break ;;
    *) pytest_args+=("$1") ;;
  esac
  shift
done

base_python="${PYTHON:-python3}"
command -v "${base_python}" >/dev/null 2>&1 || die "${base_python} not found: install Python 3.11 or newer"
"${base_python}" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "Python 3.11 or newer is needed; ${base_python} is $("${base_python}" -V 2>&1)"

if [ -n "${VIRTUAL_ENV:-}" ]; then
  python="${VIRTUAL_ENV}/bin/python"
  say "using the active virtual environment ${VIRTUAL_ENV}"
else
  venv=".venv"
  [ "${latest}" -eq 1 ] && venv=".venv-latest"
  if [ ! -x "${venv}/bin/python" ]; then
    say "creating the virtual environment ${venv}"
    if ! "${base_python}" -m venv "${venv}" 2>/dev/null; then
      # Debian ships venv support separately.
      rm -rf "${venv}"
      if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing Debian's python3-venv"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2 \
          || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive \
               apt-get install -y -qq python3-venv >&2; } \
          || die "cannot install python3-venv"
        "${base_python}" -m venv "${venv}" || die "cannot create ${venv}"
      else
        die "cannot create a virtual environment: install python3-venv (Debian) and retry"
      fi
    fi
  fi
  python="${venv}/bin/python"
fi

pip=("${python}" -m pip --quiet --disable-pip-version-check)
if [ "${latest}" -eq 1 ]; then
  say "installing the newest release of every dependency"
  "${pip[@]}" install --upgrade --upgrade-strategy eager -e '.[test]'
else
  say "installing the pinned versions of scripts/constraints.txt"
  "${pip[@]}" install -e '.[test]' -c scripts/constraints.txt
fi
"${python}" -m pip list --disable-pip-version-check --format=freeze 2>/dev/null \
  | grep -iE '^(typer|pydantic|pyyaml|rich|kubernetes|pytest|ruff|mypy)==' | tr '\n' ' ' >&2
echo >&2

if [ "${cluster}" -eq 1 ]; then
  # The scan tests run a real kube-apiserver and etcd; fetch/build them once (cached outside
  # the repo) unless KUBEBUILDER_ASSETS already points at them.
  KUBEBUILDER_ASSETS="$(bash scripts/get-kube-assets.sh)"
  export KUBEBUILDER_ASSETS
else
  say "--no-cluster: the real-kube-apiserver tests (marker 'cluster') are deselected"
  pytest_args=(-m "not cluster" "${pytest_args[@]+"${pytest_args[@]}"}")
fi

# The traffic-evidence tests run a real Prometheus: Debian's package, unpacked into a cache.
ASM_ADVISOR_PROMETHEUS="$(bash scripts/get-prometheus.sh)"
export ASM_ADVISOR_PROMETHEUS

# The HTML browser tests load the report in Debian's Chromium, headless and offline.
if ASM_ADVISOR_CHROMIUM="$(bash scripts/get-chromium.sh)"; then
  export ASM_ADVISOR_CHROMIUM
elif [ "${cluster}" -eq 0 ]; then
  # --no-cluster is the no-root path: without Chromium, its tests are left out, and said so.
  say "--no-cluster: no chromium (installing it needs root); the browser tests are deselected"
  pytest_args=(-m "not cluster and not browser" "${pytest_args[@]:2}")
else
  die "chromium is needed for the browser tests: run 'apt-get install -y chromium' as root"
fi

"${python}" -m ruff check src tests benchmarks scripts
"${python}" -m mypy
"${python}" -m pytest "${pytest_args[@]+"${pytest_args[@]}"}"
