"""The public surfaces are pinned, and no code reaches into another package's private modules.

Each public package's ``__all__`` is pinned exactly: adding or removing a
name is a decision, made here in the same commit. A module whose name starts
with ``_`` belongs to the package it sits in; only that package's own code,
and the tests of that package's internals, import it.
"""

from __future__ import annotations

import ast
import importlib
from fnmatch import fnmatch
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

SURFACES: dict[str, list[str]] = {
    "insole": [
        "Analysis", "AnalysisError", "AnalysisParams", "ClinicError", "DeviceError", "FootSamples", "InputError",
        "InsoleError", "MalformedFileError", "Mark", "MissingCompanionError", "OutputError", "ProtocolError",
        "Recording", "RecordingError", "RecordingMeta", "RecordingStreamWriter", "ReferenceEvents", "SensorLayout",
        "SimulationParams", "UnknownFormatError", "__version__", "analysis", "analyze", "batch", "builtin_layouts",
        "capture", "clinic", "formats", "get_layout", "io", "load", "plot", "read_parquet", "recover", "report",
        "simulate", "write_parquet",
    ],
    "insole.io": [
        "BidsExportParams", "Importer", "RecordingStreamWriter", "analysis_tables", "c3d_events_note",
        "default_parquet_path",
        "detect_format", "footprint_table", "formats", "load", "load_with_mapping", "provenance", "read_bids",
        "read_c3d_analogs", "read_c3d_events", "read_parquet", "read_stream", "recover", "sensor_columns",
        "spreadsheet_safe", "write_bids", "write_c3d", "write_csv", "write_parquet", "write_tables",
    ],
    "insole.analysis": [
        "Analysis", "AnalysisParams", "BodyWeight", "Contacts", "FootEvents", "FootLoads", "FootTiming",
        "GridGeometry", "JSON_SCHEMA_VERSION", "LEAN_SCHEMA_VERSION", "ROBUST_CV_ZERO_PCT", "SENSOR_MAPS",
        "SIGNED_METRICS",
        "STANDARD_GRAVITY_M_S2", "SensorChecks", "SensorFlag", "StanceFeatures", "Summary", "ZeroOffset",
        "analyze", "apply_zero_offset", "arch_index", "body_weight", "butter_lowpass_sos", "check_sensors",
        "contact_area_mm2",
        "cop_ml_assessable", "cop_path", "detect_contacts", "detect_events", "event_method", "find_zero_offset",
        "finish_loads",
        "foot_loads", "footprint", "force_n", "grid_image", "grid_layout", "hysteresis", "is_grid",
        "lowpass_by_segment", "metric_unit", "peak_pressure_map", "prepare_foot",
        "pressure_time_integral_map", "remove_offset", "robust_cv_is_zero", "robust_cv_pct", "sensor_map_columns",
        "stance_features",
        "stride_timing", "summarise", "symmetry_index_pct", "write_json", "zero_phase",
    ],
    "insole.report": [
        "CODES", "FindingParams", "PdfError", "REPORT_SCHEMA", "REPORT_SCHEMA_VERSION", "ReferenceSet", "Report",
        "SECTIONS", "build_reference_sets", "build_report", "discard_prestarted_pdf", "evaluate",
        "load_reference_sets", "prestart_pdf", "print_pdf", "render_html", "session_from_analysis",
        "timing_variability", "walk_identity", "write_html", "write_reference_sets", "write_report",
    ],
    "insole.plot": [
        "BUTTERFLY_ASSUMPTIONS", "SIDE_COLOURS", "SYMMETRY_METRICS", "cop_paths", "force_curves", "load_maps",
        "region_shares", "stride_times", "symmetry_indices", "unavailable",
    ],
    "insole.capture": [
        "CaptureParams", "CaptureResult", "CaptureSession", "ClockEstimator", "FootTimeline", "FoundInsole",
        "InsoleSelector", "LinkStatus", "LiveHub", "OrpheEnvironment", "OrpheSpec", "SampleBlock", "SessionEvent",
        "SessionStatus", "StoppedBeforeRecording", "TimeAxis", "capture_session", "format_capture_quality",
        "layout_for_source", "orphe_faults_from_plan", "orphe_rate_hz", "scan_insoles", "select_insoles",
    ],
    "insole.clinic": [
        "FeetPath", "GuidedControl", "GuidedTest", "MAIN_MEASURES", "PROTOCOLS", "SOURCES", "TESTS", "TIME_LIMIT_S",
        "TestInputs", "TestResult", "compare_over_time", "feet_path", "protocol", "run_test",
    ],
    "insole.batch": [
        "BatchResult", "Candidate", "CohortParams", "Discovery", "EngineError", "EngineSpec", "Job", "TIMING_COLUMNS",
        "analyse_job", "cohort_page", "compare_cohort", "discover", "join_groups", "metric_columns", "output_paths",
        "read_cohort",
        "read_groups", "refuse_missing_inputs", "refuse_recording", "run_batch",
    ],
    "insole.simulate": [
        "Activity", "CLINIC_TESTS", "FAST_PACE", "FOOTSWITCH_FAILURES", "FootswitchParams", "PATTERNS",
        "PATTERN_DESCRIPTIONS", "SIMULATOR_SOURCE", "SimulationParams", "sample_source", "simulate",
        "simulate_clinic_test", "simulate_footswitch",
    ],
    "dashboards": [
        "CaptureControl", "ClinicLogin", "ClinicStore", "DashboardParams", "LiveServer", "LiveServerError",
        "MAX_MARK_LABEL_CHARS", "ReplaySession", "SessionControl", "build_dashboard", "is_loopback", "make_demo_clinic",
        "serve_clinic", "write_dashboard",
    ],
    "firmware_protocol": [
        "ACCEL_CODES_PER_G", "ADVERTISING_INTERVAL_MS", "BATTERY_LEVEL_UUID", "BATTERY_SERVICE_UUID", "CCCD_UUID",
        "CODES_PER_KPA", "COMPANY_ID", "CONTROL_CHAR_UUID", "CharacteristicSpec", "ClockReply", "Command",
        "CrcMismatchError", "DATA_CHAR_UUID", "DBUS_SYSTEM_BUS_ADDRESS", "DEVICE_INFORMATION_SERVICE_UUID",
        "EmulatedEnvironment", "EmulatedInsole", "EmulatedPeripheral", "EmulationSetupError", "FAULT_SPEC_HELP",
        "FIRMWARE_REVISION_UUID",
        "FaultPlan", "Foot", "GATT_TABLE", "GYRO_CODES_PER_DPS", "GetInfo", "INSOLE_SERVICE_UUID", "Identify",
        "InfoReply", "InsoleSpec", "LOCAL_NAME_PREFIX", "MANUFACTURER_NAME", "MANUFACTURER_NAME_UUID",
        "MAX_PACKET_SIZE", "MODEL_NUMBER", "MODEL_NUMBER_UUID", "ManufacturerData", "Message", "N_IMU_AXES",
        "N_SENSORS", "Opcode", "PREFERRED_ATT_MTU", "PRESSURE_KPA_PER_CODE", "PROTOCOL_VERSION", "PrivateBus",
        "Properties", "ProtocolError", "ReadClock", "Reply", "ReplyMessage", "SAMPLE_RATES_HZ", "SATURATED_CODE",
        "SERIAL_NUMBER_UUID", "SamplePacket", "SampleSource", "ServiceSpec", "SetSampleRate", "StartStreaming",
        "Status", "StatusFlags", "StopStreaming", "Tare", "bad_command_reply", "crc16_ccitt_false", "decode_command",
        "decode_manufacturer_data", "decode_notification", "decode_reply", "decode_sample_packet", "encode",
        "encode_advertising_data", "encode_command", "encode_manufacturer_data", "encode_reply",
        "encode_sample_packet", "encode_scan_response", "local_name", "max_samples_per_packet", "min_att_mtu",
        "packet_size", "parse_fault_spec", "parse_local_name", "serial_number_string", "source_from_arrays",
        "synthetic_walking_source", "uuid16",
    ],
}

