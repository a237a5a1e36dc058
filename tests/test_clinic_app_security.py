"""The clinic app's guards, driven over HTTP as a browser or an attacker would: a real ``serve_clinic`` on a
loopback port, a real clinic folder.

Host check (DNS rebinding), the CSRF token and the Origin check on every POST, the Content-Security-Policy of
every page (nothing from outside, no inline script), hostile text shown as text, the login when other machines
can reach the app, and one app per clinic folder.
"""

from __future__ import annotations

import asyncio
import html
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import markupsafe
import pytest

from dashboards import ClinicLogin, ClinicStore, serve_clinic
from insole import InsoleError

REPO = Path(__file__).resolve().parents[1]


@dataclass
class App:
    base: str
    port: int
    folder: Path


async def _start(folder: Path, **options: Any) -> tuple[App, asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    ready: list[str] = []
    task = asyncio.create_task(serve_clinic(folder, port=0, stop=stop, on_ready=lambda url, _: ready.append(url),
                                            **options))
    while not ready:
        if task.done():
            task.result()  # raises what stopped it
        await asyncio.sleep(0.02)
    base = ready[0].rstrip("/")
    return App(base, int(base.rsplit(":", 1)[1]), folder), stop, task


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    served, stop, task = await _start(tmp_path / "clinic")
    yield served
    stop.set()
    await task


def _client() -> aiohttp.ClientSession:
    # the app's cookie is for 127.0.0.1: aiohttp keeps cookies of IP addresses only when told to (browsers do)
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def _token(client: aiohttp.ClientSession, app: App, path: str = "/patients") -> str:
    async with client.get(app.base + path) as response:
        assert response.status == 200
        found = re.search(r'name="csrf" value="([^"]+)"', await response.text())
    assert found is not None
    return found.group(1)


async def _count_text(client: aiohttp.ClientSession, app: App) -> str:
    async with client.get(app.base + "/patients?archived=1") as response:
        found = re.search(r'<p class="count">([^<]*)</p>', await response.text())
    assert found is not None
    return found.group(1).strip()


def _csp(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


# -- Host and Origin ---------------------------------------------------------------------------------------------


async def test_a_request_naming_another_host_is_refused_before_anything_is_done(app: App) -> None:
    async with _client() as client:
        token = await _token(client, app)
        for host in ("evil.example", f"evil.example:{app.port}", f"127.0.0.1:{app.port + 1}", ""):
            async with client.get(app.base + "/patients", headers={"Host": host}) as response:
                assert response.status == 403, host
            async with client.post(app.base + "/patients", data={"csrf": token, "pseudonym": "P-rebound"},
                                   headers={"Host": host}, allow_redirects=False) as response:
                assert response.status == 403, host
        for host in (f"localhost:{app.port}", f"127.0.0.1:{app.port}"):
            async with client.get(app.base + "/patients", headers={"Host": host}) as response:
                assert response.status == 200, host
        assert await _count_text(client, app) == "0 patients"


async def test_a_post_without_this_sessions_token_changes_nothing(app: App) -> None:
    async with _client() as client, _client() as other:
        token = await _token(client, app)
        other_token = await _token(other, app)
        assert token != other_token  # a token per session
        refused = [
            {"pseudonym": "P-no-token"},
            {"csrf": "", "pseudonym": "P-empty-token"},
            {"csrf": token[:-1] + ("A" if token[-1] != "A" else "B"), "pseudonym": "P-wrong-token"},
            {"csrf": other_token, "pseudonym": "P-other-session"},
        ]
        for form in refused:
            async with client.post(app.base + "/patients", data=form, allow_redirects=False) as response:
                assert response.status == 403, form
        # no session cookie at all (a form on another site, a script): refused even with a token once seen
        async with aiohttp.ClientSession() as stranger:
            async with stranger.post(app.base + "/patients", data={"csrf": token, "pseudonym": "P-stranger"},
                                     allow_redirects=False) as response:
                assert response.status == 403
        # an upload whose first part is not the token: refused before the file is read
        upload = aiohttp.FormData()
        upload.add_field("file", b"time,a\n0,1\n", filename="walk.csv")
        upload.add_field("csrf", token)
        async with client.post(app.base + "/visits/1/import", data=upload, allow_redirects=False) as response:
            assert response.status == 403
        assert await _count_text(client, app) == "0 patients"
        async with client.post(app.base + "/patients", data={"csrf": token, "pseudonym": "P-0001"},
                               allow_redirects=False) as response:
            assert response.status == 303
            assert response.headers["Location"] == "/patients/1"
        assert await _count_text(client, app) == "1 patient"


async def test_a_post_from_another_origin_is_refused_even_with_the_token(app: App) -> None:
    async with _client() as client:
        token = await _token(client, app)
        for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"},
                        {"Origin": f"http://evil.example:{app.port}"}, {"Origin": f"https://127.0.0.1:{app.port}"},
                        {"Referer": "http://evil.example/page"}):
            async with client.post(app.base + "/patients", data={"csrf": token, "pseudonym": "P-cross"},
                                   headers=headers, allow_redirects=False) as response:
                assert response.status == 403, headers
        assert await _count_text(client, app) == "0 patients"
        async with client.post(app.base + "/patients", data={"csrf": token, "pseudonym": "P-same"},
                               headers={"Origin": app.base}, allow_redirects=False) as response:
            assert response.status == 303


async def test_a_form_larger_than_any_form_is_refused_before_it_is_read_whole(app: App) -> None:
    async with _client() as client:
        token = await _token(client, app)
        # 5 MiB of notes: no form of the app is near that (an upload is streamed to disk instead)
        async with client.post(app.base + "/patients", data={"csrf": token, "pseudonym": "P-big",
                                                               "notes": "x" * (5 * 1024**2)},
                               allow_redirects=False) as response:
            assert response.status == 413
        assert await _count_text(client, app) == "0 patients"


# -- what the pages load -----------------------------------------------------------------------------------------


async def test_every_page_loads_only_its_own_files_under_a_strict_policy(tmp_path: Path) -> None:
    from insole.io import write_parquet
    from insole.simulate import SimulationParams, simulate

    folder = tmp_path / "clinic"
    walk = tmp_path / "walk.parquet"
    write_parquet(simulate(SimulationParams(duration_s=20.0, seed=3)), walk)
    with ClinicStore.open(folder) as store:
        patient = store.add_patient("P-csp")
        visit = store.add_visit(patient.id, visit_date=__import__("datetime").date(2026, 1, 5), footwear="shoes")
        test = store.import_recording(visit.id, walk)
    assert test.status == "done" and test.report_sha256 and test.recording_sha256
    served, stop, task = await _start(folder)
    try:
        async with _client() as client:
            for path in ("/patients", f"/patients/{patient.id}", f"/visits/{visit.id}", f"/runs/{test.id}",
                         "/backup", "/patients?q=x", "/visits/999"):
                async with client.get(served.base + path) as response:
                    page = await response.text()
                    policy = _csp(response.headers["Content-Security-Policy"])
                assert response.status == (404 if path == "/visits/999" else 200), path
                assert policy["default-src"] == ["'none'"], path
                assert policy["script-src"] == ["'self'"], path  # no inline script, no eval, no other host
                assert policy["style-src"] == ["'self'"], path
                assert policy["form-action"] == ["'self'"], path
                assert not any("http" in " ".join(v) or "*" in v for v in policy.values()), path
                assert response.headers["X-Content-Type-Options"] == "nosniff"
                # nothing loaded from anywhere else, no inline script or handler
                assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), path
                assert not re.search(r"<script(?![^>]*\bsrc=\"/static/)[^>]*>", page), path
                assert not re.search(r"\son[a-z]+\s*=", page, re.IGNORECASE), path
            # the report (insole.report's page: inline plots) is sandboxed into an origin of its own
            async with client.get(f"{served.base}/files/{test.report_sha256}") as response:
                assert response.status == 200
                policy = _csp(response.headers["Content-Security-Policy"])
                assert policy["sandbox"] == ["allow-scripts", "allow-popups"]
                assert policy["default-src"] == ["'none'"]
                assert not any("http" in " ".join(v) for v in policy.values())
            # a recording is a download, never shown as a page
            async with client.get(f"{served.base}/files/{test.recording_sha256}") as response:
                assert response.status == 200
                assert response.headers["Content-Disposition"].startswith("attachment;")
                assert response.headers["Content-Type"] == "application/octet-stream"
            for bad in ("../clinic.sqlite3", "0" * 64, "%2e%2e%2fclinic.sqlite3", test.report_sha256.upper() + "0"):
                async with client.get(f"{served.base}/files/{bad}") as response:
                    assert response.status == 404, bad
    finally:
        stop.set()
        await task


