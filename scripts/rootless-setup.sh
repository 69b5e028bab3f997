#!/usr/bin/env bash
# Prepare ordinary users for rootless Podman, idempotently (run as root; CI's .ci/run does):
#   - uidmap (newuidmap/newgidmap) and slirp4netns, Podman 4's rootless network;
#   - each user (default: podspec-rl and podspec-rl2, the second for the two-users test) with a
#     home, and subordinate UID/GID ranges in /etc/subuid and /etc/subgid;
#   - /dev/net/tun usable by ordinary users (mode 0666, as on ordinary hosts; these machines ship
#     0600, and slirp4netns then fails with 'open("/dev/net/tun"): Permission denied');
#   - a runtime directory per user (/run/user/UID, 0700, theirs), what XDG_RUNTIME_DIR names;
#   - .venv-rootless: a virtualenv on the system's python3 with podspec and its test extra, which
#     the users can run (the root .venv may be built on an interpreter under /root, 0700).
#
#   scripts/rootless-setup.sh [USER...]
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "rootless-setup.sh: run as root (it creates users and sets /dev/net/tun)" >&2; exit 1; }
users=("$@")
[ ${#users[@]} -gt 0 ] || users=(podspec-rl podspec-rl2)

need_apt=()
command -v newuidmap >/dev/null || need_apt+=(uidmap)
command -v slirp4netns >/dev/null || need_apt+=(slirp4netns)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "rootless-setup: installing ${need_apt[*]} with apt-get" >&2
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need_apt[@]}" >/dev/null
fi

touch /etc/subuid /etc/subgid
next_free() {  # the first ID after every range in /etc/subuid and /etc/subgid (at least 100000)
  awk -F: 'BEGIN { n = 100000 } NF >= 3 { end = $2 + $3; if (end > n) n = end } END { print n }' /etc/subuid /etc/subgid
}
for user in "${users[@]}"; do
  if ! id -u "$user" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/bash "$user"
  fi
  if ! grep -q "^$user:" /etc/subuid || ! grep -q "^$user:" /etc/subgid; then
    start=$(next_free)
    grep -q "^$user:" /etc/subuid || echo "$user:$start:65536" >> /etc/subuid
    grep -q "^$user:" /etc/subgid || echo "$user:$start:65536" >> /etc/subgid
  fi
  uid=$(id -u "$user")
  install -d -m 0700 -o "$user" -g "$(id -g "$user")" "/run/user/$uid"
done

if [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
  chmod 666 /dev/net/tun
fi

# The users' virtualenv: the system interpreter (world-readable), podspec editable from this tree.
stamp=.venv-rootless/.podspec-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -x .venv-rootless/bin/python ]; then
  /usr/bin/python3 -m venv .venv-rootless
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "rootless-setup: installing podspec and its test extra into .venv-rootless" >&2
  .venv-rootless/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
  echo "$want" > "$stamp"
fi
chmod -R a+rX .venv-rootless
