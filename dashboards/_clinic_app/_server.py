"""The clinic app's web server: aiohttp, Jinja2 pages (autoescaped), plain HTML forms.

Pages (every POST answers with a redirect to a page, so reloading never repeats it):

==============================  ==========================================================================
``GET  /patients``              the patient list: search (pseudonym, notes), archived ones on request, pages
``POST /patients``              add a patient
``GET  /patients/{id}``         details, visits, the timeline of key numbers, before/after between visits
``POST /patients/{id}``         edit the details; ``.../archive`` archive or bring back
``POST /patients/{id}/visits``  add a visit
``POST /patients/{id}/compare`` the before/after report of two visits
``GET  /patients/{id}/bids``    the patient's recordings as a BIDS-motion dataset (zip)
``GET  /visits/{id}``           conditions, pain scores, notes, tests with their reports; run; import
``POST /visits/{id}``           edit; ``.../import`` upload a file; ``.../runs`` start a test
``GET  /runs/{id}``             a running test: its live page, its phase, Stop
``POST /runs/{id}/stop``        stop it: the store analyses it and attaches the report to the visit
``GET  /files/{sha256}``        a stored file (a report is shown, sandboxed; others are downloaded)
``GET  /tests/{id}/report.pdf`` a test's report printed to PDF (headless Chromium, when installed)
``POST /backup``                the whole clinic as one archive (``ClinicStore.backup``)
==============================  ==========================================================================

The store (``ClinicStore``, sqlite3; its own lock serialises its statements)
is called from a few worker threads, so the event loop (and the live page of
a running test) never waits on the disk, and a test being analysed does not
hold up the other pages. One app serves a folder at a time: it holds an
exclusive lock on ``clinic.lock`` (``flock``; the kernel drops it when the
process dies, even by SIGKILL).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import datetime as dt
import logging
import os
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from dashboards._clinic_app._model import ClinicError, number_text
from dashboards._clinic_app._runs import GUIDED_TESTS, SOURCES, TESTS, RunError, RunOptions, Runs
from dashboards._clinic_app._security import CSRF_FIELD, REPORT_CSP, SESSION, UPLOAD, Guard, LoginSetupError, redirect
from dashboards._live_server import LiveServerError, is_loopback
from insole import InputError, InsoleError

__all__ = ["ClinicServer", "serve_clinic", "StoreThread"]

log = logging.getLogger(__name__)

_HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = _HERE / "_templates"
STATIC_DIR = _HERE / "_static"
_STATIC_FILES = {"clinic.css": "text/css", "clinic.js": "text/javascript"}
PAGE_SIZE = 50
_MAX_UPLOAD_BYTES = 2 * 1024**3  # a long Moticon export is hundreds of MB; nothing of a clinic's is bigger
# a form (not an upload: that is streamed to disk) is read into memory whole: 10,000-character notes are 30 kB
_MAX_FORM_BYTES = 4 * 1024**2
_MAX_FIELD_CHARS = 100_000
_SHA256 = re.compile(r"[0-9a-f]{64}")
PAIN_SITES = ("heel", "forefoot", "knee", "hip", "back")


class StoreThread:
    """The store on worker threads: ``await call("method", *args)`` runs ``store.method(*args)`` on one."""

    def __init__(self, folder: Path, *, create: bool = True) -> None:
        self.folder = Path(folder)
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="clinic-store")
        self._store: Any = None
        self._create = create

    def open(self) -> Any:
        """Open the store (blocking; from the thread) and return it."""
        from dashboards._clinic_app._store import ClinicStore

        def opening() -> Any:
            self._store = ClinicStore.open(self.folder, create=self._create)
            return self._store

        return self._executor.submit(opening).result()

    def run(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call the store and wait (blocking: before the loop runs, or from a test)."""
        return self._executor.submit(lambda: getattr(self._store, method)(*args, **kwargs)).result()

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: getattr(self._store, method)(*args, **kwargs))

    def close(self) -> None:
        if self._store is not None:
            self._executor.submit(self._store.close).result()
            self._store = None
        self._executor.shutdown(wait=True)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,  # every template: what a user typed is text, never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    from insole.io import formats
    from insole.simulate import PATTERNS

    env.globals.update(TESTS=TESTS, SOURCES=SOURCES, GUIDED_TESTS=GUIDED_TESTS, PAIN_SITES=PAIN_SITES,
                       CSRF_FIELD=CSRF_FIELD, PATTERNS=PATTERNS, FORMATS=dict(formats()))
    env.filters["num"] = _number
    return env


