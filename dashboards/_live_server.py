"""The live page's server: static files, one websocket per page, on 127.0.0.1 by default.

``LiveServer`` runs on the capture's event loop beside the collector (or the
replay). It subscribes to the capture's ``LiveHub`` like any other watcher, so
it can never slow or block the capture: the hub drops items for a subscriber
that falls behind, and the capture goes to disk on its own.

Each page gets, over its websocket:

* ``hello`` once, before anything else: layout, display grid, units, subject
  and session facts;
* ``frame`` up to ``fps`` times a second: the samples, steps, link status and
  session events it has not seen (``LiveModel.frame_for``), and ``send_ms``,
  the server's wall clock when the frame left, so the page can measure how
  old what it draws is;
* ``ack`` for each control it sent.

Pages send ``{"type": "control", "id": n, "token": "<secret>", "action":
"start_recording" | "stop_recording" | "mark" | "zero", "label": "..."}``; the
server calls the ``SessionControl`` it was given (none: the page is view-only).

Safety (``dashboards/README.md``, "Live control: the session secret"):

* **A secret per session.** The server draws a random token
  (``secrets.token_urlsafe``) when it is made and puts it in the URL that
  ``start`` returns (``http://127.0.0.1:PORT/?token=...``, printed by the
  command, as Jupyter does). A websocket without that token in its query is
  refused (403) before it opens, and every control message must carry it too:
  one without it, or with another, is answered with a refusal and logged,
  never acted on. Compared in constant time (``hmac.compare_digest``).
* **Host checked always.** Every request (page, static files, websocket,
  health) must name this server in its ``Host`` header: the bound address and
  port, ``localhost:PORT`` when bound to loopback, or the name given with
  ``--host``. For a wildcard bind (``0.0.0.0``, ``::``) any IP address with
  the right port is accepted (an address cannot be re-pointed by DNS). Any
  other name is refused with 403: this is what stops DNS rebinding, where a
  web page's own name is made to point at this machine.
* **Origin, when present, must be one of those same allowed hosts** (never
  compared with the request's own ``Host``, which the page chooses).
* The server binds to loopback unless told otherwise with
  ``allow_remote=True`` (``insole live --host``); the page's
  Content-Security-Policy allows only its own scripts, and the page shows every
  text it receives with ``textContent``, never as HTML.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from dashboards._assets import STATIC_DIR, plotly_js_path
from dashboards._control import SessionControl, clean_label
from dashboards._footmap import foot_grid
from dashboards._live_model import ClientCursor, LiveModel
from insole import InsoleError, SensorLayout, __version__
from insole.capture import LiveHub

__all__ = ["LiveServer", "LiveServerError", "is_loopback", "allowed_hosts", "host_allowed", "STATIC_DIR",
           "plotly_js_path"]

log = logging.getLogger(__name__)

_STATIC_FILES = {
    "live.js": "text/javascript",
    "footmap.js": "text/javascript",
    "timechart.js": "text/javascript",
    "live.css": "text/css",
}
_CONTROL_TIMEOUT_S = 30.0
_ACTIONS = ("start_recording", "stop_recording", "mark", "zero")


class LiveServerError(InsoleError):
    """The live server cannot start as asked (e.g. a non-loopback address without --host)."""


def is_loopback(host: str) -> bool:
    """True when ``host`` (a name or an address) only reaches this machine."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(str(a).split("%")[0]).is_loopback for a in addresses)


def allowed_hosts(host: str, addresses: Iterable[str], port: int) -> tuple[frozenset[str], bool]:
    """``Host`` values (lower case ``name:port``) naming a server bound to ``host`` at ``addresses`` on ``port``,
    and whether it is a wildcard bind (``0.0.0.0``, ``::``), where any IP address on the port goes too.

    ``localhost`` names a loopback or wildcard bind; the live page and the clinic app share this rule.
    """
    names = {host.strip("[]").lower()} | {str(a).split("%")[0].lower() for a in addresses}
    wildcard = False
    for name in names:
        try:
            wildcard = wildcard or ipaddress.ip_address(name).is_unspecified
        except ValueError:
            continue
    if wildcard or is_loopback(host):
        names.add("localhost")
    allowed = set()
    for name in names:
        shown = f"[{name}]" if ":" in name else name
        allowed.add(f"{shown}:{port}")
        if port == 80:  # a browser leaves the default port out
            allowed.add(shown)
    return frozenset(allowed), wildcard


