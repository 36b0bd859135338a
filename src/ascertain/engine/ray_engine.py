"""The Ray engine: each stage call is a Ray task; Ray schedules them over the cluster's CPUs.

Ray tasks rather than Ray Data: the stages' units are already explicit and few (a batch of ~4 MB of
documents, one lookup-table partition, one partition read for the works' hashes), each ending in files named
by its unit, and the caller needs the results in its own order to write byte-identical shards and manifests.
Ray Data would re-block the input (its block boundaries are not ours) and would first have to materialize
the reader's stream, which is ordered and resumable by shard. Tasks keep the unit = the partition.

`ray.init()` joins the cluster named by RAY_ADDRESS when it is set (the cluster's nodes need this package
installed and the case folder on a shared filesystem at the same path); otherwise it starts a local Ray
instance with `processes` CPUs (all of the machine's by default) and stops it at `close`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any

from ascertain.engine import Shared, StageTimes, timed, timed_split
from ascertain.errors import AscertainError


class RayExecutor:
    name = "ray"

    def __init__(self, processes: int | None = None, address: str | None = None) -> None:
        cluster = address or os.environ.get("RAY_ADDRESS")
        if not cluster:
            # a local instance binds loopback only (Ray's own default on macOS/Windows; read when ray is imported)
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        import ray  # make_executor checked it is installed

        self.ray = ray
        self.started = not ray.is_initialized()
        if self.started:
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                      "configure_logging": False}
            if not cluster:
                kwargs["num_cpus"] = processes or os.cpu_count() or 1
            else:
                kwargs.pop("include_dashboard")  # a cluster's own setting
            # the workers import ascertain from where this process does (a checkout's src, or site-packages); on
            # a cluster of several machines that path must hold the same version on every node
            kwargs["runtime_env"] = {"env_vars": {"PYTHONPATH": os.pathsep.join(
                p for p in (_package_root(), os.environ.get("PYTHONPATH", "")) if p)}}
            try:
                ray.init(address=cluster or None, **kwargs)
            except Exception as e:  # an unreachable RAY_ADDRESS, a port in use, no room for the object store
                raise AscertainError("--engine ray", f"Ray could not be started or joined ({type(e).__name__}: {e})",
                                     "check --ray-address / RAY_ADDRESS (the head's HOST:PORT; unset both to start "
                                     "a local instance) and, on a cluster that requires a token, RAY_AUTH_MODE=token "
                                     "with RAY_AUTH_TOKEN_PATH; or use --engine local. The source stays "
                                     "resumable: run the same command again") from e
        self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        if processes:
            self.workers = min(self.workers, processes)
        self._remote: dict[int, Any] = {}
        self.times = StageTimes()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        remote = self._remote.get(1)
        if remote is None:
            remote = self._remote[1] = self.ray.remote(num_cpus=1, max_retries=2)(timed)
        return remote.remote(fn, *args)

    def result(self, handle: Any) -> Any:
        value, meta = self.ray.get(handle)
        self.times.add(meta)
        return value

    def submit_split(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Two object refs: the small part of the value (for the driver) and the large part (left in the object
        store of the node that ran the call, fetched by the calls that read it)."""
        remote = self._remote.get(2)
        if remote is None:
            remote = self._remote[2] = self.ray.remote(num_cpus=1, max_retries=2, num_returns=2)(timed_split)
        return remote.remote(fn, *args)

    def result_split(self, handle: Any) -> tuple[Any, Shared]:
        small, large = handle
        value, meta = self.ray.get(small)
        self.times.add(meta)
        return value, Shared(uuid.uuid4().hex, ref=large)

    def stage_times(self) -> dict[str, dict]:
        return self.times.report()

    def share(self, value: Any) -> Shared:
        """Put once in the object store; each worker process gets it at its first call that needs it."""
        return Shared(uuid.uuid4().hex, ref=self.ray.put(value))

    def close(self) -> None:
        if self.started:
            self.ray.shutdown()


def _package_root() -> str:
    import ascertain

    return os.path.dirname(os.path.dirname(os.path.abspath(ascertain.__file__)))
