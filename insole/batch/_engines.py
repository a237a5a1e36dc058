"""Where the tasks run: a local process pool, an existing Dask cluster, or a Dask LocalCluster.

Every engine takes the same ``Job`` objects (a path and a few settings) and
yields the task's small result dicts as they finish, in completion order; the
caller sorts. Nothing but jobs and results crosses process boundaries: the
workers open the files themselves.

``EngineSpec(workers=N)``
    ``concurrent.futures.ProcessPoolExecutor`` with N processes (default:
    ``os.cpu_count()``): no extra services, the default for one machine.
``EngineSpec(scheduler="tcp://host:8786")``
    an existing ``dask.distributed`` cluster. Its workers must have insole
    installed and see the files at the same paths (a shared file system).
``EngineSpec(scheduler="local", workers=N)``
    starts a Dask ``LocalCluster`` of N single-threaded worker processes for
    this batch. Like any process-based Dask cluster, the program that starts
    it must do so under ``if __name__ == "__main__":`` (the ``insole`` command
    does).

Dask's ``client.map`` treats tasks as pure by default and merges calls with
equal arguments; the jobs are submitted with ``pure=False`` so every
recording is its own task.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from insole._errors import InsoleError, MissingExtraError
from insole.batch._task import Job, analyse_job, error_record

__all__ = ["EngineSpec", "run_jobs", "EngineError"]


class EngineError(InsoleError):
    """The engine could not be started or reached (e.g. no Dask scheduler at the address)."""


@dataclass(frozen=True)
class EngineSpec:
    """Which engine: ``scheduler`` None (local processes), "local" (Dask LocalCluster) or a Dask address."""

    workers: int | None = None
    scheduler: str | None = None
    connect_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if self.workers is not None and (int(self.workers) != self.workers or self.workers < 1):
            raise EngineError(f"workers must be a positive integer, not {self.workers!r}")

    @property
    def n_workers(self) -> int:
        return int(self.workers or os.cpu_count() or 1)

    @property
    def name(self) -> str:
        if self.scheduler is None:
            return "processes"
        return "dask-local" if self.scheduler == "local" else "dask"

    def describe(self) -> dict[str, Any]:
        """For the provenance: which engine, how many workers, which scheduler."""
        info: dict[str, Any] = {"engine": self.name}
        if self.scheduler not in (None, "local"):
            info["scheduler"] = self.scheduler
        else:
            info["workers"] = self.n_workers
        return info


def _crashed(job: Job, error: BaseException) -> dict[str, Any]:
    """The result of a task whose worker died or could not run it at all."""
    from concurrent.futures.process import BrokenProcessPool

    text = str(error).strip().splitlines()
    if isinstance(error, BrokenProcessPool):
        reason = "the worker process died while analysing this recording (a crash, or out of memory)"
    else:
        reason = f"the worker running this recording failed: {type(error).__name__}: {text[0] if text else ''}".rstrip(
            ": "
        )
    return {"ok": False, "error": error_record(job.path, job.format, type(error).__name__, reason, "worker")}


def run_jobs(
    jobs: Sequence[Job],
    spec: EngineSpec,
    task: Callable[[Job], dict[str, Any]] = analyse_job,
    on_start: Callable[[dict[str, Any]], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Run ``task`` on every job with the engine of ``spec``; yield results as they complete.

    ``on_start`` receives the engine's description once it is up (workers
    connected), before the first result.
    """
    if not jobs:
        return
    if spec.scheduler is None:
        yield from _run_local(jobs, spec, task, on_start)
    else:
        yield from _run_dask(jobs, spec, task, on_start)


