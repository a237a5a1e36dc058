"""Where the pages' own files are: the static folder and the plotly.js the installed plotly package ships.

Kept apart from the live server so the offline dashboard finds them without importing aiohttp.
"""

from __future__ import annotations

from pathlib import Path

from insole import InsoleError

__all__ = ["STATIC_DIR", "plotly_js_path"]

STATIC_DIR = Path(__file__).resolve().parent / "_static"


def plotly_js_path() -> Path:
    """plotly.min.js as shipped inside the installed plotly package (no CDN, ever)."""
    import plotly

    path = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
    if not path.is_file():  # pragma: no cover - a broken plotly install
        raise InsoleError(f"plotly.min.js is missing from the plotly package ({path})")
    return path
