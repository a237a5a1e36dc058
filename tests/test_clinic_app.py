"""The clinic app end to end: ``insole clinic`` as a separate process, driven in real headless Chromium.

* a patient is created, an emulated 10-metre walk is run in a first visit (shoes) and again in a second
  (with an orthosis, another simulated gait); both reports open; the timeline marks a change exactly when it
  is larger than its MDC95 (and shows the others plainly); a real Moticon OpenGo export is imported by
  upload into a third visit;
* hostile text typed into every field is shown as text (no script runs, no dialog opens);
* the app is killed (SIGKILL) during a capture and started again: the recording is in its visit, and
  nothing else was lost.

The app runs emulated insoles on a private fake BlueZ of its own (``ble``); the browser is Debian's Chromium
(``browser``). Both run in the serial pass.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _data import shared_data_dir

REPO = Path(__file__).resolve().parents[1]
MOTICON = shared_data_dir() / "moticon-opengo" / "230927_102114.txt"
HOSTILE = "<script>alert('x')</script>\"'&<img src=x onerror=alert(1)>"
_START_TIMEOUT_S = 60.0
_TEST_TIMEOUT_S = 180.0  # an emulated 10-metre walk at 5x takes about 8 s alone; a loaded 2-core machine, more


@contextlib.contextmanager
def clinic_app(folder: Path, *extra: str) -> Iterator[tuple[subprocess.Popen[str], str, list[str]]]:
    """``insole clinic --data folder --port 0`` in its own process group; yields (process, url, its output lines)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "insole", "clinic", "--data", str(folder), "--port", "0", *extra],
        cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,  # its emulated insoles' helpers (dbus-daemon) are in its group: cleaned up with it
    )
    lines: list[str] = []
    try:
        url = _wait_for_url(process, lines)
        yield process, url, lines
    finally:
        _stop(process)


