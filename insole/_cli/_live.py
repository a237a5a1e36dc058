"""``insole live``: watch a capture in the browser while it runs (page on 127.0.0.1).

The page is served by ``dashboards.LiveServer`` on the capture's event loop;
the capture writes to disk on its own, so closing or reloading the browser
loses nothing. ``--replay FILE`` plays a recording instead of insoles (for
demonstrations, training and tests).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from insole._errors import InsoleError
from insole._io import formats, load

__all__ = ["add_parser"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "live",
        help="live dashboard in the browser: pressure maps, load curves, steps, balance, link quality",
        description=(
            "Serve the live dashboard of a capture on http://127.0.0.1:PORT/: pressure maps on the insole "
            "outline, scrolling load curves with heel strikes and toe offs, centre of pressure, left/right "
            "balance, cadence and link quality, with buttons to start/stop recording, mark events and zero "
            "the sensors. The capture does not depend on the page: closing the browser loses nothing."
        ),
        epilog=(
            "examples:\n"
            "  insole live --replay recordings/moticon_230927_102114.parquet\n"
            "  insole live --replay walk.parquet --out-dir sessions/ --port 8800"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_argument_group("what to watch")
    source.add_argument("--replay", type=Path, metavar="FILE",
                        help="play a recording as if it were live (any supported format)")
    source.add_argument("--format", choices=sorted(formats()), help="force the --replay file's format")
    source.add_argument("--speed", type=float, default=1.0, help="replay speed (1 = real time; default 1)")
    source.add_argument("--once", action="store_true", help="play the replay once instead of looping it")
    source.add_argument("--emulate", action="store_true",
                        help="capture from emulated insoles through the real BLE collector")
    page = parser.add_argument_group("the page")
    page.add_argument("--host", default=None,
                      help="address to serve on (default 127.0.0.1, this machine only); any other address "
                           "lets other machines watch and control the capture")
    page.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    page.add_argument("--fps", type=float, default=30.0, help="frames per second sent to the page (default 30)")
    page.add_argument("--window-s", type=float, default=10.0, help="seconds of load curve shown (default 10)")
    parser.add_argument("--out-dir", type=Path, default=Path("."),
                        help="folder for recordings started from the page (default: current folder)")
    parser.add_argument("--duration-s", type=float, default=None,
                        help="stop after this many seconds (default: run until Ctrl-C)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.replay is None and not args.emulate:
        print("insole live: error: say what to watch: --replay FILE or --emulate", file=sys.stderr)
        return 2
    if args.emulate and args.replay is not None:
        print("insole live: error: choose one of --replay and --emulate", file=sys.stderr)
        return 2
    if args.speed <= 0:
        print("insole live: error: --speed must be positive", file=sys.stderr)
        return 2
    if args.emulate:
        raise InsoleError(
            "live capture from (emulated) insoles needs the BLE collector, which is not available in this "
            "build yet; use --replay FILE"
        )
    recording = load(args.replay, args.format)
    return asyncio.run(_serve_replay(args, recording))


async def _serve_replay(args: argparse.Namespace, recording) -> int:
    from dashboards import LiveServer, ReplaySession, is_loopback
    from insole._live import LiveHub

    host = args.host or "127.0.0.1"
    if args.host is not None and not is_loopback(host):
        print(
            f"insole live: warning: serving on {host}: anyone who can reach this machine on port {args.port} "
            "can watch this session and control the recording",
            file=sys.stderr,
        )
    hub = LiveHub()
    session = ReplaySession(recording, hub, out_dir=args.out_dir, speed=args.speed, loop=not args.once,
                            source_name=args.replay.name)
    meta = recording.meta
    server = LiveServer(
        hub,
        layout=recording.layout,
        unit=recording.unit,
        sample_rate_hz=recording.sample_rate_hz,
        session=session,
        info={
            "subject_id": meta.subject_id,
            "notes": meta.notes,
            "condition": meta.condition,
            "source": f"replay of {args.replay.name}" + (f" at {args.speed:g}x" if args.speed != 1 else ""),
        },
        host=host,
        port=args.port,
        allow_remote=args.host is not None,
        fps=args.fps,
        window_s=args.window_s,
    )
    url = await server.start()
    print(f"insole live: replaying {args.replay.name}; open {url}  (Ctrl-C to stop)", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    feeder = asyncio.create_task(session.run(), name="replay")
    waiters = [asyncio.create_task(stop.wait()), feeder]
    try:
        await asyncio.wait(waiters, timeout=args.duration_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        feeder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feeder  # finishes a running recording (Parquet) before returning
        waiters[0].cancel()
        await server.stop()
    if session.last_saved is not None:
        print(f"insole live: last recording saved to {session.last_saved}", flush=True)
    print("insole live: stopped", flush=True)
    return 0
