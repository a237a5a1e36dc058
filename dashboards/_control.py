"""What the live page may ask of a running capture: the ``SessionControl`` protocol.

The live server never touches the capture itself. When the clinician presses
a button, the page sends a small JSON message over the websocket and the
server calls one method of the session object it was given. Anything that
has these methods can be driven by the page: the BLE collector's session
(``insole/capture``), the replay session of ``dashboards/_replay.py``, a test
double. The protocol is structural (``typing.Protocol``), so the collector
implements it without importing ``dashboards``.

Methods are coroutines; they run on the capture's event loop and must not
block it. Errors the clinician should see are raised as ``InsoleError`` (or a
subclass); their message is shown on the page verbatim (as text, escaped).

The page chooses no file names: where a recording goes is the session's
business (an output folder given on the command line), so a web page can
never make the capture write somewhere else.

======================  ==========================================================
``start_recording()``   Start writing samples to a new file; return its path.
                        Raise if a recording is already running.
``stop_recording()``    Stop and finish the file (Parquet); return the path of the
                        finished recording. Raise if none is running.
``mark(label)``         Put a mark at the current session time on the recording
                        (and on the live feed as a ``SessionEvent("mark")``);
                        return it. ``label`` is free text, at most 200 characters.
``zero()``              Re-zero the sensors (the subject stands on one foot, or
                        the insoles lie unloaded, as the device needs); publish
                        ``SessionEvent("zeroed")`` when done.
``recording_path``      The file being written, or None.
======================  ==========================================================

Sessions publish ``SessionEvent("recording_started", data={"path": ...})`` and
``SessionEvent("recording_stopped", data={"path": ..., "samples": ...})`` on
their ``LiveHub`` so every open page learns about it, whoever pressed the button.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from insole import Mark

__all__ = ["SessionControl", "MAX_MARK_LABEL_CHARS", "clean_label"]

MAX_MARK_LABEL_CHARS = 200


@runtime_checkable
class SessionControl(Protocol):
    """The controls of a running capture session (see the module docstring)."""

    @property
    def recording_path(self) -> Path | None: ...

    async def start_recording(self) -> Path: ...

    async def stop_recording(self) -> Path: ...

    async def mark(self, label: str) -> Mark: ...

    async def zero(self) -> None: ...


def clean_label(label: object) -> str:
    """A mark label as stored: a string, control characters removed, trimmed, at most 200 characters.

    Markup is *not* removed here: it is data, stored as typed, and shown as
    text (never parsed as HTML) wherever it is displayed.
    """
    text = "".join(ch for ch in str(label) if ch.isprintable() or ch == " ")
    return text.strip()[:MAX_MARK_LABEL_CHARS]