# -- hostile text --------------------------------------------------------------------------------------------------


HOSTILE = "<script>alert('x')</script>\"'&<img src=x onerror=alert(1)>"


async def test_hostile_text_in_every_field_is_shown_as_text(app: App) -> None:
    long_notes = (HOSTILE * (10_000 // len(HOSTILE) + 1))[:10_000]
    async with _client() as client:
        token = await _token(client, app)
        async with client.post(app.base + "/patients", allow_redirects=False, data={
            "csrf": token, "pseudonym": HOSTILE, "birth_year": "1950", "sex": "other", "height_cm": "170",
            "mass_kg": "70", "notes": long_notes,
        }) as response:
            assert response.status == 303
            patient = response.headers["Location"]
        async with client.post(app.base + patient + "/visits", allow_redirects=False, data={
            "csrf": token, "visit_date": "2026-02-03", "footwear": "other", "footwear_other": HOSTILE,
            "orthosis": HOSTILE, "pain_heel": "3", "notes": long_notes,
        }) as response:
            assert response.status == 303
            visit = response.headers["Location"]
        pages = [patient, visit, "/patients", "/patients?q=" + aiohttp.helpers.quote(HOSTILE, safe=""),
                 "/patients?notice=" + aiohttp.helpers.quote(HOSTILE, safe="")]
        for path in pages:
            async with client.get(app.base + path) as response:
                assert response.status == 200, path
                page = await response.text()
            assert "<script>alert" not in page and "<img src=x" not in page, path
            assert str(markupsafe.escape(HOSTILE)) in page, path
        # the 10,000 characters of notes are all there, as text, on the patient's and the visit's page
        for path in (patient, visit):
            async with client.get(app.base + path) as response:
                page = await response.text()
            shown = re.search(r'id="(?:patient|visit)-notes">(.*?)</dd>', page, re.DOTALL)
            assert shown is not None
            assert html.unescape(shown.group(1)) == long_notes
        # a field the store limits (a pseudonym of 10,000 characters) is refused in one line, shown as text
        async with client.post(app.base + "/patients", allow_redirects=False,
                               data={"csrf": token, "pseudonym": HOSTILE * 200}) as response:
            assert response.status == 400
            page = await response.text()
        problem = re.search(r'id="problem">(.*?)</p>', page, re.DOTALL)
        assert problem is not None and "\n" not in problem.group(1) and "<script>alert" not in page
        assert await _count_text(client, app) == "1 patient"


# -- login ------------------------------------------------------------------------------------------------------


async def test_other_machines_must_log_in_and_a_login_starts_a_new_session(tmp_path: Path) -> None:
    folder = tmp_path / "clinic"
    served, stop, task = await _start(folder, allow_remote=True,
                                      login=ClinicLogin(folder, env_password="correct horse battery"))
    try:
        async with _client() as client:
            async with client.get(served.base + "/patients", allow_redirects=False) as response:
                assert response.status == 303 and response.headers["Location"] == "/login"
            token = await _token(client, served, "/login")
            before = {c.key: c.value for c in client.cookie_jar}
            async with client.post(served.base + "/patients", data={"csrf": token, "pseudonym": "P-anon"},
                                   allow_redirects=False) as response:
                assert response.status == 403
            async with client.post(served.base + "/login", data={"csrf": token, "password": "wrong password"},
                                   allow_redirects=False) as response:
                assert response.status == 403
            async with client.get(served.base + "/patients", allow_redirects=False) as response:
                assert response.status == 303
            async with client.post(served.base + "/login", data={"csrf": token, "password": "correct horse battery"},
                                   allow_redirects=False) as response:
                assert response.status == 303 and response.headers["Location"] == "/patients"
            after = {c.key: c.value for c in client.cookie_jar}
            assert after["insole_clinic"] != before["insole_clinic"]  # no session fixation
            new_token = await _token(client, served)
            assert new_token != token
            async with client.post(served.base + "/patients", data={"csrf": new_token, "pseudonym": "P-in"},
                                   allow_redirects=False) as response:
                assert response.status == 303
            async with client.post(served.base + "/logout", data={"csrf": new_token},
                                   allow_redirects=False) as response:
                assert response.status == 303
            async with client.get(served.base + "/patients", allow_redirects=False) as response:
                assert response.status == 303 and response.headers["Location"] == "/login"
    finally:
        stop.set()
        await task


async def test_serving_other_machines_without_a_password_or_the_flag_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InsoleError, match="login password"):
        await serve_clinic(tmp_path / "a", host="0.0.0.0", port=0, allow_remote=True, stop=asyncio.Event())
    with pytest.raises(InsoleError, match="reachable from other machines"):
        await serve_clinic(tmp_path / "b", host="0.0.0.0", port=0, stop=asyncio.Event())


def test_the_password_is_kept_only_as_a_salted_hash(tmp_path: Path) -> None:
    login = ClinicLogin(tmp_path)
    assert not login.ready
    login.set_password("clinic password 1")
    stored = login.path.read_text(encoding="utf-8")
    assert "clinic password 1" not in stored
    assert login.ready and login("clinic password 1") and not login("clinic password 2")
    assert oct(login.path.stat().st_mode & 0o777) == "0o600"
    login.set_password("clinic password 1")
    assert login.path.read_text(encoding="utf-8") != stored  # a new salt each time
    with pytest.raises(InsoleError, match="at least 8 characters"):
        login.set_password("short")
    with pytest.raises(InsoleError, match="at least 8 characters"):
        ClinicLogin(tmp_path, env_password="short")
    assert ClinicLogin(tmp_path, env_password="from the environment")("from the environment")


def test_the_command_refuses_other_machines_without_a_password_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "INSOLE_CLINIC_PASSWORD"}
    done = subprocess.run([sys.executable, "-m", "insole", "clinic", "--host", "0.0.0.0", "--port", "0",
                           "--data", str(tmp_path / "clinic")], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "INSOLE_CLINIC_PASSWORD" in done.stderr
    assert "Traceback" not in done.stderr


async def test_one_app_per_clinic_folder(app: App) -> None:
    with pytest.raises(InsoleError, match="another insole clinic is serving this folder"):
        await serve_clinic(app.folder, port=0, stop=asyncio.Event())
    async with _client() as client:  # the first still serves
        assert await _count_text(client, app) == "0 patients"


# -- what a clinician sees when something is refused or fails ----------------------------------------------------


async def test_a_refused_import_leads_back_to_its_visit_and_a_fault_is_a_page_not_a_bare_500(
        app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboards._clinic_app._store import ClinicStore as Store

    async with _client() as client:
        token = await _token(client, app)
        async with client.post(app.base + "/patients", data={"csrf": token, "pseudonym": "P-back"}) as response:
            assert response.status == 200
        async with client.post(app.base + "/patients/1/visits", data={"csrf": token, "visit_date": "2026-01-05",
                                                                      "footwear": "shoes"}) as response:
            assert response.status == 200 and response.url.path == "/visits/1"
        upload = aiohttp.FormData()
        upload.add_field("csrf", token)
        upload.add_field("test", "free_walk")
        upload.add_field("file", b"this is a letter, not a recording\n", filename="letter.txt")
        async with client.post(app.base + "/visits/1/import", data=upload) as response:
            page = await response.text()
        assert response.status == 400 and "letter.txt" in page
        assert '<a href="/visits/1" id="back">Back to the visit</a>' in page
        assert '<link rel="icon" href="data:,">' in page  # no request for /favicon.ico (a 404 in the console)

        def fault(*_: Any, **__: Any) -> None:
            raise RuntimeError("a fault deep inside")

        monkeypatch.setattr(Store, "timeline", fault)
        async with client.get(app.base + "/patients/1") as response:
            page = await response.text()
        assert response.status == 500 and "something went wrong in the app itself" in page
        assert "Traceback" not in page and "a fault deep inside" not in page
        assert '<a href="/patients/1" id="back">Back to the patient</a>' in page


async def test_two_visits_on_one_day_are_told_apart_in_the_before_after_choice(app: App) -> None:
    async with _client() as client:
        token = await _token(client, app)
        await client.post(app.base + "/patients", data={"csrf": token, "pseudonym": "P-day"})
        for notes in ("morning, before the injection", "afternoon, after the injection"):
            await client.post(app.base + "/patients/1/visits", data={"csrf": token, "visit_date": "2026-01-05",
                                                                     "footwear": "shoes", "notes": notes})
        async with client.get(app.base + "/patients/1") as response:
            page = await response.text()
    choice = re.search(r'<select name="visit_a">(.*?)</select>', page, re.DOTALL)
    assert choice is not None
    options = [html.unescape(o) for o in re.findall(r"<option[^>]*>([^<]*)</option>", choice.group(1))]
    assert options == ["2026-01-05 (shoes, no orthosis): morning, before the injection",
                       "2026-01-05 (shoes, no orthosis): afternoon, after the injection"]


async def test_the_visit_page_offers_formats_and_gait_patterns_by_name_in_words(app: App) -> None:
    from insole.io import formats

    async with _client() as client:
        token = await _token(client, app)
        await client.post(app.base + "/patients", data={"csrf": token, "pseudonym": "P-forms"})
        await client.post(app.base + "/patients/1/visits", data={"csrf": token, "visit_date": "2026-01-05"})
        async with client.get(app.base + "/visits/1") as response:
            page = await response.text()
        # the format is chosen from insole's own list (a clinician cannot know its names), the usual choice first
        chosen = re.search(r'<select name="fmt">(.*?)</select>', page, re.DOTALL)
        assert chosen is not None
        values = re.findall(r'<option value="([^"]*)"', chosen.group(1))
        assert values == ["", *formats()] and '<option value="" selected>' in chosen.group(1)
        # the simulated patient's gait patterns: sent by name, shown in words
        assert '<option value="flat_foot">flat foot</option>' in page
        assert '<option value="heel_avoidance">heel avoidance</option>' in page
        # a format chosen by hand is used: a CSV read as a Moticon export is refused, back to the visit
        upload = aiohttp.FormData()
        upload.add_field("csrf", token)
        upload.add_field("fmt", "moticon")
        upload.add_field("file", b"time,a\n0,1\n", filename="walk.csv")
        async with client.post(app.base + "/visits/1/import", data=upload) as response:
            refused = await response.text()
        assert response.status == 400 and "walk.csv" in refused and 'href="/visits/1" id="back"' in refused


async def test_a_height_in_metres_is_refused_in_centimetres_and_a_decimal_comma_is_a_number(app: App) -> None:
    import datetime as dt

    async def add(client: aiohttp.ClientSession, token: str, **fields: str) -> tuple[int, str]:
        async with client.post(app.base + "/patients", data={"csrf": token, **fields}) as response:
            return response.status, html.unescape(await response.text())

    async with _client() as client:
        token = await _token(client, app)
        # the form asks for centimetres: the refusal says it in centimetres (it said "height 0.0178 m")
        status, page = await add(client, token, pseudonym="P-m", height_cm="1.78")
        assert status == 400 and "height 1.78 cm is not plausible (40-260 cm): give it in centimetres" in page
        status, page = await add(client, token, pseudonym="P-y", birth_year="3000")
        assert status == 400 and f"year of birth 3000 is not plausible (1890-{dt.date.today().year})" in page
        # 178,5 and 71,5 as typed with a decimal comma
        status, page = await add(client, token, pseudonym="P-comma", height_cm="178,5", mass_kg="71,5")
        assert status == 200 and "178.5 cm" in page and "71.5 kg" in page
        status, page = await add(client, token, pseudonym="P-two", mass_kg="1,234,5")
        assert status == 400 and "mass must be a number, not '1,234,5'" in page


def test_an_app_bound_to_every_address_says_where_a_browser_can_reach_it(tmp_path: Path) -> None:
    import http.client
    import signal
    import time

    from insole._cli._clinic import reachable_urls

    assert reachable_urls("http://127.0.0.1:8780/") == ["http://127.0.0.1:8780/"]
    assert reachable_urls("http://0.0.0.0:8780/")[0] == "http://127.0.0.1:8780/"
    assert not any("0.0.0.0" in u for u in reachable_urls("http://0.0.0.0:8780/"))
    # the command: besides "serving ... on http://0.0.0.0:PORT/" (no place to go), an address that answers
    env = {**os.environ, "INSOLE_CLINIC_PASSWORD": "clinic password 1"}
    process = subprocess.Popen([sys.executable, "-m", "insole", "clinic", "--host", "0.0.0.0", "--port", "0",
                                "--data", str(tmp_path / "clinic")], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, env=env, cwd=REPO, start_new_session=True)
    try:
        assert process.stdout is not None
        deadline, line = time.monotonic() + 60, ""
        while time.monotonic() < deadline and " on this computer" not in line:
            line = process.stdout.readline()
            assert line or process.poll() is None, "the app ended before saying where it can be reached"
        found = re.search(r"open (http://127\.0\.0\.1:(\d+)/) on this computer", line)
        assert found is not None and int(found.group(2)) > 0, line
        connection = http.client.HTTPConnection("127.0.0.1", int(found.group(2)), timeout=30)
        connection.request("GET", "/patients")
        answer = connection.getresponse()
        connection.close()
        assert (answer.status, answer.getheader("Location")) == (303, "/login")  # it answers, and asks for the login
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)


async def test_a_visit_form_never_drops_what_was_typed(app: App) -> None:
    async def add_visit(client: aiohttp.ClientSession, token: str, **fields: str) -> tuple[int, str]:
        data = {"csrf": token, "visit_date": "2026-01-05", "footwear": "shoes", **fields}
        async with client.post(app.base + "/patients/1/visits", data=data) as response:
            return response.status, html.unescape(await response.text())

    async with _client() as client:
        token = await _token(client, app)
        await client.post(app.base + "/patients", data={"csrf": token, "pseudonym": "P-visit"})
        # other footwear typed while "shoes" stays chosen: it was dropped without a word
        status, page = await add_visit(client, token, footwear_other="running shoes")
        assert status == 400 and ("other footwear 'running shoes' was typed but 'shoes' is chosen: choose 'other "
                                  "(say which)', or clear the other footwear") in page
        status, page = await add_visit(client, token, footwear="other", footwear_other="running shoes")
        assert status == 200 and "running shoes, no orthosis" in page
        # a pain score that is not a whole number 0-10 is refused in the same words whatever it is
        for typed in ("7.5", "11", "-1", "x"):
            status, page = await add_visit(client, token, pain_heel=typed)
            assert status == 400 and f"pain score 'heel' must be a whole number 0-10, not '{typed}'" in page, page
        status, page = await add_visit(client, token, pain_heel="10", pain_back="0")
        shown = re.search(r'id="pain">([^<]*)<', page)
        assert status == 200 and shown is not None and set(shown.group(1).split(", ")) == {"heel 10", "back 0"}


async def test_the_timeline_has_a_column_only_for_visits_with_key_numbers(tmp_path: Path) -> None:
    import datetime as dt

    from insole.io import write_parquet
    from insole.simulate import SimulationParams, simulate

    walk = tmp_path / "walk.parquet"
    write_parquet(simulate(SimulationParams(duration_s=20.0, seed=3)), walk)
    with ClinicStore.open(tmp_path / "clinic") as store:
        patient = store.add_patient("P-cols")
        visits = [store.add_visit(patient.id, visit_date=dt.date(2026, 1, d), footwear="shoes") for d in (5, 6, 7)]
        for visit in (visits[0], visits[2]):  # the visit of the 6th has no test
            assert store.import_recording(visit.id, walk).status == "done"
    served, stop, task = await _start(tmp_path / "clinic")
    try:
        async with _client() as client, client.get(served.base + f"/patients/{patient.id}") as response:
            page = await response.text()
    finally:
        stop.set()
        await task
    head = re.search(r'<table class="timeline" id="timeline">\s*<thead>(.*?)</thead>', page, re.DOTALL)
    assert head is not None
    assert re.findall(r'<a href="/visits/(\d+)">', head.group(1)) == [str(visits[0].id), str(visits[2].id)]
    # every visit is still listed in the visits table, the empty one too
    assert all(f'<a href="/visits/{v.id}">' in page.split('id="timeline"')[0] for v in visits)