def _wait_for_url(process: subprocess.Popen[str], lines: list[str]) -> str:
    """Read the app's output on a thread (into ``lines``, for the whole run) until it says where it serves."""
    import threading

    assert process.stdout is not None
    stdout = process.stdout

    def read() -> None:
        for line in stdout:
            lines.append(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        for line in list(lines):
            found = re.search(r" on (http://\S+) \(Ctrl-C to stop\)", line)
            if found:
                return found.group(1)
        if process.poll() is not None:
            time.sleep(0.2)
            raise AssertionError(f"insole clinic ended with {process.returncode}: {lines}")
        time.sleep(0.05)
    raise AssertionError(f"insole clinic did not start within {_START_TIMEOUT_S} s: {lines}")


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # Ctrl-C: stops a running test, stores it, closes the store
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # anything of its group left behind (its process id is the group's)


def _submit(page: Any, form: str) -> None:
    with page.expect_navigation():
        page.click(f"{form} button[type=submit]")


def _open(page: Any, details: str) -> None:
    """Unfold a <details> box (the way a click on its summary does when it is folded)."""
    if not page.eval_on_selector(details, "box => box.open"):
        page.click(f"{details} summary")


def _run_emulated_walk(page: Any, *, pattern: str, seed: int, pace: str = "comfortable") -> dict[str, Any]:
    """On a visit's page: start an emulated 10-metre walk; see the live page; wait for the stored result."""
    from browser import wait_for

    page.select_option("#run-test select[name=test]", "10mwt")
    page.select_option("#run-test select[name=source]", "emulated")
    page.select_option("#run-test select[name=pattern]", pattern)
    page.fill("#run-test input[name=seed]", str(seed))
    page.fill("#run-test input[name=speed]", "5")
    page.select_option("#run-test select[name=pace]", pace)
    visit_url = page.url
    _submit(page, "#run-test")
    assert re.search(r"/runs/\d+$", page.url), page.url
    live_url = page.get_attribute("#live-link", "href")
    assert live_url is not None and live_url.startswith("http://127.0.0.1:") and "token=" in live_url
    live = page.context.new_page()
    live.goto(live_url)
    # the live page draws what the emulated insoles stream (its own counters: tests/browser.py)
    wait_for(live, "() => window.__liveStats && window.__liveStats.frames > 0", timeout_s=60)
    live.close()
    # the run page goes back to the visit by itself once the test is stored (its script asks every second)
    page.wait_for_url(visit_url, timeout=_TEST_TIMEOUT_S * 1000)
    page.wait_for_load_state()
    section = page.locator("section.test").last
    return {"status": section.get_attribute("data-status"), "test": section.get_attribute("data-test"),
            "report": section.locator("a.report").get_attribute("href"),
            "summary": section.locator(".summary").text_content()}


def _add_visit(page: Any, patient_url: str, date: str, orthosis: str) -> None:
    page.goto(patient_url)
    _open(page, "#add-visit-box")
    page.fill("#add-visit input[name=visit_date]", date)
    page.select_option("#add-visit select[name=footwear]", "shoes")
    page.fill("#add-visit input[name=orthosis]", orthosis)
    _submit(page, "#add-visit")
    assert re.search(r"/visits/\d+$", page.url), page.url


@pytest.mark.browser
@pytest.mark.ble
@pytest.mark.slow
def test_a_patient_two_emulated_walks_the_timeline_and_an_imported_moticon_file(
    tmp_path: Path, artifacts: Path
) -> None:
    from browser import chromium

    assert MOTICON.is_file()
    with clinic_app(tmp_path / "clinic") as (_, url, _lines), chromium() as (context, _profile):
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(url)
        assert page.url.endswith("/patients")
        page.fill("#add-patient input[name=pseudonym]", "P-0042")
        page.fill("#add-patient input[name=birth_year]", "1958")
        page.fill("#add-patient input[name=mass_kg]", "72")
        _submit(page, "#add-patient")
        patient_url = page.url
        assert re.search(r"/patients/\d+$", patient_url) and page.text_content("#pseudonym") == "P-0042"

        _add_visit(page, patient_url, "2026-10-01", "")
        first = _run_emulated_walk(page, pattern="antalgic", seed=1)
        _add_visit(page, patient_url, "2026-11-12", "custom insole, heel cup")
        second = _run_emulated_walk(page, pattern="normal", seed=2, pace="fast")
        for result in (first, second):
            assert result["status"] == "done" and result["test"] == "10mwt", result
            assert "10-metre walk" in (result["summary"] or "")
            report = context.new_page()
            report.goto(url.rstrip("/") + result["report"])
            assert "insole" in report.title().lower() or report.locator("h1").count() > 0
            assert report.locator("body").inner_text().strip()
            report.close()

        page.goto(patient_url)
        page.screenshot(path=str(artifacts / "clinic-app-patient.png"), full_page=True)
        changes = page.eval_on_selector_all(
            "#timeline span.change",
            "els => els.map(e => ({change: e.dataset.change, mdc: e.dataset.mdc, changed: e.dataset.changed, "
            "beyond: e.classList.contains('beyond'), text: e.textContent}))",
        )
        assert changes, "the timeline shows no change between the two visits"
        # both verdicts must be on the page: the second walk is at a fast pace, so its cadence is far above the
        # first's (about +25 steps/min against an MDC95 near 9), while stride-time variability stays within
        # its MDC; measures without an MDC95 (most pressure measures of this layout) are shown unjudged
        assert any(c["mdc"] and c["beyond"] for c in changes), changes
        assert any(c["mdc"] and not c["beyond"] for c in changes), changes
        for c in changes:
            if c["mdc"]:
                beyond = abs(float(c["change"])) > float(c["mdc"])
                assert c["changed"] == ("yes" if beyond else "no"), c
                assert c["beyond"] is beyond and (("beyond MDC" in c["text"]) is beyond), c
            else:  # no MDC: shown, never marked
                assert c["changed"] == "none" and not c["beyond"] and "not judged" in c["text"], c
        # the visit conditions are beside the numbers: the second visit's orthosis is in the timeline's header
        assert "custom insole, heel cup" in page.text_content("#timeline thead")

        _add_visit(page, patient_url, "2026-12-01", "")
        page.set_input_files("#import input[type=file]", str(MOTICON))
        _submit(page, "#import")
        section = page.locator("section.test").last
        assert section.get_attribute("data-status") == "done", page.text_content("main")
        assert MOTICON.name in section.inner_text()
        assert section.locator("a.report").count() == 1
        assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


@pytest.mark.browser
def test_hostile_text_in_every_field_shows_as_text_in_the_browser(tmp_path: Path) -> None:
    from browser import chromium

    long_text = (HOSTILE * (10_000 // len(HOSTILE) + 1))[:10_000]
    with clinic_app(tmp_path / "clinic") as (_, url, _lines), chromium() as (context, _profile):
        page = context.new_page()
        dialogs: list[str] = []

        def on_dialog(dialog: Any) -> None:  # an alert() would mean a typed script ran
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.goto(url)
        page.fill("#add-patient input[name=pseudonym]", HOSTILE)
        page.fill("#add-patient textarea[name=notes]", long_text)
        _submit(page, "#add-patient")
        assert page.text_content("#pseudonym") == HOSTILE
        assert page.text_content("#patient-notes") == long_text
        _open(page, "#add-visit-box")
        page.select_option("#add-visit select[name=footwear]", "other")
        page.fill("#add-visit input[name=footwear_other]", HOSTILE)
        page.fill("#add-visit input[name=orthosis]", HOSTILE)
        page.fill("#add-visit textarea[name=notes]", long_text)
        _submit(page, "#add-visit")
        assert page.text_content("#conditions") == f"{HOSTILE}, orthosis: {HOSTILE}"
        assert page.text_content("#visit-notes") == long_text
        assert page.text_content("#patient-link") == HOSTILE
        page.goto(url.rstrip("/") + "/patients?q=" + "%3Cscript%3E")
        assert page.locator("#patients tbody a").first.text_content() == HOSTILE
        # a value the store refuses (10,000 characters where 200 are allowed) comes back as one line of text
        page.goto(url)
        page.fill("#add-patient input[name=pseudonym]", long_text)
        _submit(page, "#add-patient")
        assert "200" in page.text_content("#problem") and "\n" not in page.text_content("#problem")
        # no script ran, no element was made from what was typed
        assert dialogs == []
        assert page.locator("img").count() == 0
        assert page.evaluate("() => document.querySelectorAll('script:not([src])').length") == 0


@pytest.mark.ble
@pytest.mark.slow
def test_a_capture_killed_with_the_app_is_in_its_visit_after_a_restart(tmp_path: Path) -> None:
    from dashboards import ClinicStore
    from insole.io import load

    folder = tmp_path / "clinic"
    with ClinicStore.open(folder) as store:
        patient = store.add_patient("P-kill", mass_kg=70.0)
        visit = store.add_visit(patient.id, visit_date=dt.date(2026, 12, 1), footwear="shoes")
        other = store.add_visit(patient.id, visit_date=dt.date(2026, 12, 2), notes="kept")
    with clinic_app(folder) as (process, url, lines):
        client = _Browser(url)
        token = client.token(f"/visits/{visit.id}")
        location = client.post(f"/visits/{visit.id}/runs", {"csrf": token, "test": "free_walk", "source": "emulated",
                                                          "pattern": "normal", "seed": "4", "speed": "1"})
        test_id = int(location.rsplit("/", 1)[1])
        stream = folder / "captures" / f"{test_id}.arrows"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not stream.exists() or stream.stat().st_size < 50_000):
            time.sleep(0.2)
        assert stream.exists() and stream.stat().st_size >= 50_000, "the capture never reached the disk"
        time.sleep(2.0)
        captured_before_kill = stream.stat().st_size
        os.kill(process.pid, signal.SIGKILL)  # the app alone, mid-capture: no handler runs
        process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL
    assert (folder / "captures" / f"{test_id}.arrows").exists()
    with clinic_app(folder) as (_, url, lines):
        assert any(re.search(rf"recovered test {test_id} \(free_walk\) into visit {visit.id}: done", line)
                   for line in lines), lines
        client = _Browser(url)
        page = client.get(f"/visits/{visit.id}")
        assert f'id="test-{test_id}" data-status="done"' in page
    with ClinicStore.open(folder, create=False) as store:
        test = store.test(test_id)
        assert test.status == "done" and test.visit_id == visit.id and test.recording_sha256
        recording = load(store.file_path(test.recording_sha256))
        assert recording.duration_s >= 2.0  # at least the two seconds streamed after the stream held 50 kB
        assert [p.pseudonym for p in store.patients("P-kill")] == ["P-kill"]
        assert [v.id for v in store.visits(patient.id)] == [visit.id, other.id]
        assert store.visit(other.id).notes == "kept"
        assert [t.id for t in store.tests(visit.id)] == [test_id]
    assert captured_before_kill > 0


class _Browser:
    """A minimal cookie-keeping client of the app over urllib (as a browser: same-origin Origin on POSTs)."""

    def __init__(self, url: str) -> None:
        import http.cookiejar
        import urllib.request

        self.base = url.rstrip("/")
        self.jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def get(self, path: str) -> str:
        return self.get_with_headers(path)[0]

    def get_with_headers(self, path: str) -> tuple[str, Any]:
        with self.opener.open(self.base + path, timeout=120) as response:
            return response.read().decode("utf-8"), response.headers

    def get_bytes(self, path: str) -> bytes:
        with self.opener.open(self.base + path, timeout=300) as response:
            assert response.status == 200
            return bytes(response.read())

    def post_refused(self, path: str, form: dict[str, str]) -> tuple[int, str]:
        """POST a form the app should refuse: (status, page)."""
        import urllib.error
        import urllib.parse
        import urllib.request

        request = urllib.request.Request(self.base + path, data=urllib.parse.urlencode(form).encode(),
                                         headers={"Origin": self.base})
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8")

    def post_files(self, path: str, form: dict[str, str], files: dict[str, Path]) -> tuple[int, str]:
        """A multipart upload as a browser sends the import form (the token first): (303, Location) or (status,
        page)."""
        import secrets
        import urllib.error
        import urllib.request

        boundary = secrets.token_hex(16)
        body = b""
        for name, value in form.items():
            body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").encode()
        for name, file in files.items():
            body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file.name}\"\r\n"
                     "Content-Type: application/octet-stream\r\n\r\n").encode() + file.read_bytes() + b"\r\n"
        body += f"--{boundary}--\r\n".encode()
        request = urllib.request.Request(self.base + path, data=body, headers={
            "Origin": self.base, "Content-Type": f"multipart/form-data; boundary={boundary}"})
        try:
            with self.opener.open(request, timeout=300) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            if error.code == 303:
                return 303, str(error.headers["Location"])
            return error.code, error.read().decode("utf-8")

    def post_bytes(self, path: str, form: dict[str, str]) -> bytes:
        import urllib.parse
        import urllib.request

        request = urllib.request.Request(self.base + path, data=urllib.parse.urlencode(form).encode(),
                                         headers={"Origin": self.base})
        with self.opener.open(request, timeout=300) as response:
            assert response.status == 200
            return bytes(response.read())

    def token(self, path: str) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.get(path))
        assert found is not None
        return found.group(1)

    def post(self, path: str, form: dict[str, str]) -> str:
        import urllib.error
        import urllib.parse
        import urllib.request

        request = urllib.request.Request(self.base + path, data=urllib.parse.urlencode(form).encode(),
                                         headers={"Origin": self.base})
        try:
            self.opener.open(request, timeout=120)
        except urllib.error.HTTPError as error:
            if error.code == 303:
                return str(error.headers["Location"])
            raise AssertionError(f"POST {path}: {error.code} {error.read()[:500]!r}") from None
        raise AssertionError(f"POST {path} did not redirect")


