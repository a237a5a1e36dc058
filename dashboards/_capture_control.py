"""The live page's controls for the BLE collector: ``SessionControl`` over ``CaptureSession``.

The collector (``insole/capture``) records one file per ``CaptureSession``:
scan (once), connect, tare, record until stopped, finalise. ``CaptureControl``
gives the page the ``SessionControl`` verbs on top of that:

* ``start_recording``: a new ``CaptureSession`` into ``out_dir`` (the insoles
  found by the first session are reused, so no new scan);
* ``stop_recording``: ``request_stop`` and wait for the finished Parquet file;
* ``mark``: a ``Mark`` on the running recording (and on the live feed);
* ``zero``: not available while recording (the collector zeroes the insoles
  before each recording starts); the page is told so.

The capture runs on its own asyncio task: the page (or its absence) changes
nothing about what reaches the disk.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dashboards._control import clean_label
from insole import InsoleError, Mark
from insole.capture import LiveHub, SessionEvent, StoppedBeforeRecording

__all__ = ["CaptureControl"]


class CaptureControl:
    """``SessionControl`` over the collector (see the module docstring).

    ``make_session(path, found)`` builds a ``CaptureSession`` writing ``path``,
    reusing ``found`` (side -> insole from an earlier scan, or None to scan).
    """

    def __init__(
        self,
        make_session: Callable[[Path, Mapping[str, Any] | None], Any],
        hub: LiveHub,
        *,
        out_dir: str | Path = ".",
        first_path: str | Path | None = None,
    ) -> None:
        self._make_session = make_session
        self.hub = hub
        self.out_dir = Path(out_dir)
        self._first_path = Path(first_path) if first_path is not None else None
        self._session: Any = None
        self._task: asyncio.Task[Any] | None = None
        self._path: Path | None = None
        self._found: Mapping[str, Any] | None = None
        self.results: list[Any] = []
        self.failed = asyncio.Event()  # set when a capture ends with an error of its own
        self.error: BaseException | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def task(self) -> asyncio.Task[Any] | None:
        """The running capture's task (its exception, if any, is the capture's failure)."""
        return self._task

    @property
    def recording_path(self) -> Path | None:
        return self._path if self.running else None

    def _next_path(self) -> Path:
        if self._first_path is not None:
            path, self._first_path = self._first_path, None
            return path
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = self.out_dir / f"insole-{stamp}.parquet"
        n = 1
        while path.exists() or path.with_suffix(".arrows").exists():
            n += 1
            path = self.out_dir / f"insole-{stamp}-{n}.parquet"
        return path

    async def start_recording(self) -> Path:
        if self.running:
            raise InsoleError(f"already recording to {self._path.name if self._path else 'a file'}")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self._next_path()
        self._session = self._make_session(path, self._found)
        self._path = path
        self._task = asyncio.create_task(self._session.run(), name="capture")
        self._task.add_done_callback(self._on_done)
        return path

    def _on_done(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        # a stop asked while the insoles were still connecting is what the user wanted, not a failed capture
        if error is not None and not isinstance(error, StoppedBeforeRecording):
            self.error = error
            self.failed.set()

    async def stop_recording(self) -> Path:
        if not self.running:
            raise InsoleError("not recording")
        assert self._task is not None
        self._session.request_stop()
        result = await self._task
        self.results.append(result)
        self._found = dict(self._session.found) or self._found
        return Path(result.path)

    async def wait(self) -> Any:
        """Wait for the running capture to end by itself (its duration); return its result."""
        if self._task is None:
            return None
        result = await self._task
        if result not in self.results:
            self.results.append(result)
        self._found = dict(self._session.found) or self._found
        return result

    async def mark(self, label: str) -> Mark:
        if not self.running:
            raise InsoleError("not recording: a mark belongs to a recording; start one first")
        session = self._session
        mark = Mark(time_s=round(float(session.elapsed_s), 3), label=clean_label(label))
        own = getattr(session, "mark", None)
        if own is not None:  # the collector's own API, when it has one
            result = own(mark.label)
            if inspect.isawaitable(result):
                result = await result
            return result if isinstance(result, Mark) else mark
        writer = getattr(session, "_writer", None)  # until CaptureSession.mark exists (asked for)
        if writer is None:
            raise InsoleError("the recording has not started yet (the insoles are still connecting)")
        writer.add_mark(mark)
        self.hub.publish(SessionEvent("mark", mark.time_s, mark.label))
        return mark

    async def zero(self) -> None:
        own = getattr(self._session, "zero", None) if self._session is not None else None
        if own is not None and self.running:
            result = own()
            if inspect.isawaitable(result):
                await result
            return
        raise InsoleError(
            "zeroing while recording is not available: the insoles are zeroed (feet unloaded) when a "
            "recording starts; stop and start a new recording to zero again"
        )