def _number(value: Any, digits: int = 3, signed: bool = False) -> str:
    return number_text(value, digits, signed=signed)


class ClinicServer:
    """The clinic app on one clinic folder (see the module docstring)."""

    def __init__(
        self,
        store: StoreThread,
        *,
        host: str = "127.0.0.1",
        port: int = 8780,
        allow_remote: bool = False,
        login: Callable[[str], bool] | None = None,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise LiveServerError(
                f"refusing to serve the clinic app on {host}: it would be reachable from other machines; "
                "pass --host explicitly to allow that (a login is then required)"
            )
        if allow_remote and not is_loopback(host) and login is None:
            raise LoginSetupError(f"serving on {host} needs a login password")
        self.store = store
        self.host = host
        self.port = port
        self.allow_remote = allow_remote
        self.guard = Guard(login=login)
        self.runs = Runs(store.call, host=host, allow_remote=allow_remote)
        self.templates = _environment()
        self._runner: web.AppRunner | None = None
        self.bound_port: int | None = None

    @property
    def url(self) -> str:
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.bound_port or self.port}/"

    # -- lifecycle ----------------------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.guard.middleware], client_max_size=_MAX_FORM_BYTES)
        get, post = app.router.add_get, app.router.add_post
        get("/", self.home)
        get("/login", self.login_page)
        post("/login", self.login)
        post("/logout", self.logout)
        get("/patients", self.patients)
        post("/patients", self.add_patient)
        get(r"/patients/{pid:\d+}", self.patient)
        post(r"/patients/{pid:\d+}", self.edit_patient)
        post(r"/patients/{pid:\d+}/archive", self.archive_patient)
        post(r"/patients/{pid:\d+}/visits", self.add_visit)
        post(r"/patients/{pid:\d+}/compare", self.compare)
        get(r"/patients/{pid:\d+}/bids", self.bids)
        get(r"/visits/{vid:\d+}", self.visit)
        post(r"/visits/{vid:\d+}", self.edit_visit)
        post(r"/visits/{vid:\d+}/import", self.import_file)
        post(r"/visits/{vid:\d+}/runs", self.start_run)
        get(r"/runs/{tid:\d+}", self.run_page)
        get(r"/runs/{tid:\d+}/status", self.run_status)
        post(r"/runs/{tid:\d+}/stop", self.stop_run)
        get(r"/files/{sha}", self.file)
        get(r"/tests/{tid:\d+}/report.pdf", self.report_pdf)
        get("/backup", self.backup_page)
        post("/backup", self.backup)
        get("/static/{name}", self.static)
        get("/healthz", self.health)
        return app

    async def start(self) -> str:
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as error:
            await self._runner.cleanup()
            raise LiveServerError(f"cannot serve on {self.host}:{self.port} ({error.strerror or error})") from None
        self.bound_port = int(self._runner.addresses[0][1])
        addresses = [str(a[0]) for a in self._runner.addresses if isinstance(a, tuple) and a]
        self.guard.bind(self.host, addresses, self.bound_port)
        return self.url

    async def stop(self) -> None:
        await self.runs.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- helpers ------------------------------------------------------------------------------------------------

    def render(self, request: web.Request, name: str, status: int = 200, **values: Any) -> web.Response:
        session = request[SESSION]
        page = self.templates.get_template(name).render(
            csrf=session.csrf, login=self.guard.login_required, running=self.runs.current,
            notice=request.query.get("notice", "")[:500], **values,
        )
        return web.Response(text=page, content_type="text/html", charset="utf-8", status=status)

    def problem(self, request: web.Request, message: str, status: int = 400) -> web.Response:
        """A page with the one-line reason, and a link back to the visit, patient or test it was about."""
        return self.render(request, "problem.html", status=status, message=message, back=_back_to(request))

    async def guarded(self, request: web.Request, action: Callable[[], Awaitable[web.StreamResponse]]
                      ) -> web.StreamResponse:
        """Run a handler's work; the store's refusals become a page with the one-line reason."""
        from dashboards._clinic_app._model import NotFoundError

        try:
            return await action()
        except NotFoundError as error:
            return self.problem(request, str(error), status=404)
        except (ClinicError, RunError, ValueError) as error:
            return self.problem(request, str(error), status=400)
        except InsoleError as error:
            return self.problem(request, str(error), status=400)
        except Exception:  # noqa: BLE001 - a fault of the app: a page saying so, the traceback in the app's log
            log.exception("clinic app: %s %s failed", request.method, request.path)
            return self.problem(request, "something went wrong in the app itself (a fault, not anything you "
                                "entered); the details are in the window where insole clinic runs", status=500)

    # -- pages --------------------------------------------------------------------------------------------------

    async def home(self, request: web.Request) -> web.StreamResponse:
        return redirect("/patients")

    async def health(self, request: web.Request) -> web.StreamResponse:
        current = self.runs.current
        return web.json_response({"ok": True, "running_test": None if current is None else current.test_id})

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in _STATIC_FILES:
            raise web.HTTPNotFound()
        response = web.FileResponse(STATIC_DIR / name)
        response.headers["Content-Type"] = f"{_STATIC_FILES[name]}; charset=utf-8"
        return response

    async def login_page(self, request: web.Request) -> web.StreamResponse:
        if not self.guard.login_required:
            return redirect("/patients")
        return self.render(request, "login.html", failed=False)

    async def login(self, request: web.Request) -> web.StreamResponse:
        if not self.guard.login_required:
            return redirect("/patients")
        form = await request.post()
        password = form.get("password")
        if not isinstance(password, str) or not await self.guard.try_login(request, password):
            return self.render(request, "login.html", status=403, failed=True)
        response = redirect("/patients")
        self.guard.start_session(response, logged_in=True)
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        response = redirect("/login" if self.guard.login_required else "/patients")
        self.guard.end_session(request, response)
        return response

    async def patients(self, request: web.Request) -> web.StreamResponse:
        search = request.query.get("q", "")[:200]
        archived = request.query.get("archived") == "1"
        page = _int(request.query.get("page"), 1, minimum=1)

        async def show() -> web.StreamResponse:
            total = await self.store.call("count_patients", search, include_archived=archived)
            rows = await self.store.call("patients", search, include_archived=archived, limit=PAGE_SIZE,
                                         offset=(page - 1) * PAGE_SIZE)
            pages = max(1, -(-total // PAGE_SIZE))
            return self.render(request, "patients.html", rows=rows, search=search, archived=archived,
                               page=page, pages=pages, total=total)

        return await self.guarded(request, show)

    async def add_patient(self, request: web.Request) -> web.StreamResponse:
        form = await _form(request)

        async def add() -> web.StreamResponse:
            patient = await self.store.call("add_patient", _text(form, "pseudonym"), **_patient_fields(form))
            return redirect(f"/patients/{patient.id}")

        return await self.guarded(request, add)

    async def patient(self, request: web.Request) -> web.StreamResponse:
        pid = int(request.match_info["pid"])

        async def show() -> web.StreamResponse:
            patient = await self.store.call("patient", pid)
            visits = await self.store.call("visits", pid)
            timeline = await self.store.call("timeline", pid)
            return self.render(request, "patient.html", patient=patient, visits=visits, timeline=timeline,
                               columns=timeline_columns(timeline), cells=timeline_cells(timeline),
                               today=dt.date.today().isoformat())

        return await self.guarded(request, show)

    async def edit_patient(self, request: web.Request) -> web.StreamResponse:
        pid = int(request.match_info["pid"])
        form = await _form(request)

        async def edit() -> web.StreamResponse:
            await self.store.call("update_patient", pid, pseudonym=_text(form, "pseudonym"), **_patient_fields(form))
            return redirect(f"/patients/{pid}?notice=saved")

        return await self.guarded(request, edit)

    async def archive_patient(self, request: web.Request) -> web.StreamResponse:
        pid = int(request.match_info["pid"])
        form = await _form(request)

        async def archive() -> web.StreamResponse:
            await self.store.call("archive_patient", pid, archived=_text(form, "archived") != "0")
            return redirect(f"/patients/{pid}")

        return await self.guarded(request, archive)

    async def add_visit(self, request: web.Request) -> web.StreamResponse:
        pid = int(request.match_info["pid"])
        form = await _form(request)

        async def add() -> web.StreamResponse:
            visit = await self.store.call("add_visit", pid, **_visit_fields(form))
            return redirect(f"/visits/{visit.id}")

        return await self.guarded(request, add)

    async def compare(self, request: web.Request) -> web.StreamResponse:
        pid = int(request.match_info["pid"])
        form = await _form(request)

        async def compare() -> web.StreamResponse:
            first, second = _int(_text(form, "visit_a"), 0), _int(_text(form, "visit_b"), 0)
            if first == second:
                raise ClinicError("choose two different visits to compare")
            for vid in (first, second):
                visit = await self.store.call("visit", vid)
                if visit.patient_id != pid:
                    raise ClinicError(f"visit {vid} is not this patient's")
            path = Path(await self.store.call("compare_report", first, second))
            return redirect(f"/files/{path.stem}")

        return await self.guarded(request, compare)

    async def bids(self, request: web.Request) -> web.StreamResponse:
        pid = int(request.match_info["pid"])

        async def export() -> web.StreamResponse:
            patient = await self.store.call("patient", pid)
            recordings: list[Path] = []
            for visit in await self.store.call("visits", pid):
                for test in await self.store.call("tests", visit.id):
                    if test.status == "done" and test.recording_sha256:
                        path = await self.store.call("file_path", test.recording_sha256)
                        if path not in recordings:
                            recordings.append(path)
            if not recordings:
                raise ClinicError("this patient has no analysed recordings to export yet")
            label = re.sub(r"[^A-Za-z0-9]", "", patient.pseudonym)[:64] or f"p{pid}"
            archive = await asyncio.to_thread(_bids_zip, recordings, label, patient.pseudonym)
            return _download(archive, f"insole-bids-{label}.zip", "application/zip", remove=True)

        return await self.guarded(request, export)

    async def visit(self, request: web.Request) -> web.StreamResponse:
        vid = int(request.match_info["vid"])

        async def show() -> web.StreamResponse:
            visit = await self.store.call("visit", vid)
            patient = await self.store.call("patient", visit.patient_id)
            tests = await self.store.call("tests", vid)
            measures = {t.id: await self.store.call("measures", t.id) for t in tests if t.status == "done"}
            return self.render(request, "visit.html", visit=visit, patient=patient, tests=tests, measures=measures,
                               runs=self.runs.states)

        return await self.guarded(request, show)

    async def edit_visit(self, request: web.Request) -> web.StreamResponse:
        vid = int(request.match_info["vid"])
        form = await _form(request)

        async def edit() -> web.StreamResponse:
            await self.store.call("update_visit", vid, **_visit_fields(form))
            return redirect(f"/visits/{vid}?notice=saved")

        return await self.guarded(request, edit)

    async def import_file(self, request: web.Request) -> web.StreamResponse:
        vid = int(request.match_info["vid"])
        reader = request.get(UPLOAD)
        if reader is None:
            return self.problem(request, "send the file as a form upload")

        async def upload() -> web.StreamResponse:
            await self.store.call("visit", vid)  # unknown visit: 404 before reading the file
            folder = Path(tempfile.mkdtemp(prefix="insole-clinic-upload-"))
            try:
                fields, files = await _read_upload(reader, folder)
                path = files.get("file")
                if path is None:
                    raise ClinicError("choose a file to import")
                test = fields.get("test") or "free_walk"
                fmt = fields.get("fmt") or None
                try:
                    run = await self.store.call("import_recording", vid, path, fmt=fmt, layout=files.get("mapping"),
                                                test=test)
                except InputError as error:  # named by the uploaded file, not by where the upload was kept
                    shown = error.path.name if error.path.parent == folder else str(error.path)
                    raise ClinicError(f"{shown}: {error.problem}".replace("use --format", "choose a format")) from None
            finally:
                await asyncio.to_thread(shutil.rmtree, folder, True)
            notice = f"imported {path.name}" if run.status == "done" else f"import failed: {run.reason}"
            return redirect(f"/visits/{vid}?notice={_quote(notice)}")

        return await self.guarded(request, upload)

    async def start_run(self, request: web.Request) -> web.StreamResponse:
        vid = int(request.match_info["vid"])
        form = await _form(request)

        async def start() -> web.StreamResponse:
            visit = await self.store.call("visit", vid)
            patient = await self.store.call("patient", visit.patient_id)
            options = _run_options(form, patient)
            state = await self.runs.start(vid, _text(form, "test"), _text(form, "source"), options)
            return redirect(f"/runs/{state.test_id}")

        return await self.guarded(request, start)

    async def run_page(self, request: web.Request) -> web.StreamResponse:
        tid = int(request.match_info["tid"])

        async def show() -> web.StreamResponse:
            test = await self.store.call("test", tid)
            visit = await self.store.call("visit", test.visit_id)
            patient = await self.store.call("patient", visit.patient_id)
            state = self.runs.states.get(tid)
            live_url = _as_seen(state.live_url, request.host) if state is not None and state.live_url else None
            return self.render(request, "run.html", test=test, visit=visit, patient=patient, state=state,
                               live_url=live_url)

        return await self.guarded(request, show)

    async def run_status(self, request: web.Request) -> web.StreamResponse:
        state = self.runs.states.get(int(request.match_info["tid"]))
        if state is None:
            return web.json_response({"status": "unknown"})
        return web.json_response({"status": state.status, "phase": state.phase, "message": state.message,
                                  "live_url": state.live_url})

    async def stop_run(self, request: web.Request) -> web.StreamResponse:
        tid = int(request.match_info["tid"])

        async def stop() -> web.StreamResponse:
            state = self.runs.states.get(tid)
            if state is not None and state.running:
                await self.runs.stop(tid)
            test = await self.store.call("test", tid)
            return redirect(f"/visits/{test.visit_id}")

        return await self.guarded(request, stop)

    async def file(self, request: web.Request) -> web.StreamResponse:
        sha = request.match_info["sha"].lower()
        if not _SHA256.fullmatch(sha):
            raise web.HTTPNotFound()

        async def serve() -> web.StreamResponse:
            path = Path(await self.store.call("file_path", sha))
            if path.suffix.lower() in (".html", ".htm"):
                response = web.FileResponse(path)
                response.headers["Content-Type"] = "text/html; charset=utf-8"
                response.headers["Content-Security-Policy"] = REPORT_CSP
                return response
            return _download(path, path.name, "application/octet-stream")

        return await self.guarded(request, serve)

    async def report_pdf(self, request: web.Request) -> web.StreamResponse:
        tid = int(request.match_info["tid"])

        async def pdf() -> web.StreamResponse:
            from insole.report import print_pdf

            test = await self.store.call("test", tid)
            if not test.report_sha256:
                raise ClinicError("this test has no report")
            html = Path(await self.store.call("file_path", test.report_sha256))
            folder = Path(tempfile.mkdtemp(prefix="insole-clinic-pdf-"))
            out = folder / f"insole-test-{tid}-report.pdf"
            try:
                await asyncio.to_thread(print_pdf, html, out)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            return _download(out, out.name, "application/pdf", remove=True)

        return await self.guarded(request, pdf)

    async def backup_page(self, request: web.Request) -> web.StreamResponse:
        return self.render(request, "backup.html")

    async def backup(self, request: web.Request) -> web.StreamResponse:
        async def backup() -> web.StreamResponse:
            folder = Path(tempfile.mkdtemp(prefix="insole-clinic-backup-"))
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            try:
                archive = Path(await self.store.call("backup", folder / f"insole-clinic-{stamp}.tar"))
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            return _download(archive, archive.name, "application/octet-stream", remove=True)

        return await self.guarded(request, backup)


# -- forms ------------------------------------------------------------------------------------------------------


async def _form(request: web.Request) -> Mapping[str, Any]:
    return await request.post() if request.content_type == "application/x-www-form-urlencoded" else {}


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    if not isinstance(value, str):
        return ""
    if len(value) > _MAX_FIELD_CHARS:
        raise ClinicError(f"{name.replace('_', ' ')} is longer than {_MAX_FIELD_CHARS:,} characters")
    return value.replace("\r\n", "\n")


def _optional_number(form: Mapping[str, Any], name: str, kind: type, label: str) -> Any:
    text = _text(form, name).strip()
    if not text:
        return None
    if kind is float and text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")  # a decimal comma, as typed in most of Europe: 178,5
    try:
        return kind(text)
    except ValueError:
        raise ClinicError(f"{label} must be a number, not {text[:40]!r}") from None


def _patient_fields(form: Mapping[str, Any]) -> dict[str, Any]:
    height_cm = _optional_number(form, "height_cm", float, "height")
    low_cm, high_cm = 40, 260  # the store's plausible 0.4-2.6 m, said in the form's unit
    if height_cm is not None and not low_cm <= height_cm <= high_cm:  # NaN fails this too
        raise ClinicError(f"height {height_cm:g} cm is not plausible ({low_cm}-{high_cm} cm): give it in "
                          "centimetres")
    return {
        "birth_year": _optional_number(form, "birth_year", int, "year of birth"),
        "sex": _text(form, "sex") or None,
        "height_m": None if height_cm is None else height_cm / 100.0,
        "mass_kg": _optional_number(form, "mass_kg", float, "mass"),
        "notes": _text(form, "notes"),
    }


def _visit_fields(form: Mapping[str, Any]) -> dict[str, Any]:
    date_text = _text(form, "visit_date").strip()
    try:
        visit_date = dt.date.fromisoformat(date_text) if date_text else dt.date.today()
    except ValueError:
        raise ClinicError(f"the visit date must be a date (YYYY-MM-DD), not {date_text[:40]!r}") from None
    pain: dict[str, int] = {}
    for site in PAIN_SITES:
        text = _text(form, f"pain_{site}").strip()
        if text:
            if not re.fullmatch(r"(10|[0-9])", text):
                raise ClinicError(f"pain score {site!r} must be a whole number 0-10, not {text[:40]!r}")
            pain[site] = int(text)
    footwear = _text(form, "footwear")
    other = _text(form, "footwear_other").strip()
    if footwear == "other":
        footwear = other
    elif other:  # typed, but another choice made: neither is dropped silently
        raise ClinicError(f"other footwear {other[:40]!r} was typed but {footwear!r} is chosen: choose 'other (say "
                          "which)', or clear the other footwear")
    return {"visit_date": visit_date, "footwear": footwear, "orthosis": _text(form, "orthosis"),
            "pain_scores": pain, "notes": _text(form, "notes")}


def _run_options(form: Mapping[str, Any], patient: Any) -> RunOptions:
    age = None
    if patient.birth_year:
        age = float(dt.date.today().year - patient.birth_year)
    speed = _optional_number(form, "speed", float, "speed") or 1.0
    if not 0.1 <= speed <= 20.0:
        raise ClinicError("the emulated speed must be between 0.1 and 20")
    pace = _text(form, "pace") or "comfortable"
    if pace not in ("comfortable", "fast"):
        raise ClinicError("the pace is comfortable or fast")
    return RunOptions(
        walkway_m=_optional_number(form, "walkway_m", float, "walkway") or 14.0,
        timed_m=_optional_number(form, "timed_m", float, "timed distance"),
        pace=pace,
        course_m=_optional_number(form, "course_m", float, "course") or 30.0,
        pattern=_text(form, "pattern") or "normal",
        seed=_optional_number(form, "seed", int, "seed") or 0,
        speed=speed,
        mass_kg=patient.mass_kg,
        age_years=age,
        sex=patient.sex if patient.sex in ("female", "male") else None,
        height_cm=None if patient.height_m is None else patient.height_m * 100.0,
    )


async def _read_upload(reader: Any, folder: Path) -> tuple[dict[str, str], dict[str, Path]]:
    """The rest of a multipart upload (after the CSRF field): small text fields and the files, written to ``folder``.

    Files: ``file`` (the recording) and, for a generic CSV, ``mapping`` (its column mapping, .toml or .json),
    side by side in ``folder`` as the importer wants them. Each keeps its base name (the extension tells the
    importer the format); nothing of a name reaches a path but its last component, stripped of anything but
    letters, digits, dot, dash and underscore. An empty file field is no file.
    """
    fields: dict[str, str] = {}
    files: dict[str, Path] = {}
    while True:
        part = await reader.next()
        if part is None:
            break
        field = str(part.name)
        if part.filename is not None:
            if field not in ("file", "mapping") or field in files:
                raise ClinicError("import one recording (and at most one mapping) at a time")
            name = re.sub(r"[^A-Za-z0-9._-]", "_", os.path.basename(part.filename.replace("\\", "/")))[-150:]
            name = name.lstrip(".") or "upload"
            path = folder / name
            if path.exists():  # the mapping named like the recording
                path = folder / f"{field}-{name}"
            size = 0
            with open(path, "wb") as handle:
                while chunk := await part.read_chunk(1 << 20):
                    size += len(chunk)
                    if size > _MAX_UPLOAD_BYTES:
                        raise ClinicError("the file is larger than 2 GiB")
                    handle.write(chunk)
            if size:
                files[field] = path
            else:
                path.unlink()
        else:
            text = (await part.read(decode=True)).decode("utf-8", "replace")
            if len(text) > 200:
                raise ClinicError(f"{field} is too long")
            fields[field] = text
    return fields, files


def _back_to(request: web.Request) -> tuple[str, str]:
    """(address, words) of the page a refused request came from: its visit, patient or test, else the list."""
    info = request.match_info
    if "vid" in info:
        return f"/visits/{info['vid']}", "Back to the visit"
    if "pid" in info:
        return f"/patients/{info['pid']}", "Back to the patient"
    if "tid" in info:
        return f"/runs/{info['tid']}", "Back to the test"
    return "/patients", "Patients"


def _as_seen(live_url: str, request_host: str) -> str:
    """The live page's address as the browser that asked can reach it.

    The live server binds where the app binds; bound to every address (``0.0.0.0``, ``::``) its own address
    is no place to go, so the browser is sent to the address it reached the app by, on the live page's port.
    """
    import ipaddress
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(live_url)
    try:
        unspecified = ipaddress.ip_address((parts.hostname or "").strip("[]")).is_unspecified
    except ValueError:
        unspecified = False
    if not unspecified:
        return live_url
    name = request_host.rsplit(":", 1)[0] if not request_host.endswith("]") else request_host
    return urlunsplit((parts.scheme, f"{name}:{parts.port}", parts.path, parts.query, parts.fragment))


def _int(text: str | None, default: int, *, minimum: int | None = None) -> int:
    try:
        value = int(text) if text is not None else default
    except ValueError:
        value = default
    return max(value, minimum) if minimum is not None else value


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text[:300], safe="")


def _download(path: Path, name: str, content_type: str, *, remove: bool = False) -> web.StreamResponse:
    """``path`` as a download named ``name``; ``remove``: its temporary folder goes a while after it was sent."""
    response = web.FileResponse(path)
    response.headers["Content-Type"] = content_type
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    if remove:
        _clean_temporary(older_than_s=_TEMPORARY_KEEP_S)
        _TEMPORARY.append((time.monotonic(), path.parent))
    return response


#: temporary folders of exports (backups, BIDS zips, PDFs): removed once surely sent, and when the app stops
_TEMPORARY: list[tuple[float, Path]] = []
_TEMPORARY_KEEP_S = 3600.0


def _clean_temporary(older_than_s: float = 0.0) -> None:
    now = time.monotonic()
    for entry in [e for e in _TEMPORARY if now - e[0] >= older_than_s]:
        _TEMPORARY.remove(entry)
        shutil.rmtree(entry[1], ignore_errors=True)


def _bids_zip(recordings: list[Path], label: str, pseudonym: str) -> Path:
    """Every recording of a patient written into one BIDS-motion dataset, zipped (in a temporary folder).

    The recordings are the clinic's patient's, whatever subject id each file carried (a simulated walk's,
    an export's): each is exported under the patient's pseudonym, so BIDS sees one participant.
    """
    from insole.io import BidsExportParams, load, write_bids

    folder = Path(tempfile.mkdtemp(prefix="insole-clinic-bids-"))
    dataset = folder / f"bids-{label}"
    for run, path in enumerate(recordings, start=1):
        recording = load(path).with_meta(subject_id=pseudonym)
        write_bids(recording, dataset, BidsExportParams(subject=label, run=run, dataset_name="insole clinic export"),
                   input_path=path)
    archive = folder / f"insole-bids-{label}.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as handle:
        for file in sorted(dataset.rglob("*")):
            if file.is_file():
                handle.write(file, file.relative_to(folder))
    shutil.rmtree(dataset, ignore_errors=True)
    return archive


# -- running ----------------------------------------------------------------------------------------------------


async def serve_clinic(
    folder: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8780,
    allow_remote: bool = False,
    login: Callable[[str], bool] | None = None,
    on_ready: Callable[[str, list[Any]], None] | None = None,
    stop: asyncio.Event | None = None,
    prepare: Callable[[StoreThread], None] | None = None,
) -> None:
    """Serve the clinic app on ``folder`` until ``stop`` is set (or the task is cancelled).

    At the start the store recovers the captures a killed app left behind
    (``recover_interrupted``); ``on_ready(url, recovered)`` is then called.
    ``prepare(store)`` runs before that (``insole clinic --demo`` adds its
    demo patient there).
    """
    folder = Path(folder)
    lock, created = await asyncio.to_thread(_lock_folder, folder)
    store = StoreThread(folder)
    try:
        await asyncio.to_thread(store.open)
    except BaseException:
        store.close()
        if created:  # not a clinic after all: leave the folder as it was
            Path(lock.name).unlink(missing_ok=True)
        lock.close()
        raise
    server = None
    try:
        if prepare is not None:
            await asyncio.to_thread(prepare, store)
        recovered = await store.call("recover_interrupted")
        server = ClinicServer(store, host=host, port=port, allow_remote=allow_remote, login=login)
        url = await server.start()
        if on_ready is not None:
            on_ready(url, list(recovered))
        await (stop.wait() if stop is not None else asyncio.Event().wait())
    finally:
        if server is not None:
            await server.stop()
        _clean_temporary()
        await asyncio.to_thread(store.close)
        lock.close()


def _lock_folder(folder: Path) -> tuple[Any, bool]:
    """Hold ``folder/clinic.lock`` exclusively (one app per clinic folder); the open file is the lock.

    Returns the open file and whether it was created now.
    """
    import fcntl

    try:
        folder.mkdir(parents=True, exist_ok=True)
        created = not (folder / "clinic.lock").exists()
        handle = open(folder / "clinic.lock", "a+")  # noqa: SIM115 - held open for the app's life
    except OSError as error:
        raise ClinicError(f"{folder}: cannot use this folder for a clinic ({error.strerror or error})") from None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise ClinicError(f"{folder}: another insole clinic is serving this folder already") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle, created


@dataclasses.dataclass(frozen=True)
class TimelineCells:
    """One timeline row laid out as the page's table: per visit (date order) its point and the change into it."""

    row: Any
    cells: tuple[tuple[Any, Any], ...]


def timeline_columns(timeline: Any) -> list[Any]:
    """The visits the timeline shows a column for: those with a key number (a visit without an analysed test
    would be an empty column; the visits table above lists every visit)."""
    measured = {p.visit_id for row in timeline.rows for p in row.points}
    return [v for v in timeline.visits if v.id in measured]


def timeline_cells(timeline: Any) -> list[TimelineCells]:
    columns = timeline_columns(timeline)
    out = []
    for row in timeline.rows:
        points = {p.visit_id: p for p in row.points}
        changes = {c.visit_b_id: c for c in row.changes}
        out.append(TimelineCells(row, tuple((points.get(v.id), changes.get(v.id)) for v in columns)))
    return out