def _clinic_with_two_walks(folder: Path, work: Path) -> tuple[Any, list[Any], list[Any]]:
    """A clinic with one patient and two visits, each with an imported simulated 10-metre walk."""
    from dashboards import ClinicStore
    from insole.io import write_parquet
    from insole.simulate import simulate_clinic_test

    with ClinicStore.open(folder) as store:
        patient = store.add_patient("P-export", birth_year=1960, mass_kg=70.0)
        visits, tests = [], []
        for n, (orthosis, pattern) in enumerate((("", "antalgic"), ("heel cup", "normal")), start=1):
            visit = store.add_visit(patient.id, visit_date=dt.date(2026, n, 10), footwear="shoes", orthosis=orthosis)
            walk = work / f"walk-{n}.parquet"
            write_parquet(simulate_clinic_test("10mwt", seed=n, pattern=pattern, body_mass_kg=70.0), walk)
            tests.append(store.import_recording(visit.id, walk, test="10mwt"))
            visits.append(visit)
    assert all(t.status == "done" for t in tests), tests
    return patient, visits, tests


def test_before_after_report_bids_export_and_a_backup_that_restores(tmp_path: Path) -> None:
    import hashlib
    import tarfile
    import zipfile

    from dashboards import ClinicStore

    folder = tmp_path / "clinic"
    patient, visits, tests = _clinic_with_two_walks(folder, tmp_path)
    with clinic_app(folder) as (_, url, _lines):
        client = _Browser(url)
        token = client.token(f"/patients/{patient.id}")
        # before/after: the second visit against the first, a report kept in the clinic's files
        location = client.post(f"/patients/{patient.id}/compare",
                               {"csrf": token, "visit_a": str(visits[0].id), "visit_b": str(visits[1].id)})
        assert re.fullmatch(r"/files/[0-9a-f]{64}", location), location
        page, headers = client.get_with_headers(location)
        assert headers["Content-Security-Policy"].startswith("sandbox")
        assert "<html" in page.lower() and "baseline" in page.lower()
        again = client.post(f"/patients/{patient.id}/compare",
                            {"csrf": token, "visit_a": str(visits[0].id), "visit_b": str(visits[1].id)})
        assert again == location  # the same report, not a second one
        # the patient's recordings as one BIDS-motion dataset
        archive = tmp_path / "bids.zip"
        archive.write_bytes(client.get_bytes(f"/patients/{patient.id}/bids"))
        with zipfile.ZipFile(archive) as handle:
            names = handle.namelist()
        assert any(n.endswith("dataset_description.json") for n in names), names
        assert any(n.endswith("participants.tsv") for n in names), names
        runs = sorted(n for n in names if re.search(r"sub-Pexport/.*_run-\d+_.*motion\.tsv$", n))
        assert len(runs) == 2 * 2, names  # two runs, each a left and a right tracking system
        # the whole clinic, backed up and restored into an empty folder: same rows, same files
        backup = tmp_path / "backup.tar"
        backup.write_bytes(client.post_bytes("/backup", {"csrf": token}))
        assert tarfile.is_tarfile(backup)
    restored = tmp_path / "restored"
    with ClinicStore.restore(backup, restored) as store:
        assert [p.pseudonym for p in store.patients()] == ["P-export"]
        assert [v.orthosis for v in store.visits(patient.id)] == ["", "heel cup"]
        for test in tests:
            again_test = store.test(test.id)
            assert (again_test.recording_sha256, again_test.report_sha256) == (test.recording_sha256,
                                                                               test.report_sha256)
            for sha in (test.recording_sha256, test.report_sha256):
                assert hashlib.sha256(store.file_path(sha).read_bytes()).hexdigest() == sha


