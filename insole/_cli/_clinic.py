"""``insole clinic``: the clinic app, a local web app of patients, visits, tests, reports and progress.

Serves ``dashboards``' clinic app on 127.0.0.1 (another address only with
``--host``, and then behind a login) over one clinic folder (``--data``): the
SQLite database and every recording and report it manages. Ctrl-C stops it;
a test still running is stopped and stored first. A capture killed with the
app is recovered into its visit at the next start.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from insole._cli import UsageError
from insole._cli._arguments import add_examples_command

__all__ = ["add_parser", "run", "DEFAULT_PORT", "DEMO_PSEUDONYM"]

DEFAULT_PORT = 8780
DEMO_PSEUDONYM = "DEMO-01"
PASSWORD_ENV = "INSOLE_CLINIC_PASSWORD"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = add_examples_command(
        subparsers,
        "clinic",
        help="the clinic app: patients, visits, live tests, reports and progress in one local web app",
        description=(
            "Serve the clinic app in the browser: patients (pseudonyms only), their visits (what was worn, "
            "pain scores, notes), tests run from the app (emulated or real insoles, with the live page) or "
            "imported from a file, each with its report, and each patient's progress: a change between visits "
            "is marked only when it is larger than the measure's minimal detectable change. Everything lives in "
            "one folder (--data): a SQLite database and the recordings and reports, content-hashed. The app "
            "serves this machine only (127.0.0.1) unless --host says otherwise; then a login password is "
            "required ($INSOLE_CLINIC_PASSWORD, or set at the first start)."
        ),
        examples=(
            "insole clinic",
            "insole clinic --data ~/clinic --port 8780",
            "insole clinic --demo --open --data /tmp/demo-clinic",
            "insole clinic --host 0.0.0.0 --data ~/clinic   # other machines too: asks for a password once",
            "insole clinic --restore clinic-backup.tar --data ~/clinic-restored",
        ),
    )
    parser.add_argument("--data", type=Path, default=None, metavar="DIR",
                        help="the clinic folder (created if absent; default ~/insole-clinic, or $INSOLE_CLINIC_DATA)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port (0 = any free port; default {DEFAULT_PORT})")
    parser.add_argument("--host", default=None,
                        help="address to serve on (default 127.0.0.1; any other is reachable from other machines "
                             "and needs a login)")
    parser.add_argument("--demo", action="store_true",
                        help=f"add a demo patient ({DEMO_PSEUDONYM}) with two visits, each with a simulated "
                             "10-metre walk (once; nothing when it is there already)")
    parser.add_argument("--open", action="store_true",
                        help="open the app in this computer's web browser once it is serving")
    parser.add_argument("--restore", type=Path, default=None, metavar="ARCHIVE",
                        help="restore a backup archive (downloaded from the app's Backup page) into --data, which "
                             "must be empty or absent, then serve it")
    parser.add_argument("--set-password", action="store_true",
                        help="set (or change) the login password of --host at this terminal, then serve")
    parser.set_defaults(func=run)


def data_folder(given: Path | None) -> Path:
    if given is not None:
        return given.expanduser()
    named = os.environ.get("INSOLE_CLINIC_DATA")
    return Path(named).expanduser() if named else Path.home() / "insole-clinic"


def run(args: argparse.Namespace) -> int:
    import asyncio

    from dashboards import is_loopback

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {args.port}")
    folder = data_folder(args.data)
    host = args.host or "127.0.0.1"
    remote = args.host is not None and not is_loopback(host)
    if args.restore is not None:
        _restore(args.restore, folder)
    login = _login(folder, remote=remote, set_password=args.set_password)
    if remote:
        print(f"insole clinic: warning: serving on {host}: other machines can reach the app (login required); "
              "the traffic is not encrypted, so use it only on a network you trust", file=sys.stderr)
    from insole import InsoleError

    try:
        return asyncio.run(_serve(folder, host, args.port, allow_remote=args.host is not None, login=login,
                                  demo=args.demo, open_browser=args.open))
    except InsoleError as error:  # the folder, the port or the login as given cannot be used: the user's to fix
        raise UsageError(str(error)) from None


def _restore(archive: Path, folder: Path) -> None:
    from dashboards import ClinicStore
    from insole import InsoleError

    try:
        store = ClinicStore.restore(archive, folder)
    except InsoleError as error:  # no such archive, a damaged one, a folder not empty: the user's to fix
        raise UsageError(str(error)) from None
    store.close()
    print(f"insole clinic: restored {archive} into {folder}", flush=True)


def _login(folder: Path, *, remote: bool, set_password: bool) -> Any:
    """The password check for a remote app (None on loopback): $INSOLE_CLINIC_PASSWORD, or the folder's own."""
    import getpass

    from dashboards import ClinicLogin
    from insole import InsoleError

    if not remote and not set_password:
        return None
    try:
        login = ClinicLogin(folder, env_password=os.environ.get(PASSWORD_ENV))
        if set_password or not login.ready:
            if not sys.stdin.isatty():
                raise UsageError(f"serving other machines needs a login password: set ${PASSWORD_ENV}, or run "
                                 "'insole clinic --set-password' once at a terminal")
            print(f"insole clinic: choose the login password (at least 8 characters); it is kept as a salted "
                  f"hash in {login.path}", flush=True)
            first = getpass.getpass("password: ")
            if first != getpass.getpass("again: "):
                raise UsageError("the two passwords differ; nothing was set")
            login.set_password(first)
    except InsoleError as error:
        raise UsageError(str(error)) from None
    return login if remote else None


