#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs, then ruff, mypy and pytest.
# This is the test command README.md names; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'

# The scan tests run a real kube-apiserver and etcd; fetch/build them once (cached outside
# the repo) unless KUBEBUILDER_ASSETS already points at them.
if [ -f scripts/get-kube-assets.sh ]; then
  KUBEBUILDER_ASSETS="$(bash scripts/get-kube-assets.sh)"
  export KUBEBUILDER_ASSETS
fi

python3 -m ruff check src tests benchmarks scripts
python3 -m mypy
python3 -m pytest "$@"
