#!/usr/bin/env python3
"""A fleet in one command (issue 29): `podspec diff|apply --target all` over N hosts, each its own
network namespace with its own OpenSSH server and private Podman, against the same on one host.

    unshare --net --fork -- bash -c 'ip link set lo up && .venv/bin/python bench/bench_fleet.py'
    ... bench/bench_fleet.py --hosts 10 --repeat 5 [--engine podman4|podman5] [--parallel-targets 8]
    ... bench/bench_fleet.py --hosts 10 --then '$PODSPEC diff --target all'   # the hosts, by hand

Each host `fleetI` is a network namespace made here (inside the benchmark's own one: run it under
`unshare --net` as above), joined to the benchmark's by a veth pair (10.251.I.1 here, 10.251.I.2
there: addresses of these test hosts only, never routed anywhere else), with sshd listening on
10.251.I.2:22 and a private `podman system service` started in that namespace (its published ports
are the host's own: every host serves the tutorial on its port 8080). The client is podspec with a
podspec.toml naming the hosts as targets (ssh://root@10.251.I.2/...sock, a key made for the run).

Reported (median of --repeat, whole processes, one host and all hosts in turn, with the load average):
  - no-op diff of the tutorial: one host (`--target fleet0`) and all (`--target all`);
  - apply of the tutorial from empty: one host, and all;
  - each ratio all/one (target: 1.5x), the peak RSS of the client, and the CPU time of the client and
    of the machine (Podman's share: all processes but podspec's), to show where the time goes on a
    machine with few cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
import sandbox  # noqa: E402
from bench_apply import installed_podspec  # noqa: E402

TUTORIAL = ROOT / "manifests" / "webserver.yaml"
SSHD = "/usr/sbin/sshd"


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), check=check, capture_output=True, text=True)


@dataclass
class Host:
    index: int
    state: Path
    service: subprocess.Popen | None = None
    sshd: subprocess.Popen | None = None

    @property
    def netns(self) -> str:
        return f"podspec-fleet{self.index}"

    @property
    def address(self) -> str:
        return f"10.251.{self.index}.2"

    def url(self) -> str:
        return f"ssh://root@{self.address}{sandbox.socket_path(self.state)}"


def make_network(host: Host) -> None:
    near, far = f"pfv{host.index}", f"pfp{host.index}"
    sh("ip", "netns", "add", host.netns)
    sh("ip", "link", "add", near, "type", "veth", "peer", "name", far)
    sh("ip", "link", "set", far, "netns", host.netns)
    sh("ip", "addr", "add", f"10.251.{host.index}.1/30", "dev", near)
    sh("ip", "link", "set", near, "up")
    inside = ("ip", "netns", "exec", host.netns)
    sh(*inside, "ip", "addr", "add", f"{host.address}/30", "dev", far)
    sh(*inside, "ip", "link", "set", far, "up")
    sh(*inside, "ip", "link", "set", "lo", "up")


def enter(host: Host) -> list[str]:
    """Run in the host's network namespace only (`ip netns exec` would also remount /sys, hiding the
    cgroup file systems Podman needs)."""
    return ["nsenter", f"--net=/run/netns/{host.netns}", "--"]


def start_host(host: Host, engine: str, keys: Path) -> None:
    make_network(host)
    sandbox.configure(host.state, engine)
    if sandbox.engine_of(host.state) == "podman5":
        sandbox.start_namespace(host.state)
    sandbox.build_images(host.state)
    log = open(host.state / "service.log", "ab")
    host.service = subprocess.Popen(
        [*enter(host), *sandbox.podman_command(host.state), "system", "service", "--time=0",
         sandbox.url(host.state)],
        env=sandbox.podman_env(host.state), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    config = host.state / "sshd_config"
    config.write_text(
        f"ListenAddress {host.address}\nHostKey {keys / 'host_ed25519'}\nPidFile {host.state / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {keys / 'authorized_keys'}\nPermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
        "AllowStreamLocalForwarding yes\nAllowTcpForwarding local\nMaxSessions 100\nMaxStartups 100\nLogLevel ERROR\n")
    host.sshd = subprocess.Popen([*enter(host), SSHD, "-D", "-e", "-f", str(config), "-p", "22"],
                                 stdout=open(host.state / "sshd.log", "ab"), stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not (sandbox.socket_path(host.state).exists() and sandbox._ping(host.state)):
        if time.monotonic() > deadline or host.service.poll() is not None:
            raise SystemExit(f"the Podman service of {host.netns} did not start; see {host.state / 'service.log'}")
        time.sleep(0.05)


def stop_host(host: Host) -> None:
    if host.service is not None and host.service.poll() is None:
        sandbox.purge(host.state)
    for process in (host.sshd, host.service):
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    sandbox.podman(host.state, "system", "reset", "--force", check=False)
    if sandbox.engine_of(host.state) == "podman5":
        sandbox.stop_namespace(host.state)
    sh("ip", "netns", "del", host.netns, check=False)
    sh("ip", "link", "del", f"pfv{host.index}", check=False)


def keys_and_config(base: Path, hosts: list[Host]) -> tuple[Path, Path]:
    keys = base / "keys"
    keys.mkdir(mode=0o700)
    for name in ("host_ed25519", "client_ed25519"):
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"podspec-fleet-{name}", "-f", str(keys / name))
    (keys / "authorized_keys").write_text((keys / "client_ed25519.pub").read_text())
    public = " ".join((keys / "host_ed25519.pub").read_text().split()[:2])
    (keys / "known_hosts").write_text("".join(f"{h.address} {public}\n" for h in hosts))
    ssh_config = keys / "ssh_config"
    ssh_config.write_text(f"Host *\n  UserKnownHostsFile {keys / 'known_hosts'}\n  GlobalKnownHostsFile /dev/null\n")
    return keys, ssh_config


def project_file(work: Path, hosts: list[Host], keys: Path) -> None:
    (work / "manifests").mkdir(parents=True)
    shutil.copy(TUTORIAL, work / "manifests" / "webserver.yaml")
    text = 'project = "fleet"\n'
    for host in hosts:
        text += (f'\n[targets.fleet{host.index}]\nurl = "{host.url()}"\nidentity = "{keys / "client_ed25519"}"\n'
                 'manifests = ["manifests/webserver.yaml"]\n')
    (work / "podspec.toml").write_text(text)


def machine_cpu() -> float:
    """CPU seconds the whole machine spent (user + system + their nice), from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system = (int(x) for x in fields[:3])
    return (user + nice + system) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Run:
    seconds: float
    client_cpu: float
    machine_cpu: float
    peak_mb: float