SCANNED = ("insole", "dashboards", "benchmarks", "tests", "docs/scripts")
OUR_PACKAGES = ("insole", "dashboards", "firmware_protocol")

# The tests of a package's internals, by file name: they may import that package's private modules.
# Keys are the private module's owner (the package it sits in), or the private module itself.
INTERNAL_TESTS: dict[str, tuple[str, ...]] = {
    # test_core_identity pins every stage's helpers against the code they replaced, bit for bit; test_streamed_analysis
    # analyses the same file with the feet side by side and one after the other
    # (test_events_levels and test_events_gaps hold the event helpers to the whole-array forms they replaced)
    "insole.analysis": ("test_analysis_*", "test_lean_outputs.py", "test_core_identity.py",
                        "test_core_speed_helpers.py", "test_streamed_analysis.py", "test_events_levels.py",
                        "test_events_gaps.py"),
    # test_views_agree reads each view's own rows (report, page, CLI text) to compare them with the analysis
    "insole.report": ("test_report_*", "test_findings_*", "test_evidence_table.py", "test_visual_checks.py",
                      "test_views_agree.py", "test_validate_findings.py"),
    # the batch's findings columns against the report's, on the same files
    "insole.batch._findings": ("test_report_agree_batch.py",),
    "insole.capture": ("test_capture_*", "test_source_*", "test_recover_*", "test_crash_safety.py",
                       "test_ble_emulation.py", "test_clinic_app.py"),
    # the C firmware's test drives a BLE capture through the collector, as the capture tests do
    "insole.capture._collector": ("test_protocol_c.py",),
    "insole.clinic": ("test_clinic_*",),
    "insole.batch": ("test_batch.py", "test_batch_*"),
    # the clinic app's store, its web app and their safety suites
    "dashboards": ("test_dashboard_*", "test_clinic_store.py", "test_clinic_backup.py", "test_clinic_recovery.py",
                   "test_clinic_app.py", "test_clinic_app_*.py"),
    "firmware_protocol": ("test_protocol_*", "test_ble_*", "test_capture_stop.py"),
    # the command line's own tests, and the refusal suites that drive every command in-process
    "insole._cli": ("test_cli_*", "test_output_policy.py", "test_export_safety.py", "test_importer_refusals.py",
                    "test_lean_outputs.py", "test_streamed_analysis.py", "test_capture_stop.py",
                    "test_clinic_backup.py", "test_clinic_app.py", "test_clinic_app_security.py",
                    "test_views_agree.py", "test_report_review_fixes.py", "test_report_new_user.py",
                    "test_dashboard_s10.py"),
    # (test_cli_s8_info_streamed writes files in small row groups through the writer's own options)
    "insole.io._format": ("test_cli_s8_info_streamed.py",),
    "insole.io": ("test_format*.py", "test_importers*", "test_importer_refusals.py", "test_fuzz_importers.py",
                  "test_vendor_importers.py", "test_exports.py", "test_export_safety.py", "test_time_axis.py"),
    "insole.simulate": ("test_simulate*",),
    # the atomic writer every command's output goes through, tested with the commands that use it
    "insole._output": ("test_cli_new_user.py",),
    # the data model (layouts, recordings, errors) is tested on its own
    "insole._layout": ("test_core_model.py",),
    # the switch interval the streamed analysis lowers while pandas is imported beside it, and gives back
    "insole._lazy": ("test_analysis_bounded_memory.py",),
    "insole._recording": ("test_core_model.py",),
    # (test_bad_input: the one-printable-line rule for any error, as the batch's errors table takes it)
    "insole._errors": ("test_core_model.py", "test_bad_input.py"),
}

