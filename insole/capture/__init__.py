"""Live capture: the dual-insole BLE collector (the only asyncio code of ``insole``).

::

    from insole.capture import CaptureSession, CaptureParams
    result = asyncio.run(CaptureSession("walk.parquet", duration_s=60).run())

Modules (see ``docs/capture.md``):

* ``_sequence``: per-stream packet accounting (sent, received, lost, duplicate, reordered);
* ``_timeline``: places each foot's samples into slots on its device clock, lost ones invalid;
* ``_clock``: online device-clock -> session-clock estimate (offset + drift) and the written time axis;
* ``_quality``: the capture-quality figures stored in ``meta.capture_quality``;
* ``_collector``: bleak scanning, connecting, commands, notifications, reconnects;
* ``_session``: one recording session: links + timelines + clocks + writer + live hub.
"""

from typing import Any

__all__ = [
    "ClockEstimator",
    "TimeAxis",
    "select_insoles",
    "LiveHub",
    "LinkStatus",
    "SampleBlock",
    "SessionEvent",
    "StoppedBeforeRecording",
    "FootTimeline",
    "CaptureParams",
    "CaptureResult",
    "CaptureSession",
    "FoundInsole",
    "InsoleSelector",
    "SessionStatus",
    "format_capture_quality",
    "scan_insoles",
]

_HOMES = {
    "ClockEstimator": "_clock",
    "TimeAxis": "_clock",
    "select_insoles": "_collector",
    "LiveHub": "_live",
    "LinkStatus": "_live",
    "SampleBlock": "_live",
    "SessionEvent": "_live",
    "StoppedBeforeRecording": "_session",
    "FootTimeline": "_timeline",
    "CaptureParams": "_collector",
    "FoundInsole": "_collector",
    "InsoleSelector": "_collector",
    "scan_insoles": "_collector",
    "format_capture_quality": "_quality",
    "CaptureResult": "_session",
    "CaptureSession": "_session",
    "SessionStatus": "_session",
}


def __getattr__(name: str) -> Any:
    # bleak takes about a second to import: load it only when the collector is used, so that
    # `insole info` (which formats capture quality) does not pay for it
    if name in _HOMES:
        import importlib

        from insole._errors import missing_extra

        try:
            module = importlib.import_module(f"insole.capture.{_HOMES[name]}")
        except ModuleNotFoundError as error:  # bleak, from a notebook: say which extra brings it
            raise (missing_extra(error) or error) from error
        return getattr(module, name)
    raise AttributeError(f"module 'insole.capture' has no attribute {name!r}")
