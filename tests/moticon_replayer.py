"""Replay a real Moticon OpenGo text export as the desktop's UDP stream, with faults.

Each row of the export becomes one datagram of 51 numbers in the stream's
field order (timestamp; per foot acceleration, angular rate, centre of
pressure, 16 pressures, total force: ``insole.capture._sources._moticon_decode``),
the numbers written exactly as the export spells them, ``nan`` where the
export has an empty field. Rows are sent at their real times (the export's
time column, divided by ``speed``) to ``host:port``.

Faults, all by row index (0 = the first row replayed):

* ``drops``: rows never sent;
* ``duplicates``: rows sent twice in a row;
* ``swaps``: row ``i`` sent after row ``i + 1`` (a reordering by one);
* ``pause``: ``(row, seconds)``: a drop-out: from that row on, ``seconds``
  of export time are not sent (counted in ``dropped``), then the stream goes on.

``dropped`` lists every row not sent (drops and the pause), so a test can
check that exactly those are gaps in the recording.

Usage (the acceptance run, beside ``insole record --source moticon``)::

    python tests/moticon_replayer.py ../shared/data/moticon-opengo/230927_102114.txt --port 8888
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

# the stream's field order, by the export's column names (never by position: the orders differ)
_FOOT_FIELDS = (
    [f"acceleration {a}[g]" for a in "XYZ"]
    + [f"angular {a}[dps]" for a in "XYZ"]
    + [f"center of pressure {a}[" for a in "XY"]
    + [f"pressure {k}[" for k in range(1, 17)]
    + ["total force["]
)


@dataclass
class ExportRows:
    """The export's rows as datagram texts: ``time_s[i]`` and ``fields[i]`` (51 strings)."""

    time_s: list[float]
    fields: list[list[str]]


def read_export(path: Path) -> ExportRows:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = [line for line in lines if line.startswith("#")]
    names = [n.strip() for n in header[-1].lstrip("#").strip().split("\t")]
    lowered = [n.lower() for n in names]

    def column(side: str, what: str) -> int:
        prefix = f"{side} {what}".lower()
        hits = [k for k, n in enumerate(lowered) if n.startswith(prefix)]
        if len(hits) != 1:
            raise ValueError(f"{path}: no single column named {prefix!r}...")
        return hits[0]

    order = [0] + [column(side, what) for side in ("left", "right") for what in _FOOT_FIELDS]
    time_s: list[float] = []
    fields: list[list[str]] = []
    for line in lines[len(header) :]:
        if not line:
            continue
        cells = line.split("\t")
        time_s.append(float(cells[0]))
        fields.append([cells[k].strip() or "nan" for k in order])
    return ExportRows(time_s, fields)


def datagram(fields: list[str], time_unit_s: float = 1.0) -> bytes:
    """One datagram: the fields as written, the timestamp in ``time_unit_s`` units."""
    stamp = fields[0] if time_unit_s == 1.0 else repr(round(float(fields[0]) / time_unit_s, 6))
    return " ".join([stamp, *fields[1:]]).encode("ascii")


@dataclass
class MoticonReplayer:
    """Send rows ``first_row .. first_row + n_rows - 1`` of an export to ``host:port`` (see the module docstring)."""

    export: Path
    port: int
    host: str = "127.0.0.1"
    speed: float = 1.0
    first_row: int = 0
    n_rows: int | None = None
    drops: Iterable[int] = ()
    duplicates: Iterable[int] = ()
    swaps: Iterable[int] = ()
    pause: tuple[int, float] | None = None
    time_unit_s: float = 1.0
    lead_in_s: float = 0.0
    rows: ExportRows = field(init=False)
    dropped: set[int] = field(init=False, default_factory=set)
    sent: list[int] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        every = read_export(Path(self.export))
        end = len(every.time_s) if self.n_rows is None else self.first_row + self.n_rows
        self.rows = ExportRows(every.time_s[self.first_row : end], every.fields[self.first_row : end])

    def schedule(self) -> list[tuple[float, int]]:
        """``(send at, s after the start; row)`` in sending order, faults applied; fills ``dropped``."""
        times = self.rows.time_s
        n = len(times)
        dropped = {r for r in self.drops if 0 <= r < n}
        if self.pause is not None:
            row, seconds = self.pause
            dropped |= {r for r in range(row, n) if times[r] < times[row] + seconds}
        order = [r for r in range(n) if r not in dropped]
        for r in sorted(set(self.swaps)):
            if r in order and r + 1 in order:
                i = order.index(r)
                if order[i + 1] == r + 1:
                    order[i], order[i + 1] = order[i + 1], order[i]
        plan: list[tuple[float, int]] = []
        duplicated = set(self.duplicates)
        for r in order:
            at = (times[r] - times[0]) / self.speed
            plan.append((max(at, plan[-1][0]) if plan else at, r))
            if r in duplicated:
                plan.append((plan[-1][0], r))
        self.dropped = dropped
        return plan

    def run_blocking(self) -> None:
        """Send the schedule in real time (from now + ``lead_in_s``), in the calling thread.

        A test runs this in its own thread (``await replayer.run()``), so that the
        sender keeps its times while the collector's event loop is busy, as the
        desktop would.
        """
        plan = self.schedule()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            start = time.monotonic() + self.lead_in_s
            for at, row in plan:
                delay = start + at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                sock.sendto(datagram(self.rows.fields[row], self.time_unit_s), (self.host, self.port))
                self.sent.append(row)
        finally:
            sock.close()

    async def run(self) -> None:
        """:meth:`run_blocking` in a worker thread."""
        await asyncio.to_thread(self.run_blocking)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="replay a Moticon OpenGo text export as its desktop's UDP stream")
    parser.add_argument("export", type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--lead-in", type=float, default=2.0, help="seconds to wait before the first datagram")
    parser.add_argument("--drop", type=int, nargs="*", default=[], metavar="ROW")
    parser.add_argument("--duplicate", type=int, nargs="*", default=[], metavar="ROW")
    parser.add_argument("--swap", type=int, nargs="*", default=[], metavar="ROW")
    parser.add_argument("--pause", nargs=2, type=float, default=None, metavar=("ROW", "SECONDS"))
    args = parser.parse_args(argv)
    replayer = MoticonReplayer(
        args.export, args.port, host=args.host, speed=args.speed, drops=args.drop, duplicates=args.duplicate,
        swaps=args.swap, pause=None if args.pause is None else (int(args.pause[0]), args.pause[1]),
        lead_in_s=args.lead_in,
    )  # fmt: skip
    replayer.run_blocking()
    print(
        f"sent {len(replayer.sent)} datagrams of {len(replayer.rows.time_s)} rows; "
        f"dropped rows: {sorted(replayer.dropped)}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
