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
  # A private /dev/shm as well: every root Podman (4.3 and 5 alike) takes its container, pod and
  # volume locks from one shared-memory segment, /dev/shm/libpod_lock (2048 of them, not
  # configurable); sandboxes removed without their objects leak locks there, and runs side by side
  # would exhaust them together ("allocation failed; exceeded num_locks").
  isolate=(unshare --net --mount --fork -- sh -c \
    'ip link set lo up && mkdir -p /run/containers/networks && mount -t tmpfs tmpfs /run/containers/networks && mount -t tmpfs -o mode=1777 tmpfs /dev/shm && exec "$@"' _)
fi

run() {  # ENGINE FIRST PYTEST-ARGS...: one pytest run on one engine
  local engine=$1 first=$2; shift 2
  local only=1; [ "$first" = 1 ] && only=""
  # PODSPEC_NO_DOWNLOAD: bootstrap fetched everything; a missing Podman 5 tree fails at once.
  env PODSPEC_TEST_ENGINE="$engine" PODSPEC_TEST_ONLY_PODMAN="$only" PODSPEC_NO_DOWNLOAD=1 \
    "${isolate[@]}" .venv/bin/python -m pytest "$@"
}

status=0
if [ "$engines" = "podman4 podman5" ] && [ ${#isolate[@]} -gt 0 ] && [ "${PODSPEC_TEST_SERIAL:-0}" != 1 ]; then
  # Shards: each engine's tests split by file (tests/sharding.py, weighed by tests/durations.json),
  # every shard a pytest run of its own with its own private Podman and network namespace, all side
  # by side. The unit tests go into the podman4 shards (once); podman5 runs the integration tests.
  shards4="${PODSPEC_TEST_SHARDS_PODMAN4:-3}" shards5="${PODSPEC_TEST_SHARDS_PODMAN5:-2}"
  runs=()
  for ((i = 1; i <= shards4; i++)); do runs+=("podman4 1 $i/$shards4"); done
  for ((i = 1; i <= shards5; i++)); do runs+=("podman5 0 $i/$shards5"); done
  logs=$(mktemp -d)
  trap 'rm -rf "$logs"' EXIT
  echo "== ${#runs[@]} runs side by side: podman4 (unit and integration tests) in $shards4 shards, podman5 (integration tests) in $shards5; each run's output below when it ends" >&2
  pids=()
  for r in "${runs[@]}"; do
    read -r engine first shard <<< "$r"
    log="$logs/${engine}-${shard%/*}"
    ( start=$(date +%s); set +e
      PODSPEC_TEST_SHARD="$shard" run "$engine" "$first" "$@" > "$log.log" 2>&1
      code=$?; echo "$code $(( $(date +%s) - start ))" > "$log.end" ) &
    pids+=($!)
  done
  set +e; wait "${pids[@]}"; set -e
  summary=() ran=0
  for r in "${runs[@]}"; do
    read -r engine first shard <<< "$r"
    log="$logs/${engine}-${shard%/*}"
    read -r code secs < "$log.end" || { code=1 secs=?; }
    what="the tests"; [ "$first" = 1 ] || what="the integration tests"
    echo "== $what on $engine, shard $shard (exit $code, ${secs}s)" >&2
    cat "$log.log"
    summary+=("$engine shard $shard: exit $code in ${secs}s")
    # 5 = nothing selected in this shard (arguments that name few files); an error only if no run ran.
    if [ "$code" = 5 ]; then continue; fi
    ran=1
    [ "$status" != 0 ] || status=$code
  done
  [ "$ran" = 1 ] || status=5
  printf '== %s\n' "${summary[@]}" >&2
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
