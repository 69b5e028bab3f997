#!/usr/bin/env bash
# The integration tests as an ordinary user, against rootless Podman (run as root; .ci/run does).
#
# Prepares the users (scripts/rootless-setup.sh: uidmap, subuid/subgid ranges, /dev/net/tun, a
# runtime directory, .venv-rootless), then runs, as podspec-rl, inside a private network namespace
# (rootless Podman's slirp4netns and port forwarder work inside it; published ports answer there):
#   - tests/integration/test_rootless.py: each rootless limit refused before any change, `podspec
#     info`, the user's default socket, the private service and the lock in the user's directories,
#     hostUsers: false;
#   - a selected subset of the root suite, not all of it again (CI time): the tutorial, the
#     change-one-container test, drift repair, export (of a pod made by hand; the round trip of
#     "rich" asks for CPU and memory limits, which rootless Podman on these cgroup v1 machines
#     cannot set: podspec refuses them, see test_rootless.py), delete, Services (names on a
#     project network in the rootless network namespace, a Service change that recreates nothing),
#     probes made from the pod's network namespace (apply --wait), stop/start and the simulated reboot;
# and, as root, tests/integration/test_two_users.py (two users apply one directory at once).
#
# Engine: Podman 4.3 (the host's) only. The podman5 harness cannot run rootless: its Podman 5 lives
# in a mount namespace that root made (pivot_root into a Debian 13 tree); entering it (setns) needs
# CAP_SYS_ADMIN over root's namespaces, which an ordinary user never has, and rootless Podman must
# run as the user from the start (its user namespace is made from the user's subuid ranges).
#
#   scripts/test-rootless.sh [PYTEST ARGS...]     extra arguments go to both pytest runs
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "test-rootless.sh: run as root (it prepares the users, then drops to one)" >&2; exit 1; }
user=podspec-rl
scripts/rootless-setup.sh "$user" podspec-rl2
uid=$(id -u "$user")

SELECTED=(
  tests/integration/test_rootless.py
  tests/integration/test_harness_tutorial.py::test_tutorial_pod_serves_page_and_sidecar_updates
  tests/integration/test_apply.py::test_tutorial_end_to_end
  tests/integration/test_apply.py::test_sidecar_change_recreates_only_the_sidecar
  tests/integration/test_apply.py::test_drift_is_repaired
  tests/integration/test_apply.py::test_delete_keeps_volumes_unless_asked
  tests/integration/test_export.py::test_tutorial_pod_by_hand_exports_and_reapplies_on_an_empty_host
  tests/integration/test_engine.py
  tests/integration/test_apply.py::test_wait_waits_for_every_probe
  tests/integration/test_lifecycle.py::test_stop_keeps_the_pod_stopped_through_apply_and_start_brings_it_back
  tests/integration/test_lifecycle.py::test_a_simulated_reboot_then_the_boot_units_command_serves_the_page_again
  tests/integration/test_services.py::test_a_deployment_behind_a_service_answers_by_every_name_and_only_in_its_project
  tests/integration/test_services.py::test_a_service_change_recreates_no_container
  tests/integration/test_rollback.py::test_the_history_survives_every_prune_and_holds_no_secret_value
  tests/integration/test_rollback.py::test_apply_rolls_back_a_version_that_never_becomes_ready
)

# The users' own default Podman state must come out as it went in (the tests use sandboxes only).
default_state() {
  for u in "$user" podspec-rl2; do
    for what in "ps -a --format {{.ID}}" "pod ps --format {{.ID}}" "volume ls --format {{.Name}}"; do
      # shellcheck disable=SC2086
      runuser -u "$u" -- env -i HOME="$(getent passwd "$u" | cut -d: -f6)" PATH=/usr/bin:/bin \
        XDG_RUNTIME_DIR="/run/user/$(id -u "$u")" podman $what 2>/dev/null | sort
    done
  done
}
before=$(cd / && default_state)

echo "== rootless: the selected integration tests as $user (uid $uid), Podman 4.3, private network namespace" >&2
set +e
unshare --net --fork -- bash -c '
  ip link set lo up
  exec runuser -u "$0" -- env -i HOME="$(getent passwd "$0" | cut -d: -f6)" USER="$0" PATH=/usr/local/bin:/usr/bin:/bin \
    XDG_RUNTIME_DIR="/run/user/$1" PODSPEC_TEST_ENGINE=podman4 PYTHONDONTWRITEBYTECODE=1 \
    .venv-rootless/bin/python -m pytest -p no:cacheprovider -q "${@:2}"
' "$user" "$uid" "${SELECTED[@]}" "$@"
status=$?
echo "== rootless: two users at once (run as root)" >&2
unshare --net --fork -- bash -c 'ip link set lo up && exec "$@"' _ \
  env PODSPEC_TEST_ENGINE=podman4 PODSPEC_TEST_TWO_USERS=1 .venv/bin/python -m pytest -p no:cacheprovider -q tests/integration/test_two_users.py "$@"
code=$?
set -e
[ $status -ne 0 ] || status=$code
after=$(cd / && default_state)
# Listing the users' default Podman started its pause process (it holds the user namespace): end it.
for u in "$user" podspec-rl2; do
  pid=$(cat "/run/user/$(id -u "$u")/libpod/tmp/pause.pid" 2>/dev/null) || continue
  [ "$(stat -c %U "/proc/$pid" 2>/dev/null)" = "$u" ] && kill "$pid" 2>/dev/null || true
done
if [ "$before" != "$after" ]; then
  echo "test-rootless.sh: the tests changed a user's default Podman storage:" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  status=1
fi
exit $status
