"""A Ray cluster of several nodes on this one machine, started with `ray start` (tests and benchmarks).

Each node is its own `ray start --block` process (the head with `--head`, the others joining its address),
with its own CPUs, object store, custom resource `node<i>` (to pin a call to it) and temporary folder, as
separate machines would have; they share only the filesystem (the case folder). Token authentication is on,
with a token written for this cluster only (RAY_AUTH_MODE=token, RAY_AUTH_TOKEN_PATH): `env()` is what a
driver needs to join. Stopping ends each node's `ray start` process (which stops its daemons), then any
process left in that node's process group: nothing but the processes started here is touched.

    with LocalCluster(Path("/tmp/x"), nodes=2, cpus=1) as cluster:
        subprocess.run([..., "--engine", "ray", "--ray-address", cluster.address], env=cluster.env())
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from ascertain.errors import AscertainError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalCluster:
    def __init__(self, root: Path, nodes: int = 2, cpus: int = 1, object_store_mb: int = 500,
                 pythonpath: str | None = None, timeout: float = 90.0) -> None:
        # Unix socket paths are at most 107 bytes: the node folders must be short (a session adds ~70)
        self.root, self.n_nodes, self.cpus, self.store_mb = root, nodes, cpus, object_store_mb
        self.pythonpath, self.timeout = pythonpath, timeout
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.token = root / "auth_token"
        self.procs: list[subprocess.Popen] = []

    def node_dir(self, i: int) -> Path:
        return self.root / f"n{i}"

    def env(self) -> dict[str, str]:
        """The environment a driver (or node) needs to join this cluster."""
        env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(self.token),
               "RAY_USAGE_STATS_ENABLED": "0"}
        env.pop("RAY_AUTH_TOKEN", None)
        env.pop("RAY_ADDRESS", None)
        # set to 0 by the local engine (ray_engine.py: a one-machine Ray on loopback); a node joining this
        # cluster would refuse to start under it
        env.pop("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", None)
        if self.pythonpath:
            env["PYTHONPATH"] = self.pythonpath
        return env

    def start(self) -> LocalCluster:
        self.root.mkdir(parents=True, exist_ok=True)
        self.token.write_text(secrets.token_hex(32))
        self.token.chmod(0o600)
        try:
            for i in range(self.n_nodes):
                self._start_node(i)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_node(self, i: int) -> None:
        folder = self.node_dir(i)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        ray = Path(sys.executable).with_name("ray")  # the CLI of the Ray this Python imports
        cmd = [str(ray) if ray.exists() else (shutil.which("ray") or "ray"), "start", "--block",
               "--disable-usage-stats", "--node-ip-address=127.0.0.1", f"--num-cpus={self.cpus}", "--num-gpus=0",
               f"--object-store-memory={self.store_mb * 1024 * 1024}", f"--temp-dir={folder}",
               f'--resources={{"node{i}": 1}}', f"--node-manager-port={free_port()}",
               f"--object-manager-port={free_port()}", f"--metrics-export-port={free_port()}",
               f"--dashboard-agent-listen-port={free_port()}", f"--dashboard-agent-grpc-port={free_port()}",
               f"--runtime-env-agent-port={free_port()}"]
        cmd += (["--head", f"--port={self.port}", "--include-dashboard=false"] if i == 0
                else [f"--address={self.address}"])
        with open(folder / "ray-start.log", "wb") as log:
            self.procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env(),
                                               start_new_session=True))
        deadline = time.monotonic() + self.timeout
        while not list(folder.glob("session_*/sockets/raylet")):
            if self.procs[-1].poll() is not None or time.monotonic() > deadline:
                raise AscertainError(f"ray start (node {i})", "the node did not start: "
                                     + (folder / "ray-start.log").read_text(errors="replace")[-1500:],
                                     "check that Ray is installed and the ports are free")
            time.sleep(0.2)

    def wait_for_nodes(self) -> None:
        """Return once every node has joined (checked from a driver already connected with ray.init)."""
        import ray

        deadline = time.monotonic() + self.timeout
        while sum(1 for n in ray.nodes() if n["Alive"]) < self.n_nodes:
            if time.monotonic() > deadline:
                raise AscertainError(self.address, "not every node joined the cluster", "see the nodes' logs")
            time.sleep(0.2)

    def kill_node(self, i: int) -> None:
        """End node i at once, every process of it (as when its machine fails)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.procs[i].pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.procs[i].wait(timeout=10)

    def stop(self) -> None:
        for p in reversed(self.procs):  # workers first, the head last
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=30)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGKILL)  # this node's group only: what its `ray start` left
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=5)
        self.procs.clear()

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
