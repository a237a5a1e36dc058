"""CaptureControl, the live page's buttons over the collector, with a stand-in session (no Bluetooth needed)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from dashboards import CaptureControl
from insole import DeviceError
from insole.capture import LiveHub, StoppedBeforeRecording


class _NeverConnects:
    """A session whose insoles never answer: run() waits until stopped, then ends as the collector does."""

    def __init__(self, error: BaseException) -> None:
        self._stop = asyncio.Event()
        self._error = error
        self.found: dict[str, Any] = {}

    async def run(self) -> Any:
        await self._stop.wait()
        raise self._error

    def request_stop(self) -> None:
        self._stop.set()


async def test_a_stop_while_connecting_is_not_a_failed_capture(tmp_path: Path) -> None:
    stopped = StoppedBeforeRecording("stopped before the insoles connected; nothing was saved")
    control = CaptureControl(lambda path, found: _NeverConnects(stopped), LiveHub(), out_dir=tmp_path)
    await control.start_recording()
    with pytest.raises(StoppedBeforeRecording):  # the page's Stop is answered with the one line
        await control.stop_recording()
    await asyncio.sleep(0)  # the task's done callback runs on the loop
    assert not control.failed.is_set()
    assert control.error is None
    assert list(tmp_path.iterdir()) == []


async def test_a_capture_that_fails_on_its_own_is_reported(tmp_path: Path) -> None:
    broken = DeviceError("the left insole disconnected and did not come back")
    control = CaptureControl(lambda path, found: _NeverConnects(broken), LiveHub(), out_dir=tmp_path)
    await control.start_recording()
    with pytest.raises(DeviceError):
        await control.stop_recording()
    await asyncio.sleep(0)
    assert control.failed.is_set()
    assert control.error is broken
