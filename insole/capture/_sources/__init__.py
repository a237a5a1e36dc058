"""Capture sources: which insoles the collector records, and over what wire.

``"insole"`` is ours (``PROTOCOL.md`` over BLE, :class:`~insole.capture.CaptureSession`
as it always was); ``"moticon"`` the Moticon OpenGo desktop software's UDP
stream (``_moticon_udp``); ``"orphe"`` ORPHE INSOLEs over BLE (``_orphe``);
others register here. Every source feeds the same
collector path (``_seam``). The command line builds a capture with
:func:`capture_session`::

    session = capture_session("moticon", "walk.parquet", udp_port=8888, duration_s=20)
    result = await session.run()
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from insole._errors import DeviceError
from insole._layout import SensorLayout, get_layout
from insole.capture._collector import CaptureParams, InsoleSelector
from insole.capture._session import CaptureResult, CaptureSession
from insole.capture._sources._moticon_udp import MoticonOptions, MoticonUdpSource
from insole.capture._sources._orphe import OrpheOptions, OrpheSource
from insole.capture._sources._seam import Source, SourceSession

__all__ = [
    "SOURCE_NAMES",
    "MoticonOptions",
    "MoticonUdpSource",
    "OrpheOptions",
    "OrpheSource",
    "Source",
    "SourceSession",
    "capture_session",
    "layout_for_source",
    "record_moticon",
    "register_source",
]

#: What ``--source`` accepts.
SOURCE_NAMES = ("insole", "moticon", "orphe")

#: name -> factory(options) of a source; ``insole`` is the plain CaptureSession, not here.
_FACTORIES: dict[str, Callable[..., Source]] = {}
#: name -> the built-in layout its recordings have (for a live page built before the first session).
_LAYOUTS: dict[str, str] = {"insole": "insole16"}


def register_source(name: str, factory: Callable[..., Source], layout_name: str) -> None:
    """Make ``capture_session(name, ...)`` build a :class:`SourceSession` with ``factory(**options)``."""
    _FACTORIES[name] = factory
    _LAYOUTS[name] = layout_name


def layout_for_source(name: str) -> SensorLayout:
    """The layout the recordings of source ``name`` have (the live page and guided tests draw it)."""
    if name not in _LAYOUTS:
        raise DeviceError(f"--source {name} is not available in this version of insole")
    return get_layout(_LAYOUTS[name])


def _moticon(
    *, udp_host: str | None = None, udp_port: int | None = None, sample_rate_hz: int | None = None, **options: Any
) -> Source:
    chosen: dict[str, Any] = dict(options)
    if udp_host is not None:
        chosen["host"] = udp_host
    if udp_port is not None:
        chosen["port"] = udp_port
    if sample_rate_hz is not None:
        chosen["sample_rate_hz"] = sample_rate_hz
    return MoticonUdpSource(MoticonOptions(**chosen))


register_source("moticon", _moticon, MoticonUdpSource.layout_name)


def _orphe(**options: Any) -> Source:
    return OrpheSource(OrpheOptions(**options))


register_source("orphe", _orphe, OrpheSource.layout_name)


def capture_session(
    source: str,
    out: str | Path,
    *,
    params: CaptureParams | None = None,
    selectors: Mapping[str, InsoleSelector] | None = None,
    source_options: Mapping[str, Any] | None = None,
    **session: Any,
) -> CaptureSession:
    """The capture of ``source`` into ``out``, ready to ``await session.run()``.

    Args:
        source: ``"insole"`` (ours, BLE), ``"moticon"`` (OpenGo UDP stream), or a registered name.
        params: For ``insole``: the :class:`CaptureParams`. Another source has its own
            (``source.capture_params()``); only the sample rate carries over from these.
        selectors: Which feet (and for ``insole`` which insoles); default both.
        source_options: The source's own, e.g. ``{"udp_host": "0.0.0.0", "udp_port": 8888}`` for moticon.
        **session: ``meta``, ``hub``, ``duration_s``, ``before_tare``, ``on_status``, ``software``,
            ``force``, ... as :class:`CaptureSession` takes them. ``found`` (insoles of an earlier
            session, so that it need not scan again) is for ``insole``; another source finds its own.
    """
    options = dict(source_options or {})
    if source == "insole":
        if options:
            raise ValueError(f"--source insole takes no source options ({', '.join(sorted(options))})")
        return CaptureSession(
            out, params=params if params is not None else CaptureParams(), selectors=selectors, **session
        )
    factory = _FACTORIES.get(source)
    if factory is None:
        known = ", ".join(["insole", *sorted(_FACTORIES)])
        raise DeviceError(f"--source {source} is not available in this version of insole (available: {known})")
    if params is not None and "sample_rate_hz" not in options:
        options["sample_rate_hz"] = params.sample_rate_hz
    session.pop("found", None)
    built = factory(**options)
    return SourceSession(out, source=built, selectors=selectors, **session)


async def record_moticon(
    out: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8888,
    sample_rate_hz: int = 100,
    duration_s: float | None = None,
    **session: Any,
) -> CaptureResult:
    """Record a Moticon OpenGo UDP stream into ``out`` until ``duration_s`` (or ``request_stop``)."""
    capture = capture_session(
        "moticon", out, source_options={"udp_host": host, "udp_port": port, "sample_rate_hz": sample_rate_hz},
        duration_s=duration_s, **session,
    )  # fmt: skip
    return await capture.run()
