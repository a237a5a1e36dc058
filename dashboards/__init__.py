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
    ClinicStore.open(folder)
        a clinic folder: patients, visits, tests, recordings and reports (SQLite + files)
    serve_clinic(folder, host=..., port=..., login=None)
        the clinic app (``insole clinic``) on that folder, until stopped
    ClinicLogin(folder, env_password=None)
        the password a clinic app reachable from other machines asks for
    make_demo_clinic(folder, n_patients, visits_per_patient, seed)
        a generated clinic (benchmarks, tests, demonstrations)

Imports flow one way: ``insole`` <- ``dashboards``. The ``insole`` command line
is the only part of ``insole`` that imports this package.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dashboards._capture_control import CaptureControl
    from dashboards._clinic_app._generate import make_demo_clinic
    from dashboards._clinic_app._security import ClinicLogin
    from dashboards._clinic_app._server import serve_clinic
    from dashboards._clinic_app._store import ClinicStore
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
    "ClinicStore",
    "serve_clinic",
    "ClinicLogin",
    "make_demo_clinic",
]

# Every name loads its module on first use: the offline dashboard does not pay for aiohttp (the live server),
# the live page not for sqlite3 and Jinja2 (the clinic app).
_HOMES = {
    "CaptureControl": "dashboards._capture_control",
    "SessionControl": "dashboards._control",
    "MAX_MARK_LABEL_CHARS": "dashboards._control",
    "LiveServer": "dashboards._live_server",
    "LiveServerError": "dashboards._live_server",
    "is_loopback": "dashboards._live_server",
    "DashboardParams": "dashboards._offline",
    "build_dashboard": "dashboards._offline",
    "write_dashboard": "dashboards._offline",
    "ReplaySession": "dashboards._replay",
    "ClinicStore": "dashboards._clinic_app._store",
    "serve_clinic": "dashboards._clinic_app._server",
    "ClinicLogin": "dashboards._clinic_app._security",
    "make_demo_clinic": "dashboards._clinic_app._generate",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        value = getattr(importlib.import_module(_HOMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'dashboards' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(__all__) | {name for name in globals() if name.startswith("__")})
