#!/usr/bin/env bash
# Unit and real-Podman integration tests. The integration tests start their own private Podman
# service (own storage, configuration and socket under pytest's temporary directory).
#
# By default they run on both engines: everything on podman4 (the host's Podman 4.3), and the
# integration tests again on podman5 (Debian 13's Podman 5, built once into a cache; see
# tools/sandbox.py). Pick one with --engine podman4|podman5 (first argument) or PODSPEC_TEST_ENGINE;
# `--engine both` is the default. Other arguments go to pytest. The exit code is pytest's (the first
# run that failed).
#
# As root, each engine's run gets a network namespace of its own (its bridges, addresses, published
# ports and firewall rules never meet the machine's, nor the other run's), and with both engines the
# two runs go side by side: most of their time is spent waiting on containers, not on the CPU.
# PODSPEC_TEST_SERIAL=1 runs them one after the other; PODSPEC_TEST_NETNS=0 uses the machine's network.
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

PODSPEC_TEST_ENGINE="$engines" scripts/bootstrap.sh   # with the network: before any namespace

isolate=()
if [ "${PODSPEC_TEST_NETNS:-1}" = 1 ] && [ "$(id -u)" -eq 0 ] && unshare --net true 2>/dev/null; then
  # A mount namespace too, with a private /run/containers/networks: root Podman 4.3 keeps its
  # network state there whatever its configuration says (the IP allocations and aardvark-dns, the
  # DNS server of networks such as a project's), and runs side by side must not share one.
  isolate=(unshare --net --mount --fork -- sh -c \
    'ip link set lo up && mkdir -p /run/containers/networks && mount -t tmpfs tmpfs /run/containers/networks && exec "$@"' _)
fi

run() {  # ENGINE FIRST PYTEST-ARGS...: one pytest run on one engine
  local engine=$1 first=$2; shift 2
  local only=1; [ "$first" = 1 ] && only=""
  # PODSPEC_NO_DOWNLOAD: bootstrap fetched everything; a missing Podman 5 tree fails at once.
  env PODSPEC_TEST_ENGINE="$engine" PODSPEC_TEST_ONLY_PODMAN="$only" PODSPEC_NO_DOWNLOAD=1 \
    "${isolate[@]}" .venv/bin/python -m pytest "$@"
}

set -- "$@"
status=0
if [ "$engines" = "podman4 podman5" ] && [ ${#isolate[@]} -gt 0 ] && [ "${PODSPEC_TEST_SERIAL:-0}" != 1 ]; then
  logs=$(mktemp -d)
  echo "== tests on podman4 and, side by side, the integration tests on podman5 (output below, engine by engine)" >&2
  set +e
  run podman5 0 "$@" > "$logs/podman5.log" 2>&1 &
  second=$!
  run podman4 1 "$@" 2>&1 | tee "$logs/podman4.log"
  code4=${PIPESTATUS[0]}
  wait "$second"; code5=$?
  set -e
  [ "$code5" != 5 ] || code5=0  # nothing selected: arguments that name no integration test
  echo "== the integration tests on podman5" >&2
  cat "$logs/podman5.log"
  rm -rf "$logs"
  status=$code4; [ "$status" != 0 ] || status=$code5
  exit "$status"
fi

first=1
for engine in $engines; do
  echo "== tests on $engine$([ $first = 1 ] || echo ' (integration tests only)')" >&2
  set +e
  run "$engine" "$first" "$@"
  code=$?
  set -e
  # 5 = nothing selected: arguments that name no integration test, on the second engine.
  if [ $first = 0 ] && [ $code = 5 ]; then code=0; fi
  if [ $status = 0 ]; then status=$code; fi
  first=0
done
exit $status