def host_allowed(host_header: str, hosts: frozenset[str], any_address: bool, port: int | None) -> bool:
    """Whether a ``Host`` header names the server ``allowed_hosts`` described (what stops DNS rebinding)."""
    host = host_header.strip().lower()
    if host in hosts:
        return True
    if not any_address:
        return False
    # wildcard bind: any IP address (never a name: names are what DNS rebinding re-points) on our port
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ("80" if not rest else "")
    else:
        name, _, port_text = host.partition(":")
        port_text = port_text or "80"
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return port_text == str(port)


class LiveServer:
    """Serve the live page for one capture (see the module docstring).

    ``session`` is the capture's ``SessionControl`` (None: view-only page).
    ``info`` is shown on the page as text (subject, notes, source...).
    ``port`` 0 picks a free port; ``url`` says which after ``start``.
    """

    def __init__(
        self,
        hub: LiveHub,
        *,
        layout: SensorLayout,
        unit: str,
        sample_rate_hz: float,
        session: SessionControl | None = None,
        info: Mapping[str, Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 8765,
        allow_remote: bool = False,
        fps: float = 30.0,
        window_s: float = 10.0,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise LiveServerError(
                f"refusing to serve the live page on {host}: it would be reachable from other machines; "
                "pass --host explicitly to allow that"
            )
        if not 1.0 <= fps <= 60.0:
            raise LiveServerError(f"fps must be between 1 and 60, not {fps}")
        self.hub = hub
        self.layout = layout
        self.session = session
        self.host = host
        self.port = port
        self.allow_remote = allow_remote
        self.fps = float(fps)
        self.model = LiveModel(layout, unit, sample_rate_hz, window_s=window_s)
        self.info = {str(k): ("" if v is None else str(v)) for k, v in (info or {}).items()}
        self._grid = foot_grid(layout)
        self._runner: web.AppRunner | None = None
        self._consumer: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[Any] | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self.bound_port: int | None = None
        self.frames_sent = 0
        self.controls_handled = 0
        self.controls_refused = 0
        #: the session's secret: in the page's URL, required on the websocket and in every control message
        self.token = secrets.token_urlsafe(32)
        self._allowed_hosts: frozenset[str] = frozenset()
        self._any_address = False

    @property
    def url(self) -> str:
        """The page's address, secret included (give it only to whoever may control the capture)."""
        return f"{self.base_url}?token={self.token}"

    @property
    def base_url(self) -> str:
        """The page's address without the secret (the page then stays empty)."""
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.bound_port or self.port}/"

    # -- lifecycle ------------------------------------------------------------

    async def start(self) -> str:
        """Subscribe to the hub and start serving; return the page's URL."""
        self._queue = self.hub.subscribe()
        self._consumer = asyncio.create_task(self._consume(), name="live-model")
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/", self._page)
        app.router.add_get("/static/plotly.min.js", self._plotly)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/ws", self._websocket)
        app.router.add_get("/healthz", self._health)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as error:
            await self._runner.cleanup()
            raise LiveServerError(f"cannot serve on {self.host}:{self.port} ({error.strerror or error})") from None
        self.bound_port = int(self._runner.addresses[0][1])
        self._allowed_hosts, self._any_address = self._hosts_for(self.bound_port)
        return self.url

    async def stop(self) -> None:
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._consumer is not None:
            self._consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._consumer
            self._consumer = None
        if self._queue is not None:
            self.hub.unsubscribe(self._queue)
            self._queue = None

    async def _consume(self) -> None:
        assert self._queue is not None
        queue = self._queue
        while True:
            item = await queue.get()
            self.model.ingest(item)
            while not queue.empty():  # take everything waiting in one go
                self.model.ingest(queue.get_nowait())

    # -- HTTP -----------------------------------------------------------------

    def _hosts_for(self, port: int) -> tuple[frozenset[str], bool]:
        """The ``Host`` values that name this server, and whether any address goes (``allowed_hosts``): the
        bound address, every address the listening sockets really have, and the name given as ``host``."""
        addresses = [address[0] for address in (self._runner.addresses if self._runner is not None else ())
                     if isinstance(address, tuple) and address]
        return allowed_hosts(self.host, addresses, port)

    def _host_allowed(self, host_header: str) -> bool:
        """Whether a ``Host`` header names this server (see the module docstring)."""
        return host_allowed(host_header, self._allowed_hosts, self._any_address, self.bound_port)

    def _origin_allowed(self, origin: str | None) -> bool:
        """An ``Origin`` (sent by browsers) must be this server, by one of the allowed host names."""
        if origin is None:
            return True  # not a browser page (a script, a test): the token is what guards it
        try:
            parts = urlsplit(origin)
        except ValueError:
            return False
        return parts.scheme == "http" and not parts.path and self._host_allowed(parts.netloc)

    def _token_ok(self, token: object) -> bool:
        return isinstance(token, str) and hmac.compare_digest(token.encode(), self.token.encode())

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not self._host_allowed(request.headers.get("Host", "")):
            log.warning("live server: refused a request for Host %r (not this server)", request.headers.get("Host"))
            return web.Response(status=403, text="wrong host for this server\n")
        if not self._origin_allowed(request.headers.get("Origin")):
            log.warning("live server: refused a request from Origin %r", request.headers.get("Origin"))
            return web.Response(status=403, text="cross-site request refused\n")
        response = await handler(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    async def _page(self, request: web.Request) -> web.StreamResponse:
        response = web.FileResponse(STATIC_DIR / "live.html")
        response.headers["Content-Type"] = "text/html; charset=utf-8"
        # plotly draws with inline styles; everything else is our own files
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'"
        )
        response.headers["X-Frame-Options"] = "DENY"
        return response

    async def _plotly(self, request: web.Request) -> web.StreamResponse:
        response = web.FileResponse(plotly_js_path())
        response.headers["Content-Type"] = "text/javascript; charset=utf-8"
        return response

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in _STATIC_FILES:
            raise web.HTTPNotFound()
        response = web.FileResponse(STATIC_DIR / name)
        response.headers["Content-Type"] = f"{_STATIC_FILES[name]}; charset=utf-8"
        return response

    async def _health(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {
                "ok": True,
                "samples_ingested": self.model.samples_ingested,
                "pages": len(self._sockets),
                "frames_sent": self.frames_sent,
                "recording": self.model.recording,
                "hub_dropped": self.hub.dropped_for_slow_subscribers,
            }
        )

    # -- websocket ------------------------------------------------------------

    def _hello(self) -> dict[str, Any]:
        layout = self.layout
        return {
            "type": "hello",
            "version": __version__,
            "server_ms": time.time() * 1000.0,
            "fps": self.fps,
            "controls": self.session is not None,
            "info": self.info,
            "layout": {
                "name": layout.name,
                "n_sensors": layout.n_sensors,
                "sensor_names": list(layout.sensor_names),
                "x_mm": [round(v, 2) for v in layout.x_mm.tolist()],
                "y_mm": [round(v, 2) for v in layout.y_mm.tolist()],
                "outline_mm": [[round(x, 2), round(y, 2)] for x, y in layout.outline_mm.tolist()],
                "approximate": layout.approximate,
                "foot_length_mm": layout.foot_length_mm,
            },
            "grid": self._grid.to_json(),
            **self.model.hello(),
        }

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        if not self._token_ok(request.query.get("token")):
            log.warning("live server: refused a websocket without the session's secret")
            return web.Response(status=403, text="this page's address lacks the session's secret\n")
        ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=64 * 1024)
        await ws.prepare(request)
        self._sockets.add(ws)
        cursor = ClientCursor()
        sender: asyncio.Task[None] | None = None
        try:
            # The hello goes out in full before the first frame: the page builds itself from the hello and
            # ignores frames that come before it, while the first frame moves this page's cursor past
            # everything so far (a page that joins late learns the session's events, e.g. the first phase
            # of a clinic test, from that frame alone). Sending the hello can yield to the event loop (a
            # large message is compressed in a thread when the page negotiated permessage-deflate, as
            # browsers do), so a frame sender started before it would overtake it.
            await ws.send_str(json.dumps(self._hello(), allow_nan=False))
            sender = asyncio.create_task(self._send_frames(ws, cursor), name="live-frames")
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                reply = await self._handle(message.data)
                if reply is not None:
                    await ws.send_str(json.dumps(reply, allow_nan=False))
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            if sender is not None:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await sender
            self._sockets.discard(ws)
        return ws

    async def _send_frames(self, ws: web.WebSocketResponse, cursor: ClientCursor) -> None:
        period = 1.0 / self.fps
        next_tick = time.monotonic()
        while not ws.closed:
            frame = self.model.frame_for(cursor)
            if frame is not None:
                frame["send_ms"] = round(time.time() * 1000.0, 1)
                try:
                    await ws.send_str(json.dumps(frame, allow_nan=False, separators=(",", ":")))
                except (ConnectionResetError, RuntimeError):
                    return  # the page went away; nothing of the capture depends on it
                self.frames_sent += 1
            next_tick += period
            delay = next_tick - time.monotonic()
            if delay < 0:  # a slow page: skip ticks instead of bursting to catch up
                next_tick = time.monotonic()
                delay = 0
            await asyncio.sleep(delay)

    async def _handle(self, text: str) -> dict[str, Any] | None:
        try:
            message = json.loads(text)
        except ValueError:
            return {"type": "ack", "id": None, "ok": False, "message": "not JSON"}
        if not isinstance(message, dict) or message.get("type") != "control":
            return None
        request_id = message.get("id")
        if not isinstance(request_id, (int, str)):
            request_id = None
        action = message.get("action")
        reply = {"type": "ack", "id": request_id, "action": action if action in _ACTIONS else None}
        if not self._token_ok(message.get("token")):
            self.controls_refused += 1
            log.warning("live server: refused a %r control without the session's secret", reply["action"])
            return {**reply, "ok": False, "message": "refused: the control did not carry this session's secret"}
        if action not in _ACTIONS:
            return {**reply, "ok": False, "message": "unknown action"}
        if self.session is None:
            return {**reply, "ok": False, "message": "this page is view-only: the capture has no controls"}
        try:
            result = await asyncio.wait_for(self._call(action, message), _CONTROL_TIMEOUT_S)
        except InsoleError as error:
            return {**reply, "ok": False, "message": str(error)}
        except asyncio.TimeoutError:
            return {**reply, "ok": False, "message": f"{action} did not finish within {_CONTROL_TIMEOUT_S:.0f} s"}
        except Exception as error:  # the page must hear about it; the capture keeps running
            log.exception("live control %s failed", action)
            return {**reply, "ok": False, "message": f"{action} failed: {type(error).__name__}: {error}"}
        self.controls_handled += 1
        return {**reply, "ok": True, "message": result}

    async def _call(self, action: str, message: Mapping[str, Any]) -> str:
        session = self.session
        assert session is not None
        if action == "start_recording":
            path = await session.start_recording()
            return f"recording to {path}"
        if action == "stop_recording":
            path = await session.stop_recording()
            return f"saved {path}"
        if action == "mark":
            label = clean_label(message.get("label", ""))
            if not label:
                raise InsoleError("a mark needs a label")
            mark = await session.mark(label)
            return f"marked {mark.label} at {mark.time_s:.1f} s"
        await session.zero()
        return "zeroed"