@pytest.mark.browser
def test_a_report_prints_to_pdf_from_the_visit_page(tmp_path: Path) -> None:
    folder = tmp_path / "clinic"
    _patient, visits, tests = _clinic_with_two_walks(folder, tmp_path)
    with clinic_app(folder) as (_, url, _lines):
        client = _Browser(url)
        assert f'href="/tests/{tests[0].id}/report.pdf"' in client.get(f"/visits/{visits[0].id}")
        pdf = client.get_bytes(f"/tests/{tests[0].id}/report.pdf")
    assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000


def test_a_test_that_cannot_start_as_asked_is_refused_in_one_line_and_stores_nothing(tmp_path: Path) -> None:
    from dashboards import ClinicStore

    folder = tmp_path / "clinic"
    with ClinicStore.open(folder) as store:
        patient = store.add_patient("P-refused")
        visit = store.add_visit(patient.id, visit_date=dt.date(2026, 12, 3))
    refusals = {
        "unknown gait pattern 'moonwalk'": {"test": "10mwt", "source": "emulated", "pattern": "moonwalk"},
        "unknown test": {"test": "marathon", "source": "emulated"},
        "unknown source": {"test": "10mwt", "source": "carrier-pigeon"},
        "shorter than the walkway": {"test": "10mwt", "source": "emulated", "walkway_m": "10", "timed_m": "12"},
        "speed must be between": {"test": "free_walk", "source": "emulated", "speed": "1000"},
    }
    with clinic_app(folder) as (_, url, _lines):
        client = _Browser(url)
        token = client.token(f"/visits/{visit.id}")
        for expected, form in refusals.items():
            status, page = client.post_refused(f"/visits/{visit.id}/runs", {"csrf": token, **form})
            problem = re.search(r'id="problem">(.*?)</p>', page, re.DOTALL)
            assert status == 400 and problem is not None, (form, status)
            shown = html.unescape(problem.group(1))
            assert expected in shown and "\n" not in shown, shown
    with ClinicStore.open(folder, create=False) as store:
        assert store.tests(visit.id) == []