# Imports of private modules from outside their package that exist today. Each is to be replaced by the
# public name (``insole.InsoleError``, ``insole.Recording``, ``insole.get_layout``, ``insole.__version__``)
# or, for the command line, moved into a ``test_cli_*`` file; the test fails when one is fixed and still
# listed, so this list only shrinks.
KNOWN_EXCEPTIONS: frozenset[tuple[str, str]] = frozenset({
    # insole._cli
    ("tests/test_analysis_gaps_and_sets.py", "insole._cli"),
    ("tests/test_ble_units.py", "insole._cli"),
    ("tests/test_capture_cli.py", "insole._cli"),
    ("tests/test_exports.py", "insole._cli"),
    ("tests/test_report_html.py", "insole._cli"),
    ("tests/test_simulate.py", "insole._cli"),
    ("tests/test_vendor_importers.py", "insole._cli"),
    # insole._errors
    ("tests/test_analysis_units.py", "insole._errors"),
    # insole._layout
    ("tests/test_report_findings.py", "insole._layout"),
})


def _private_module(module: str) -> str | None:
    """``insole.analysis._pipeline.x`` -> ``insole.analysis._pipeline``; None for a public path or not ours."""
    parts = module.split(".")
    if parts[0] not in OUR_PACKAGES:
        return None
    for i, part in enumerate(parts):
        if part.startswith("_") and not (part.startswith("__") and part.endswith("__")):
            return ".".join(parts[:i + 1])
    return None


