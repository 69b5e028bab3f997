#!/usr/bin/env bash
# The tutorial through podspec, on a private Podman (its own storage, configuration and service
# under .sandbox/, offline stand-in images, registries blocked):
#   podspec apply manifests/webserver.yaml   then   curl -s localhost:8080
#
#   scripts/demo.sh                     # on the host's Podman (podman4)
#   scripts/demo.sh --engine podman5    # on Debian 13's Podman 5 (or PODSPEC_TEST_ENGINE=podman5);
#                                       # its sandbox is .sandbox-podman5/
#
# Started by an ordinary user, it runs rootless: the sandbox is the user's own (storage, runtime
# directory and service under .sandbox/, nothing of the user's default Podman touched), the page is
# published on 8080 by rootless Podman's port forwarder. That needs what any rootless Podman needs:
# subordinate ID ranges for the user (/etc/subuid, /etc/subgid), newuidmap (uidmap), slirp4netns and
# a /dev/net/tun the user may open; as root, `scripts/rootless-setup.sh USER` prepares all of that.
# The podman5 engine needs root (see docs/rootless.md).
set -euo pipefail
cd "$(dirname "$0")/.."
engine="${PODSPEC_TEST_ENGINE:-podman4}"
if [ "${1:-}" = "--engine" ] && [ $# -ge 2 ]; then engine="$2"; shift 2
elif [[ "${1:-}" == --engine=* ]]; then engine="${1#--engine=}"; shift
fi
case "$engine" in
  podman4|podman5) ;;
  *) echo "demo.sh: unknown engine '$engine' (podman4 or podman5)" >&2; exit 2 ;;
esac
export PODSPEC_TEST_ENGINE="$engine"
if [ "$(id -u)" -ne 0 ]; then
  [ "$engine" = podman4 ] || { echo "demo.sh: the podman5 engine needs root; run it as root, or use --engine podman4 (rootless)" >&2; exit 2; }
  me=$(id -un)
  missing=()
  grep -q "^$me:" /etc/subuid 2>/dev/null && grep -q "^$me:" /etc/subgid 2>/dev/null || missing+=("subordinate IDs for $me in /etc/subuid and /etc/subgid")
  command -v newuidmap >/dev/null || missing+=("newuidmap (package uidmap)")
  command -v slirp4netns >/dev/null || missing+=("slirp4netns")
  [ -r /dev/net/tun ] && [ -w /dev/net/tun ] || missing+=("a /dev/net/tun $me may open (chmod 666 /dev/net/tun)")
  if [ ${#missing[@]} -gt 0 ]; then
    echo "demo.sh: rootless Podman needs, for $me:" >&2
    printf '  - %s\n' "${missing[@]}" >&2
    echo "as root, scripts/rootless-setup.sh $me prepares them (or your distribution's rootless Podman guide)" >&2
    exit 1
  fi
  if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
    export XDG_RUNTIME_DIR="/run/user/$(id -u)"
    [ -d "$XDG_RUNTIME_DIR" ] || { echo "demo.sh: no XDG_RUNTIME_DIR (log in with a session, or loginctl enable-linger $me)" >&2; exit 1; }
  fi
fi
scripts/bootstrap.sh
url=$(.venv/bin/python tools/sandbox.py up --engine "$engine")
export CONTAINER_HOST="$url"
.venv/bin/podspec info --url "$url" | sed -n 1p | sed 's/^/podspec talks to /'
echo "+ podspec apply manifests/webserver.yaml    (on $engine)"
.venv/bin/podspec apply manifests/webserver.yaml
for _ in $(seq 50); do curl -sf localhost:8080 >/dev/null && break; sleep 0.2; done
sleep 1  # let the sidecar append its first line
echo "+ curl -s localhost:8080"
curl -s localhost:8080
echo
echo "The private Podman ($engine) keeps running. To use it from this shell:"
.venv/bin/python tools/sandbox.py env --engine "$engine" | sed 's/^/  /'
echo "  export PATH=\$PWD/.venv/bin:\$PATH"
echo "  podspec status; podspec diff manifests/"
echo "Stop it: .venv/bin/python tools/sandbox.py down --engine $engine   (add 'purge' first to remove the pod)"