def test_a_generic_csv_is_imported_with_its_uploaded_column_mapping(tmp_path: Path) -> None:
    import numpy as np

    from dashboards import ClinicStore
    from insole.simulate import SimulationParams, simulate

    walk = simulate(SimulationParams(duration_s=20.0, seed=5))
    left, right = walk.samples("left"), walk.samples("right")
    names = [f"L{i}" for i in range(1, 17)] + [f"R{i}" for i in range(1, 17)]
    assert np.array_equal(left.time_s, right.time_s)  # the simulator samples both feet at the same instants
    rows = np.column_stack([left.time_s, left.values, right.values])
    csv = tmp_path / "lab walk.csv"
    np.savetxt(csv, rows, delimiter=",", header="t," + ",".join(names), comments="", fmt="%.4f")
    mapping = tmp_path / "our-lab.toml"  # not named after the data: found only because it was uploaded with it
    mapping.write_text(
        f'sample_rate_hz = {walk.sample_rate_hz:g}\ntime_column = "t"\nunit = "{walk.unit}"\nlayout = "insole16"\n'
        f"left = {names[:16]!r}\nright = {names[16:]!r}\n".replace("'", '"'), encoding="utf-8")
    folder = tmp_path / "clinic"
    with ClinicStore.open(folder) as store:
        patient = store.add_patient("P-csv")
        visit = store.add_visit(patient.id, visit_date=dt.date(2026, 12, 4))
    with clinic_app(folder) as (_, url, _lines):
        client = _Browser(url)
        token = client.token(f"/visits/{visit.id}")
        # without its mapping the CSV cannot be read: one line naming the file, nothing stored
        status, page = client.post_files(f"/visits/{visit.id}/import", {"csrf": token, "test": "free_walk"},
                                         {"file": csv})
        problem = re.search(r'id="problem">(.*?)</p>', page, re.DOTALL)
        assert status == 400 and problem is not None, (status, page[:300])
        assert html.unescape(problem.group(1)).startswith("lab_walk.csv: unknown format"), problem.group(1)
        assert "\n" not in problem.group(1) and "insole-clinic-upload" not in page
        status, location = client.post_files(f"/visits/{visit.id}/import", {"csrf": token, "test": "free_walk"},
                                             {"file": csv, "mapping": mapping})
        assert status == 303 and location.startswith(f"/visits/{visit.id}?notice=imported"), (status, location)
    with ClinicStore.open(folder, create=False) as store:
        tests = store.tests(visit.id)
    assert [t.status for t in tests] == ["done"] and tests[0].original_name == "lab_walk.csv"
    assert tests[0].layout == "insole16"


