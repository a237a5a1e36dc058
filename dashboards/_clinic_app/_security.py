"""The clinic app's guards: Host check, Origin check, CSRF token, Content-Security-Policy, login.

Every request passes ``Guard.middleware``:

* **Host.** The ``Host`` header must name this server: the bound address and
  port, ``localhost:PORT`` on a loopback bind, or the name given with
  ``--host`` (for a wildcard bind any IP address on the port). Anything else
  is refused (403): a web page whose own name was re-pointed at this machine
  (DNS rebinding) cannot reach the app. The same rule as the live page
  (``dashboards/_live_server.py``).
* **A session per browser.** A random id in a cookie (``HttpOnly``,
  ``SameSite=Strict``), held in memory only: restarting the app signs everyone
  out. Each session has its own CSRF token.
* **Every POST** must carry the session's token in the form field ``csrf``
  (compared in constant time) and, when the browser sends ``Origin`` (or
  failing that ``Referer``), come from this server. A form on another site
  can neither read the token nor pass the Origin check.
* **Login** when the app is reachable from other machines (``--host`` with a
  non-loopback address): a password (``ClinicLogin``), from
  ``$INSOLE_CLINIC_PASSWORD`` or set at the first start and kept as a salted
  scrypt hash in the clinic folder (``clinic-login.json``). On 127.0.0.1 only this machine's users reach the
  app, as with every other ``insole`` command, so there is no login.
* **Headers.** A strict Content-Security-Policy (only this server's own
  files; no inline script; forms post only here; no framing),
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``,
  ``Cache-Control: no-store``. Reports produced by ``insole.report`` are
  served under a ``sandbox`` policy of their own (their plots are inline
  scripts): they run in an origin of their own, without the app's cookie,
  and still load nothing from outside.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import MultipartReader, web

from dashboards._live_server import allowed_hosts, host_allowed
from insole import InsoleError

__all__ = [
    "APP_CSP",
    "REPORT_CSP",
    "Guard",
    "LoginSetupError",
    "PASSWORD_ENV",
    "ClinicLogin",
    "allowed_hosts",
    "redirect",
    "SESSION",
    "UPLOAD",
]

log = logging.getLogger(__name__)

PASSWORD_ENV = "INSOLE_CLINIC_PASSWORD"
LOGIN_FILE = "clinic-login.json"
SESSION_COOKIE = "insole_clinic"
CSRF_FIELD = "csrf"
MIN_PASSWORD_CHARS = 8
_SESSION_IDLE_S = 12 * 3600.0
_MAX_SESSIONS = 10_000
_FAILED_LOGIN_DELAY_S = 1.0

#: The app's pages: our own files only, no inline script, forms post only to us, never framed.
APP_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
)
#: A report file (insole.report's HTML: inline plotly): sandboxed into an origin of its own, nothing from outside.
REPORT_CSP = (
    "sandbox allow-scripts allow-popups; default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'"
)

_PUBLIC_PATHS = ("/login", "/static/")


class LoginSetupError(InsoleError):
    """The app cannot serve other machines as asked (no password, a password too short, an unreadable file)."""


# -- passwords ---------------------------------------------------------------------------------------------------


def _scrypt(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2**14, r=8, p=1, dklen=32)


class ClinicLogin:
    """The login of a clinic app that other machines reach: the password to check a login against.

    ``$INSOLE_CLINIC_PASSWORD`` (``env_password``) when set, else the clinic
    folder's own, kept as a salted scrypt hash in ``clinic-login.json`` (the
    password itself is never stored). ``login(password)`` checks one in
    constant time.

    ::

        login = ClinicLogin(folder, env_password=os.environ.get("INSOLE_CLINIC_PASSWORD"))
        if not login.ready:
            login.set_password(chosen)       # at the first start
        await serve_clinic(folder, host="0.0.0.0", allow_remote=True, login=login)
    """

    def __init__(self, folder: Path | str, *, env_password: str | None = None) -> None:
        self.path = Path(folder) / LOGIN_FILE
        if env_password is not None and len(env_password) < MIN_PASSWORD_CHARS:
            raise LoginSetupError(f"${PASSWORD_ENV} must have at least {MIN_PASSWORD_CHARS} characters")
        self._env = env_password

    @property
    def ready(self) -> bool:
        """Whether there is a password to check against (the environment's, or one set before)."""
        return self._env is not None or self.path.is_file()

    def set_password(self, password: str) -> None:
        """Keep ``password``'s salted scrypt hash in the clinic folder (replacing an earlier one)."""
        if len(password) < MIN_PASSWORD_CHARS:
            raise LoginSetupError(f"the clinic password must have at least {MIN_PASSWORD_CHARS} characters")
        salt = secrets.token_bytes(16)
        text = json.dumps({"scheme": "scrypt-16384-8-1", "salt": salt.hex(), "hash": _scrypt(password, salt).hex()})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(text + "\n", encoding="utf-8")
        os.chmod(temporary, 0o600)
        os.replace(temporary, self.path)

    def __call__(self, password: str) -> bool:
        if self._env is not None:
            return hmac.compare_digest(password.encode("utf-8"), self._env.encode("utf-8"))
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
            salt, expected = bytes.fromhex(stored["salt"]), bytes.fromhex(stored["hash"])
        except FileNotFoundError:
            raise LoginSetupError("no login password: set one at the first start or in $" + PASSWORD_ENV) from None
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise LoginSetupError(f"{self.path}: cannot read the clinic's login ({error})") from None
        return hmac.compare_digest(_scrypt(password, salt), expected)


# -- hosts --------------------------------------------------------------------------------------------------------


@dataclass
class Session:
    csrf: str
    logged_in: bool
    last_seen: float = field(default_factory=time.monotonic)


#: where a request keeps its browser's session (the handlers read ``request[SESSION]``)
SESSION = web.RequestKey("session", Session)
#: a multipart upload whose first part (the CSRF token) was read: the handler reads the rest from here
UPLOAD = web.RequestKey("upload", MultipartReader)


class Guard:
    """Host/Origin checks, sessions with their CSRF token, login and headers (see the module docstring)."""

    def __init__(self, *, login: Callable[[str], bool] | None = None) -> None:
        self.login_check = login
        self._sessions: dict[str, Session] = {}
        self._hosts: frozenset[str] = frozenset()
        self._any_address = False
        self._port: int | None = None
        self.refused = 0

    @property
    def login_required(self) -> bool:
        return self.login_check is not None

    def bind(self, host: str, addresses: Iterable[str], port: int) -> None:
        """Learn which ``Host`` values name this server (after it is bound)."""
        self._hosts, self._any_address = allowed_hosts(host, addresses, port)
        self._port = port

    # -- checks --------------------------------------------------------------------------------------------------

    def host_allowed(self, host_header: str) -> bool:
        return host_allowed(host_header, self._hosts, self._any_address, self._port)

    def _same_origin(self, value: str) -> bool:
        try:
            parts = urlsplit(value)
        except ValueError:
            return False
        return parts.scheme == "http" and self.host_allowed(parts.netloc)

    def origin_allowed(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is not None:
            return origin != "null" and self._same_origin(origin) and not urlsplit(origin).path
        referer = request.headers.get("Referer")
        return referer is None or self._same_origin(referer)

    # -- sessions ------------------------------------------------------------------------------------------------

    def session(self, request: web.Request) -> Session | None:
        key = request.cookies.get(SESSION_COOKIE, "")
        session = self._sessions.get(key) if key else None
        if session is not None and time.monotonic() - session.last_seen > _SESSION_IDLE_S:
            del self._sessions[key]
            return None
        if session is not None:
            session.last_seen = time.monotonic()
        return session

    def _new_session(self, *, logged_in: bool) -> tuple[str, Session]:
        if len(self._sessions) >= _MAX_SESSIONS:  # the oldest go first
            for key in sorted(self._sessions, key=lambda k: self._sessions[k].last_seen)[: _MAX_SESSIONS // 10]:
                del self._sessions[key]
        key = secrets.token_urlsafe(32)
        session = Session(csrf=secrets.token_urlsafe(32), logged_in=logged_in)
        self._sessions[key] = session
        return key, session

    def csrf_ok(self, session: Session | None, token: object) -> bool:
        return (
            session is not None
            and isinstance(token, str)
            and hmac.compare_digest(token.encode("utf-8", "replace"), session.csrf.encode())
        )

    async def try_login(self, request: web.Request, password: str) -> bool:
        """Check a password; on success the browser gets a new, logged-in session (a fresh id and token)."""
        assert self.login_check is not None
        if self.login_check(password):
            old = request.cookies.get(SESSION_COOKIE, "")
            self._sessions.pop(old, None)
            return True
        import asyncio

        log.warning("clinic app: a failed login from %s", request.remote)
        await asyncio.sleep(_FAILED_LOGIN_DELAY_S)  # slows guessing; the page says only "wrong password"
        return False

    def start_session(self, response: web.StreamResponse, *, logged_in: bool) -> Session:
        key, session = self._new_session(logged_in=logged_in)
        _set_cookie(response, key)
        return session

    def end_session(self, request: web.Request, response: web.StreamResponse) -> None:
        self._sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)
        response.del_cookie(SESSION_COOKIE, path="/")

    # -- the middleware ------------------------------------------------------------------------------------------

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not self.host_allowed(request.headers.get("Host", "")):
            self.refused += 1
            log.warning("clinic app: refused a request for Host %r", request.headers.get("Host"))
            return _headers(web.Response(status=403, text="wrong host for this server\n"))
        if request.method not in ("GET", "HEAD", "POST"):
            return _headers(web.Response(status=405, text="method not allowed\n"))
        session = self.session(request)
        fresh: str | None = None
        if session is None:
            # every browser gets a session (and its CSRF token) on its first page; it is logged in only
            # where no login is needed
            fresh, session = self._new_session(logged_in=not self.login_required)
        request[SESSION] = session
        public = request.path == "/login" or request.path.startswith("/static/")
        if request.method == "POST":
            if not self.origin_allowed(request):
                self.refused += 1
                log.warning("clinic app: refused a POST from Origin %r", request.headers.get("Origin"))
                return _headers(web.Response(status=403, text="cross-site request refused\n"))
            token = await _form_token(request)
            if fresh is not None or not self.csrf_ok(session, token):
                self.refused += 1
                log.warning("clinic app: refused a POST to %s without this session's form token", request.path)
                return _headers(web.Response(
                    status=403, text="this form has expired or did not come from this app: reload the page\n"))
        if self.login_required and not session.logged_in and not public:
            if request.method == "GET":
                response: web.StreamResponse = redirect("/login")
            else:
                response = web.Response(status=403, text="log in first\n")
        else:
            try:
                response = await handler(request)
            except web.HTTPException as exception:  # a handler's 404 or 405: a plain response, with our headers
                response = web.Response(status=exception.status, text=exception.text or f"{exception.reason}\n")
                if "Location" in exception.headers:
                    response.headers["Location"] = exception.headers["Location"]
        if fresh is not None and SESSION_COOKIE not in response.cookies:
            _set_cookie(response, fresh)
        return _headers(response)


def redirect(location: str) -> web.Response:
    """303 See Other: after a POST, the browser GETs ``location`` (a path on this server)."""
    return web.Response(status=303, headers={"Location": location})


def _set_cookie(response: web.StreamResponse, key: str) -> None:
    response.set_cookie(SESSION_COOKIE, key, httponly=True, samesite="Strict", path="/")


def _headers(response: web.StreamResponse) -> web.StreamResponse:
    response.headers.setdefault("Content-Security-Policy", APP_CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    return response


async def _form_token(request: web.Request) -> Any:
    """The ``csrf`` field of a POST: from the form (urlencoded or multipart) or the ``X-CSRF-Token`` header.

    For a multipart upload the token must be the first part, before the file
    (the app's forms put it there), so nothing of the file is read before the
    token is checked.
    """
    header = request.headers.get("X-CSRF-Token")
    if header is not None:
        return header
    content_type = request.content_type
    if content_type == "multipart/form-data":
        reader = await request.multipart()
        part = await reader.next()
        if part is None or getattr(part, "name", None) != CSRF_FIELD:
            return None
        token = (await part.read(decode=True)).decode("utf-8", "replace")  # type: ignore[union-attr]
        request[UPLOAD] = reader  # the handler reads the rest
        return token
    if content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        return form.get(CSRF_FIELD)
    return None