async def _serve(folder: Path, host: str, port: int, *, allow_remote: bool, login: Any, demo: bool,
                 open_browser: bool = False) -> int:
    import asyncio

    from dashboards import serve_clinic
    from insole._cli._device_options import stop_on_signals

    stop = asyncio.Event()

    def ready(url: str, recovered: list[Any]) -> None:
        for test in recovered:
            print(f"insole clinic: recovered test {test.id} ({test.test}) into visit {test.visit_id}: {test.status}"
                  f"{' - ' + test.reason if test.reason else ''}", flush=True)
        print(f"insole clinic: serving {folder} on {url} (Ctrl-C to stop)", flush=True)
        reachable = reachable_urls(url)
        if reachable != [url]:  # bound to every address: 0.0.0.0 is no address a browser can go to
            print(f"insole clinic: open {reachable[0]} on this computer"
                  + (f", {' or '.join(reachable[1:])} from other computers" if reachable[1:] else ""), flush=True)
            url = reachable[0]
        if open_browser:
            import webbrowser

            if not webbrowser.open(url):
                print(f"insole clinic: no web browser could be opened here; open {url} yourself", flush=True)

    with stop_on_signals(lambda name: stop.set()):
        await serve_clinic(folder, host=host, port=port, allow_remote=allow_remote, login=login, on_ready=ready,
                           stop=stop, prepare=add_demo_patient if demo else None)
    print("insole clinic: stopped", flush=True)
    return 0


def reachable_urls(url: str) -> list[str]:
    """The addresses a browser can use for an app served at ``url``: ``url`` itself, unless it names every
    address (0.0.0.0, [::]); then this computer's own (127.0.0.1) first, then its address on the network (the
    one its traffic leaves by; found without sending anything), when it has one."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.hostname not in ("0.0.0.0", "::"):
        return [url]
    port = parts.port
    out = [f"http://127.0.0.1:{port}/"]
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: a UDP "connect" only picks the route, sends nothing
            own = str(probe.getsockname()[0])
    except OSError:  # no network at all
        own = ""
    if own and not own.startswith("127.") and own != "0.0.0.0":
        out.append(f"http://{own}:{port}/")
    return out


def add_demo_patient(store: Any) -> None:
    """The demo patient: two visits (shoes; shoes with an orthosis), each with a simulated 10-metre walk."""
    import datetime as dt
    import tempfile

    from insole.io import write_parquet
    from insole.simulate import simulate_clinic_test

    if store.run("count_patients", DEMO_PSEUDONYM, include_archived=True):
        return
    patient = store.run("add_patient", DEMO_PSEUDONYM, birth_year=1961, sex="female", height_m=1.66, mass_kg=70.0,
                        notes="A simulated patient (insole's gait simulator), not a real person.")
    today = dt.date.today()
    plan = (
        (today - dt.timedelta(days=42), "", "antalgic", "first visit: heel pain on the right"),
        (today - dt.timedelta(days=7), "custom insole with heel cup", "normal", "six weeks with the orthosis"),
    )
    with tempfile.TemporaryDirectory(prefix="insole-clinic-demo-") as work:
        for n, (date, orthosis, pattern, notes) in enumerate(plan, start=1):
            visit = store.run("add_visit", patient.id, visit_date=date, footwear="shoes", orthosis=orthosis,
                              pain_scores={"heel": 6 if n == 1 else 2}, notes=notes)
            recording = simulate_clinic_test("10mwt", seed=n, pattern=pattern, body_mass_kg=70.0)
            path = Path(work) / f"demo-visit-{n}-10mwt.parquet"
            write_parquet(recording, path)
            store.run("import_recording", visit.id, path, test="10mwt")
    print(f"insole clinic: added the demo patient {DEMO_PSEUDONYM} (two visits)", flush=True)