def test_a_folder_that_is_not_a_clinic_is_refused_in_one_line_and_left_as_it_was(tmp_path: Path) -> None:
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "letter.txt").write_text("dear colleague", encoding="utf-8")
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder", encoding="utf-8")
    for data in (documents, a_file):
        done = subprocess.run([sys.executable, "-m", "insole", "clinic", "--data", str(data), "--port", "0"],
                              cwd=REPO, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("insole clinic: error: ") and done.stderr.count("\n") == 1, done.stderr
        assert str(data.name) in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in documents.iterdir()) == ["letter.txt"]
    assert a_file.read_text(encoding="utf-8") == "not a folder"


def test_the_run_page_names_a_phase_in_words_with_its_instruction() -> None:
    from dashboards._clinic_app._runs import phase_text

    # a phase the protocol names once: its title and what the patient does (insole.clinic's PROTOCOLS)
    assert phase_text("balance", "eyes_open") == "Eyes open: Stand still, look ahead."
    assert phase_text("tug", "sit_to_stand") == "Standing up: Rising from the chair."
    # "standing" begins and ends a 10-metre walk: which one it is cannot be told from the name, so only the name
    assert phase_text("10mwt", "standing") == "standing"
    # a live phase the protocol does not list, and an unknown test: the name in words, never an identifier
    assert phase_text("10mwt", "walking") == "walking"
    assert phase_text("free_walk", "eyes_closed") == "eyes closed"


