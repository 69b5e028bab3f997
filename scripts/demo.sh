#!/usr/bin/env bash
# The tutorial through podspec, on a private Podman (its own storage, configuration and service
# under .sandbox/, offline stand-in images, registries blocked):
#   podspec apply manifests/webserver.yaml   then   curl -s localhost:8080
#
#   scripts/demo.sh                     # on the host's Podman (podman4)
#   scripts/demo.sh --engine podman5    # on Debian 13's Podman 5 (or PODSPEC_TEST_ENGINE=podman5);
#                                       # its sandbox is .sandbox-podman5/
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
scripts/bootstrap.sh
url=$(.venv/bin/python tools/sandbox.py up --engine "$engine")
export CONTAINER_HOST="$url"
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