def _imported_modules(tree: ast.AST) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(tree):  # imports inside functions count too
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)  # ``from pkg import _private``
    return out


# Maintenance scripts that build a package's own data files (``make references``, ``make validate``)
# from its internals, by file name.
MAINTENANCE_SCRIPTS: dict[str, tuple[str, ...]] = {
    "insole.report": ("rebuild_references.py", "validate_findings.py", "build_norms.py"),
}


def _allowed(path: Path, private: str) -> bool:
    owner = private.rsplit(".", 1)[0]
    relative = path.relative_to(REPO)
    if relative.parts[:len(owner.split("."))] == tuple(owner.split(".")):
        return True  # the package's own code
    if relative.parts[:2] == ("docs", "scripts") and path.name in MAINTENANCE_SCRIPTS.get(owner, ()):
        return True
    if relative.parts[0] == "tests" and len(relative.parts) == 2:
        patterns = INTERNAL_TESTS.get(private, ()) + INTERNAL_TESTS.get(owner, ())
        return any(fnmatch(path.name, pattern) for pattern in patterns)
    return False


def private_imports() -> set[tuple[str, str]]:
    """(file, private module) for every import of a private module from outside where it may be used."""
    found = set()
    for root in SCANNED:
        for path in sorted((REPO / root).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for module in _imported_modules(tree):
                private = _private_module(module)
                if private is not None and not _allowed(path, private):
                    found.add((path.relative_to(REPO).as_posix(), private))
    return found


@pytest.mark.parametrize("package", sorted(SURFACES))
def test_public_surface_is_pinned_and_every_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    assert sorted(module.__all__) == SURFACES[package]
    assert len(set(module.__all__)) == len(module.__all__), "a name listed twice"
    for name in module.__all__:
        assert not name.startswith("_") or (name.startswith("__") and name.endswith("__")), name
        assert getattr(module, name) is not None, name


def test_no_code_imports_another_package_private_module() -> None:
    found = private_imports()
    assert found - KNOWN_EXCEPTIONS == set(), "import the public name instead"
    assert KNOWN_EXCEPTIONS - found == set(), "fixed: remove it from KNOWN_EXCEPTIONS"


def test_the_private_import_scan_sees_what_it_must() -> None:
    # the scan itself: a private module of another package, reached in each spelling, is seen; the owner's own is not
    tree = ast.parse("import insole.analysis._pipeline\nfrom insole.report import _html\n"
                     "def f():\n    from dashboards._offline import x\n")
    privates = {_private_module(m) for m in _imported_modules(tree)} - {None}
    assert privates == {"insole.analysis._pipeline", "insole.report._html", "dashboards._offline"}
    assert _allowed(REPO / "insole" / "analysis" / "_json.py", "insole.analysis._pipeline")
    assert not _allowed(REPO / "insole" / "report" / "_html.py", "insole.analysis._pipeline")
    assert _allowed(REPO / "tests" / "test_analysis_units.py", "insole.analysis._segments")
    assert not _allowed(REPO / "tests" / "test_report_html.py", "insole._cli")
    assert _private_module("insole.__version__") is None and _private_module("numpy._core") is None


def test_importing_insole_loads_neither_plotly_nor_the_analysis() -> None:
    import subprocess
    import sys

    heavy = ("plotly", "scipy", "insole.analysis._pipeline")
    code = f"import sys, insole; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