def _run_local(jobs, spec, task, on_start) -> Iterator[dict[str, Any]]:
    """A process pool with a bounded number of jobs in flight, so a crashed worker can be traced to its job.

    A worker that dies (a crash in native code, the out-of-memory killer)
    breaks the whole pool and fails every job in it. The jobs that were in
    flight become suspects, the pool is restarted for the rest, and the
    suspects are then run one at a time: the one that kills its worker again
    is reported as failed, the others are analysed normally.
    """
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    width = min(spec.n_workers, len(jobs))
    todo = deque(jobs)
    suspects: deque[Job] = deque()
    announced = False
    while todo or suspects:
        isolate = not todo
        source, size = (suspects, 1) if isolate else (todo, width)
        # two per worker keep every worker busy while the next job is handed over
        limit = 1 if isolate else 2 * size
        pool = ProcessPoolExecutor(max_workers=size)
        in_flight: dict[Any, Job] = {}
        try:
            while source and len(in_flight) < limit:
                job = source.popleft()
                in_flight[pool.submit(task, job)] = job
            if not announced:
                announced = True
                if on_start:
                    on_start({**spec.describe(), "workers": width})
            broken = False
            while in_flight and not broken:
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    job = in_flight.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool as error:
                        broken = True
                        if isolate:  # it ran alone: this job killed its worker
                            yield _crashed(job, error)
                        else:
                            suspects.append(job)
                        continue
                    except Exception as error:  # noqa: BLE001 - e.g. the result could not be sent back
                        result = _crashed(job, error)
                    yield result
                if broken:
                    suspects.extend(in_flight.values())
                    in_flight.clear()
                    break
                while source and len(in_flight) < limit:
                    job = source.popleft()
                    in_flight[pool.submit(task, job)] = job
        finally:
            # on Ctrl-C or an early close: drop what has not started
            pool.shutdown(wait=True, cancel_futures=True)


def _run_dask(jobs, spec, task, on_start) -> Iterator[dict[str, Any]]:
    import logging

    try:
        from distributed import Client, LocalCluster, as_completed
    except ModuleNotFoundError:
        raise MissingExtraError("batch", "distributed") from None

    cluster = None
    try:
        if spec.scheduler == "local":
            import dask

            try:
                # Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536 so they hand memory back
                # to the system; that also stops glibc from reusing freed blocks for the next large
                # array, and each recording's arrays then page-fault afresh (measured here: 5x the page
                # faults, about 40 % longer per recording). Our tasks are short and free all they
                # allocate, so the workers keep glibc's default.
                with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
                    cluster = LocalCluster(
                        n_workers=spec.n_workers, threads_per_worker=1, processes=True,
                        dashboard_address=":0", silence_logs=logging.ERROR,
                    )
            except Exception as error:  # noqa: BLE001 - typically a missing __main__ guard
                raise EngineError(
                    f"could not start a Dask LocalCluster ({type(error).__name__}: {error}); a program that "
                    "starts one must do so under 'if __name__ == \"__main__\":'"
                ) from None
            address: Any = cluster
        else:
            address = spec.scheduler
        try:
            client = Client(address, timeout=spec.connect_timeout_s, set_as_default=False)
        except (OSError, TimeoutError) as error:
            raise EngineError(f"cannot reach the Dask scheduler at {spec.scheduler}: {error}") from None
        with client:
            try:
                client.wait_for_workers(1, timeout=spec.connect_timeout_s)
            except TimeoutError:
                raise EngineError(
                    f"no Dask worker joined the scheduler at {spec.scheduler} within {spec.connect_timeout_s:g} s"
                ) from None
            info = spec.describe()
            info["workers"] = len(client.scheduler_info(n_workers=-1).get("workers", {})) if _takes_n_workers(client) \
                else len(client.scheduler_info().get("workers", {}))
            if on_start:
                on_start(info)
            futures = client.map(task, list(jobs), pure=False)
            job_of = {future.key: job for future, job in zip(futures, jobs)}
            try:
                for future in as_completed(futures, loop=client.loop):
                    try:
                        result = future.result()
                    except Exception as error:  # noqa: BLE001 - the worker died or the task could not be run
                        result = _crashed(job_of[future.key], error)
                    future.release()
                    yield result
            finally:
                client.cancel([f for f in futures if not f.done()])
    finally:
        if cluster is not None:
            cluster.close()


def _takes_n_workers(client: Any) -> bool:
    """Newer distributed versions list only a few workers in scheduler_info unless asked for all."""
    import inspect

    try:
        return "n_workers" in inspect.signature(client.scheduler_info).parameters
    except (TypeError, ValueError):
        return False