SHOW = "--show" in sys.argv  # print each command's output (to see where the time goes)


def timed(argv: list[str], cwd: Path, env: dict[str, str], expect: tuple[int, ...]) -> Run:
    cpu0 = machine_cpu()
    began = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - began
        code = os.waitstatus_to_exitcode(status)
        if SHOW:
            out.seek(0)
            print(out.read().decode(errors="replace"), flush=True)
        if code not in expect:
            out.seek(0)
            raise SystemExit(f"{' '.join(argv)} exited {code}:\n{out.read().decode(errors='replace')[-3000:]}")
    return Run(seconds, usage.ru_utime + usage.ru_stime, machine_cpu() - cpu0, usage.ru_maxrss / 1024)


def median_run(runs: list[Run]) -> Run:
    return Run(statistics.median(r.seconds for r in runs), statistics.median(r.client_cpu for r in runs),
               statistics.median(r.machine_cpu for r in runs), max(r.peak_mb for r in runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--engine", choices=sandbox.ENGINES, default=None)
    parser.add_argument("--parallel-targets", type=int, default=None, help="passed to podspec (its default otherwise)")
    parser.add_argument("--show", action="store_true", help="print each podspec command's output")
    parser.add_argument("--editable", action="store_true",
                        help="measure the development .venv's podspec (no compiled bytecode when "
                             "PYTHONDONTWRITEBYTECODE is set: every run compiles podspec again)")
    parser.add_argument("--then", metavar="SCRIPT", default=None,
                        help="once the hosts are up, run this bash script in the project's directory instead of "
                             "measuring ($PODSPEC is podspec; e.g. to profile), then take the hosts down")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("bench_fleet.py makes network namespaces: run it as root, under unshare --net (see above)")
    engine = sandbox.engine_choice(args.engine)
    with tempfile.TemporaryDirectory(prefix="podspec-bench-fleet-") as tmp:
        base = Path(tmp)
        podspec = installed_podspec(base / "venv", args.editable)[0]  # as users install it (compiled)
        hosts = [Host(i, base / f"host{i}") for i in range(args.hosts)]
        keys, ssh_config = keys_and_config(base, hosts)
        work = base / "work"
        project_file(work, hosts, keys)
        env = {k: v for k, v in os.environ.items() if k != "CONTAINER_HOST"}
        env["PODSPEC_SSH_CONFIG"] = str(ssh_config)
        extra = ["--parallel-targets", str(args.parallel_targets)] if args.parallel_targets else []
        try:
            began = time.monotonic()
            for host in hosts:
                start_host(host, engine, keys)
            print(f"{args.hosts} hosts ({engine}) up in {time.monotonic() - began:.0f} s; {os.cpu_count()} cores; "
                  f"podspec = {podspec}", flush=True)

            def purge_all() -> None:
                for host in hosts:
                    sandbox.purge(host.state)

            if args.then:  # hosts up, the project ready: hand over (to profile, to try things by hand)
                env["PODSPEC"] = podspec
                print(f"running in {work}: {args.then}", flush=True)
                return subprocess.run(["bash", "-c", args.then], cwd=work, env=env).returncode

            # One host and all hosts in turn, each repeat (A, B, A, B, ...): on a loaded machine the ratio
            # holds even when the absolute figures move.
            load_before = os.getloadavg()
            runs: dict[str, list[Run]] = {}
            for _ in range(args.repeat):
                for label, targets in (("one host", ["--target", "fleet0"]), ("all hosts", ["--target", "all"])):
                    purge_all()
                    runs.setdefault(f"apply from empty, {label}", []).append(
                        timed([podspec, "apply", *targets, *extra], work, env, (0,)))
                    runs.setdefault(f"no-op diff, {label}", []).append(
                        timed([podspec, "diff", *targets, *extra], work, env, (0,)))
            results = {label: median_run(found) for label, found in runs.items()}
            print(f"\nmedian of {args.repeat}, one host and all in turn; load average {load_before[0]:.1f} before, "
                  f"{os.getloadavg()[0]:.1f} after; CPU: the podspec process (client) and the whole machine")
            for label, run in results.items():
                print(f"  {label:<28} {run.seconds:7.3f} s   client CPU {run.client_cpu:6.3f} s   "
                      f"machine CPU {run.machine_cpu:6.3f} s   client peak RSS {run.peak_mb:5.0f} MB")
            for what in ("no-op diff", "apply from empty"):
                one, every = results[f"{what}, one host"], results[f"{what}, all hosts"]
                print(f"  {what}: all/one = {every.seconds / one.seconds:.2f}x (target 1.5x); machine CPU "
                      f"all/one = {every.machine_cpu / max(one.machine_cpu, 1e-9):.1f}x")
        finally:
            for host in hosts:
                stop_host(host)
    return 0


if __name__ == "__main__":
    sys.exit(main())
