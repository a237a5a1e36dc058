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
* ``_session``: one recording session: links + timelines + clocks + writer + live hub;
* ``_sources``: the capture sources other than our own insoles (Moticon OpenGo over UDP, ORPHE
  INSOLE over BLE) behind one seam; ``capture_session(source, out, ...)`` makes the session of any.
"""

from insole._lazy import lazy_surface

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
    "capture_session",
    "layout_for_source",
    "OrpheEnvironment",
    "OrpheSpec",
    "orphe_faults_from_plan",
    "orphe_rate_hz",
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
    "capture_session": "_sources",
    "layout_for_source": "_sources",
    # the ORPHE INSOLE source: its default rate per mode, and its emulated insoles (insole emulate --source orphe)
    "orphe_rate_hz": "_sources._orphe",
    "OrpheEnvironment": "_sources._orphe_emulator",
    "OrpheSpec": "_sources._orphe_emulator",
    "orphe_faults_from_plan": "_sources._orphe_emulator",
}


# bleak takes about a second to import: the collector loads when first used, so that `insole info`
# (which formats capture quality) does not pay for it
__getattr__, __dir__ = lazy_surface(__name__, _HOMES)
