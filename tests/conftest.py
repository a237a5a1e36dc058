"""Shared test fixtures: where the real data lives, and temporary outputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from ble_fixtures import emulation, private_dbus  # noqa: F401  (BLE fixtures for every test module)
from hypothesis import settings

# Hypothesis' per-example deadline measures speed, which lives in benchmarks/;
# on a loaded 2-core machine it fails correct code as "flaky". Properties only.
settings.register_profile("insole", deadline=None)
settings.load_profile("insole")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
RECORDINGS = REPO / "recordings"
ARTIFACTS = REPO / "tests" / "artifacts"  # screenshots and pages a run leaves for people to look at


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the real datasets are expected at {SHARED_DATA} (../shared beside the repo)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
