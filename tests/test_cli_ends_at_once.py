"""The installed program ends `insole analyze`, `insole info`, `insole report` and `insole dashboard` without the
interpreter's teardown, its output complete.

Python's teardown of the modules these commands import (pandas, pyarrow, numpy) takes 0.075 s of the hour's
`insole analyze` on the 2-core test machine (issue 19); with nothing left to do after the command (its files
closed and published), ``insole._cli.main`` called as the program (without ``argv``) waits for threads that are
not daemons and runs the ``atexit`` functions, as a normal exit does, flushes standard output and error and ends
the process (``os._exit``). Called with
``argv``, as tests and other code do, it returns. What must hold: the same files and the same text out, the same
exit codes, what was registered to run at exit run, standard output flushed even when it is a pipe holding the
whole JSON document.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from insole._cli import main

REPO = Path(__file__).resolve().parents[1]
RECORDING = REPO / "recordings" / "gaitpdb_GaCo01_01_60s.parquet"

# a line from an atexit function and one from the teardown (an object deleted when the interpreter clears its
# modules), then the program as `python -m insole` runs it
MARKERS = (
    "import atexit, runpy, sys\n"
    "atexit.register(lambda: print('atexit ran', file=sys.stderr))\n"
    "class Marker:\n"
    "    def __del__(self):\n"
    "        sys.stderr.write('teardown ran\\n')\n"
    "marker = Marker()\n"
    "sys.argv = ['insole', *sys.argv[1:]]\n"
)
PROGRAM = MARKERS + "runpy.run_module('insole', run_name='__main__', alter_sys=True)\n"
# a script of its own that calls main() (a profiler's, say): main returns to it
SCRIPT = MARKERS + "from insole._cli import main\ncode = main()\nprint('main returned', code)\nsys.exit(code)\n"


def _program(*args: str, code: str = PROGRAM) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)


def test_analyze_ends_at_once_with_the_same_output(tmp_path: Path, capsys) -> None:
    done = _program("analyze", str(RECORDING), "--json", str(tmp_path / "program.json"))
    assert done.returncode == 0
    assert "teardown ran" not in done.stderr and "atexit ran" in done.stderr  # no teardown, atexit kept
    assert main(["analyze", str(RECORDING), "--json", str(tmp_path / "called.json")]) == 0  # returns when called
    printed = capsys.readouterr().out
    assert done.stdout == printed.replace(str(tmp_path / "called.json"), str(tmp_path / "program.json"))
    assert (tmp_path / "program.json").read_bytes() == (tmp_path / "called.json").read_bytes()


def test_a_whole_json_document_on_standard_output_is_flushed_before_the_end() -> None:
    done = _program("analyze", str(RECORDING), "--json", "-")
    assert done.returncode == 0 and "teardown ran" not in done.stderr
    document = json.loads(done.stdout)  # complete: nothing left in the buffer
    assert document["schema"] == "insole.analysis" and document["strides"]["left"]


def test_info_ends_at_once_and_bad_input_keeps_its_exit_code(tmp_path: Path) -> None:
    done = _program("info", str(RECORDING))
    assert done.returncode == 0 and "teardown ran" not in done.stderr and done.stdout.strip()
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    refused = _program("analyze", str(empty), "--json", str(tmp_path / "out.json"))
    assert refused.returncode == 2
    assert refused.stderr.splitlines()[0].startswith("insole analyze: error:") and "empty" in refused.stderr
    assert refused.stderr.splitlines()[1:] == ["atexit ran"] and not (tmp_path / "out.json").exists()


def test_threads_that_are_not_daemons_are_waited_for_as_at_a_normal_exit(tmp_path: Path) -> None:
    # a worker that finishes only once the exit has begun (as an executor's worker is told to stop by threading's
    # exit hook): the process must wait for it, as Python's own exit does
    worker = (
        "import threading, time\n"
        "stop = threading.Event()\n"
        "def work():\n"
        "    stop.wait()\n"
        "    time.sleep(0.2)\n"
        "    sys.stderr.write('worker finished\\n')\n"
        "threading.Thread(target=work).start()\n"
        "threading._register_atexit(stop.set)\n"
    )
    code = PROGRAM.replace("runpy.run_module", worker + "runpy.run_module")
    done = _program("analyze", str(RECORDING), "--json", str(tmp_path / "out.json"), code=code)
    assert done.returncode == 0 and "worker finished" in done.stderr and "teardown ran" not in done.stderr


def test_a_script_that_calls_main_gets_control_back(tmp_path: Path) -> None:
    done = _program("analyze", str(RECORDING), "--json", str(tmp_path / "out.json"), code=SCRIPT)
    assert done.returncode == 0 and done.stdout.endswith("main returned 0\n")
    assert "teardown ran" in done.stderr and "atexit ran" in done.stderr


def test_the_installed_command_ends_at_once(tmp_path: Path) -> None:
    command = Path(sys.executable).with_name("insole")
    if not command.is_file():
        pytest.skip(f"no installed insole command beside {sys.executable}")
    done = subprocess.run([str(command), "analyze", str(RECORDING), "--json", str(tmp_path / "out.json")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.endswith(f"JSON written to {tmp_path / 'out.json'}\n")
    assert json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))["strides"]["left"]


def test_other_commands_and_help_keep_the_interpreters_own_exit() -> None:
    for args in (("--version",), ("analyze", "--help"), ("convert", "--help")):
        done = _program(*args)
        assert done.returncode == 0 and "teardown ran" in done.stderr and "atexit ran" in done.stderr, args


def _ours_left() -> set[str]:
    """The PDF printer's throwaway folders (``insole-pdf-*``) in the places it uses, and the processes whose command
    line names one: a started browser and its profile, which an ending without teardown must not leave behind."""
    import tempfile

    folders = {str(p) for where in ("/dev/shm", tempfile.gettempdir()) for p in Path(where).glob("insole-pdf-*")}
    processes = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout.splitlines()
    return folders | {line.split(None, 1)[0] for line in processes if "insole-pdf-" in line and "ps -eo" not in line}


def test_report_with_a_pdf_ends_at_once_and_leaves_no_browser_or_folder(tmp_path: Path) -> None:
    """`insole report --pdf` starts Chromium ahead of the print (insole/report/_pdf.py) and stops it, and removes its
    profile folder, in what it registered to run at exit: ending without teardown (0.1-0.2 s of the command) keeps
    that, and the PDF is whole."""
    from shutil import which

    if which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    before = _ours_left()
    done = _program("report", str(RECORDING), "--out", str(tmp_path / "r.html"), "--pdf", str(tmp_path / "r.pdf"))
    assert done.returncode == 0, done.stderr
    assert "teardown ran" not in done.stderr and "atexit ran" in done.stderr
    text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True).stdout
    assert "Key numbers" in text and "References" in text  # the whole page, printed
    assert _ours_left() - before == set()


def test_dashboard_ends_at_once_with_its_page_written(tmp_path: Path) -> None:
    done = _program("dashboard", str(RECORDING), "--out", str(tmp_path / "d.html"))
    assert done.returncode == 0, done.stderr
    assert "teardown ran" not in done.stderr and "atexit ran" in done.stderr
    assert (tmp_path / "d.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
