"""insole dashboards: the live page during capture and the offline dashboard of a session.

    LiveServer(hub, layout=..., unit=..., sample_rate_hz=..., session=...)
        serves the live page on 127.0.0.1 beside a running capture (its LiveHub)
    SessionControl
        what the page's buttons call on the capture (start/stop recording, mark, zero)
    ReplaySession(recording, hub)
        plays a recording onto a LiveHub as if live; a SessionControl too
    CaptureControl(make_session, hub)
        the SessionControl of the BLE collector (one CaptureSession per recording)
    write_dashboard(recording, path, analysis=None)
        the offline dashboard of a session: one self-contained HTML file

Imports flow one way: ``insole`` <- ``dashboards``. The ``insole`` command line
is the only part of ``insole`` that imports this package.
"""

from dashboards._capture_control import CaptureControl
from dashboards._control import MAX_MARK_LABEL_CHARS, SessionControl
from dashboards._live_server import LiveServer, LiveServerError, is_loopback
from dashboards._offline import DashboardParams, build_dashboard, write_dashboard
from dashboards._replay import ReplaySession

__all__ = [
    "LiveServer",
    "LiveServerError",
    "SessionControl",
    "ReplaySession",
    "CaptureControl",
    "DashboardParams",
    "build_dashboard",
    "write_dashboard",
    "MAX_MARK_LABEL_CHARS",
    "is_loopback",
]
