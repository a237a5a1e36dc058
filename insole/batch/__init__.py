"""Studies at scale: analyse every recording under folders or globs into one cohort table, then compare groups.

Private package; the lead curates what ``insole`` exports. The pieces:

``_discover``  which files are recordings (by content), each recording once, what it is made of;
``_task``      the task a worker runs: a path in, one small row (or an error with its reason) out;
``_engines``   local process pool, an existing Dask cluster, or a Dask LocalCluster;
``_cache``     finished rows keyed by file content and parameters, so a re-run skips done work;
``_run``       ``run_batch``: all of the above, writing ``cohort.parquet``, the errors table and strides;
``_findings``  the clinical report's findings as columns (the hook into ``insole.report``);
``_cohort``    group comparison: distributions, effect sizes with confidence intervals, finding shares;
``_page``      the comparison as one self-contained HTML page.

The commands are ``insole batch`` and ``insole cohort``; docs/batch.md describes both.
"""

from __future__ import annotations

from insole.batch._cohort import CohortParams, compare_cohort, join_groups, read_groups
from insole.batch._discover import Candidate, Discovery, discover
from insole.batch._engines import EngineError, EngineSpec
from insole.batch._page import cohort_page
from insole.batch._run import (
    BatchResult,
    output_paths,
    read_cohort,
    refuse_missing_inputs,
    refuse_recording,
    run_batch,
)
from insole.batch._task import TIMING_COLUMNS, Job, analyse_job, metric_columns

__all__ = [
    "run_batch",
    "BatchResult",
    "EngineSpec",
    "EngineError",
    "discover",
    "Discovery",
    "Candidate",
    "Job",
    "analyse_job",
    "read_cohort",
    "output_paths",
    "refuse_recording",
    "refuse_missing_inputs",
    "TIMING_COLUMNS",
    "metric_columns",
    # group comparison
    "CohortParams",
    "compare_cohort",
    "join_groups",
    "read_groups",
    "cohort_page",
]
