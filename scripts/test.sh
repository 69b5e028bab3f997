#!/usr/bin/env bash
# Unit and real-Podman integration tests. The integration tests start their own private Podman
# service (own storage, configuration and socket under pytest's temporary directory).
#
# By default they run on both engines, one after the other: everything on podman4 (the host's
# Podman 4.3), then the integration tests again on podman5 (Debian 13's Podman 5, built once into a
# cache; see tools/sandbox.py). Pick one with --engine podman4|podman5 (first argument) or
# PODSPEC_TEST_ENGINE; `--engine both` is the default. Other arguments go to pytest.
# The exit code is pytest's (the first run that failed).
set -euo pipefail
cd "$(dirname "$0")/.."

engines="${PODSPEC_TEST_ENGINE:-both}"
if [ "${1:-}" = "--engine" ]; then
  [ $# -ge 2 ] || { echo "test.sh: --engine needs podman4, podman5 or both" >&2; exit 2; }
  engines="$2"; shift 2
elif [[ "${1:-}" == --engine=* ]]; then
  engines="${1#--engine=}"; shift
fi
case "$engines" in
  both) engines="podman4 podman5" ;;
  podman4|podman5) ;;
  *) echo "test.sh: unknown engine '$engines' (podman4, podman5 or both)" >&2; exit 2 ;;
esac

PODSPEC_TEST_ENGINE="$engines" scripts/bootstrap.sh

status=0
first=1
for engine in $engines; do
  echo "== tests on $engine$([ $first = 1 ] || echo ' (integration tests only)')" >&2
  set +e
  if [ $first = 1 ]; then
    PODSPEC_TEST_ENGINE=$engine .venv/bin/python -m pytest "$@"
  else
    # The unit tests ran already: only the tests that use the private Podman run again.
    PODSPEC_TEST_ENGINE=$engine PODSPEC_TEST_ONLY_PODMAN=1 .venv/bin/python -m pytest "$@"
  fi
  code=$?
  set -e
  # 5 = nothing selected: arguments that name no integration test, on the second engine.
  if [ $first = 0 ] && [ $code = 5 ]; then code=0; fi
  if [ $status = 0 ]; then status=$code; fi
  first=0
done
exit $status