async def test_a_capture_that_cannot_start_says_why_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    import datetime as dt

    from dashboards._clinic_app._runs import RunOptions, Runs
    from dashboards._clinic_app._store import ClinicStore
    from insole import DeviceError

    async def no_insoles(*_: Any, **__: Any) -> Any:  # what a machine without Bluetooth answers
        raise DeviceError("cannot scan for insoles: no D-Bus system bus here (is BlueZ installed and running?)")

    monkeypatch.setattr(Runs, "_prepare", no_insoles)
    with ClinicStore.open(tmp_path / "clinic") as store:
        visit = store.add_visit(store.add_patient("P-1").id, visit_date=dt.date(2026, 1, 5))

        async def call(method: str, *args: Any, **kwargs: Any) -> Any:
            return getattr(store, method)(*args, **kwargs)

        runs = Runs(call)
        state = await runs.start(visit.id, "10mwt", "insole", RunOptions())
        for _ in range(500):
            if state.status in ("failed", "done"):
                break
            await asyncio.sleep(0.01)
        await runs.close()
        expected = ("the capture failed: cannot scan for insoles: no D-Bus system bus here (is BlueZ installed and "
                    "running?): nothing was captured (no recording was written)")
        assert (state.status, state.message) == ("failed", expected)  # it said the cause twice
        assert store.test(state.test_id).reason == expected


def test_a_moticon_test_page_says_what_it_is_waiting_for(tmp_path: Path) -> None:
    import datetime as dt

    from dashboards._clinic_app._runs import SOURCES, RunState
    from dashboards._clinic_app._server import _environment
    from dashboards._clinic_app._store import ClinicStore
    from insole.capture._sources._moticon_udp import MoticonOptions

    with ClinicStore.open(tmp_path / "clinic") as store:
        visit = store.add_visit(store.add_patient("P-1").id, visit_date=dt.date(2026, 1, 5))
        pages = {}
        for source in ("moticon", "emulated"):
            test = store.begin_capture(visit.id, test="10mwt", source=source)
            state = RunState(test_id=test.id, visit_id=visit.id, test="10mwt", source=source, status="capturing")
            pages[source] = _environment().get_template("run.html").render(
                csrf="t", login=False, running=state, notice="", test=test, visit=visit,
                patient=store.patient(visit.patient_id), state=state, live_url=None)
            store.finish_capture(test.id)  # nothing captured: failed, and the next may begin
    # the clinic app passes no options: its Moticon source listens where insole's does by default
    default = MoticonOptions()
    assert f"{default.host}, port {default.port}" in pages["moticon"] and 'id="source-hint"' in pages["moticon"]
    assert 'id="source-hint"' not in pages["emulated"]
    assert SOURCES["moticon"] == "Moticon OpenGo (the OpenGo software on this computer, streaming over UDP)"
