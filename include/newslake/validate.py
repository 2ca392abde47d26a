"""Great Expectations gates over one run's rows.

Two suites are kept in ``newslake/suites/``: row-level checks (a failing row goes to
quarantine with the names of its checks) and batch-level checks on the run's summary
(a failure raises ``BatchValidationError`` so that the task fails and Airflow retries
and alerts). GX is imported here only, never at DAG parse time: the import alone takes
seconds. Each call builds a fresh ephemeral context: a shared one is not thread-safe.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import pandas as pd

from newslake.config import DRIFT_TOLERANCES, Outlet
from newslake.errors import NewslakeError
from newslake.record import PUBLISHED_AT_SOURCES

ROW_SUITE = "article_rows.json"
BATCH_SUITE = "article_batch.json"
ROW_COLUMNS = (
    "article_id", "url", "fetched_url", "title", "description", "authors", "published_at",
    "modified_at", "section", "tags", "language", "body", "word_count", "image_url",
    "is_paywalled", "content_hash", "http_status", "fetched_at", "parser", "run_id",
    "schema_version", "published_at_source",
)


class BatchValidationError(NewslakeError):
    """A batch-level expectation failed; the message names each check and its value."""


class CheckCouldNotRunError(BatchValidationError):
    """An expectation raised instead of judging (a bad parameter, a GX bug): the batch
    is not known to be good, so it fails; the message names the check and GX's error."""


def _raised_messages(info: Any) -> list[str]:
    """The error messages in a result's ``exception_info``, in either of GX 1.x's shapes:
    one ``ExceptionInfo`` mapping (``raised_exception``, ``exception_message``) or, when a
    metric failed to resolve (GX 1.24), a mapping of metric id -> ``ExceptionInfo``."""
    if not info:
        return []
    if "raised_exception" in info:
        return [str(info.get("exception_message"))] if info.get("raised_exception") else []
    return [message for value in info.values() if isinstance(value, dict)
            for message in _raised_messages(value)]


@dataclass
class ValidationReport:
    failed_rows: dict[int, list[str]] = field(default_factory=dict)
    batch_failures: list[str] = field(default_factory=list)
    batch_warnings: list[str] = field(default_factory=list)
    not_judged: list[str] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return not self.failed_rows and not self.batch_failures


def load_suite(name: str) -> dict[str, Any]:
    text = resources.files("newslake.suites").joinpath(name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _quiet_gx() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    for name in ("great_expectations", "great_expectations.core", "tzlocal"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _run_suite(
    frame: pd.DataFrame, suite_name: str, parameters: dict[str, Any]
) -> tuple[list[tuple[str, bool, list[int], Any]], dict[str, Any]]:
    """Validate ``frame`` with a repo suite; per check: (name, success, bad rows, observed)."""
    _quiet_gx()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    spec = load_suite(suite_name)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_pandas("newslake")
        .add_dataframe_asset(spec["name"])
        .add_batch_definition_whole_dataframe("run")
    )
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    suite = gx.ExpectationSuite(name=spec["name"], meta=spec.get("meta", {}))
    for exp in spec["expectations"]:
        config = ExpectationConfiguration(
            type=exp["type"], kwargs=exp["kwargs"], meta=exp.get("meta", {})
        )
        suite.add_expectation(config.to_domain_obj())
    suite = context.suites.add(suite)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(
        suite,
        expectation_parameters=parameters,
        result_format={"result_format": "COMPLETE", "partial_unexpected_count": 0},
    )
    checks = []
    for r in result.results:
        exp_config = r.expectation_config
        name = (exp_config.meta or {}).get("check", exp_config.type) if exp_config else "unknown"
        raised = _raised_messages(r.exception_info)
        if raised:
            raise CheckCouldNotRunError(
                f"check {name} could not run: {'; '.join(dict.fromkeys(raised))}")
        bad = [int(i) for i in (r.result.get("unexpected_index_list") or [])]
        observed = r.result.get("partial_unexpected_list") or r.result.get("observed_value")
        checks.append((str(name), bool(r.success), bad, observed))
    return checks, result.to_json_dict()


def validate_rows(
    frame: pd.DataFrame, outlet: Outlet, *, published_max: dt.datetime
) -> ValidationReport:
    """Row-level checks; ``frame`` must have a RangeIndex (positions name the rows)."""
    report = ValidationReport()
    if frame.empty:
        return report
    parameters = {
        "min_words": outlet.validation.min_words,
        "published_min": pd.Timestamp(outlet.start_date, tz="UTC"),
        "published_max": pd.Timestamp(published_max),
        "languages": [outlet.language],
        "published_at_sources": list(PUBLISHED_AT_SOURCES),
    }
    checks, report.results["rows"] = _run_suite(
        frame.loc[:, list(ROW_COLUMNS)].reset_index(drop=True), ROW_SUITE, parameters
    )
    for name, success, bad_rows, _ in checks:
        if success:
            continue
        if not bad_rows:  # failed, but on no row: the rows would be published unjudged
            raise CheckCouldNotRunError(f"check {name} failed without naming a row")
        for i in bad_rows:
            report.failed_rows.setdefault(i, []).append(name)
    return report


# Each share check and the count it is a share of: below the outlet's min_batch_size that
# count is too small for a share to mean anything (1 of 3 is 0.33), so it is not judged.
DRIFT_CHECKS = tuple(DRIFT_TOLERANCES)
SHARE_BASES = {
    "quarantine_share": "pages_judged",
    "duplicate_share": "pages_judged",
    "fetch_failure_share": "pages_requested",
}


def validate_batch(
    summary: dict[str, float | None], outlet: Outlet, details: dict[str, str] | None = None,
) -> ValidationReport:
    """Batch-level checks over one row of run figures; failures and warnings are listed
    (by the outlet's mode for each check), not raised. A figure that is None is unknown
    (e.g. no recent days to compare with) and passes; so does a share whose base (in
    ``SHARE_BASES``) is under ``validation.min_batch_size`` (listed in ``not_judged``).
    ``details``: check -> what it saw, said instead of the bare figure when it fails (the
    drift checks name the figures that moved, with value and baseline)."""
    report = ValidationReport()
    rules = outlet.validation
    parameters = {
        "max_quarantine_share": rules.max_quarantine_share,
        "max_duplicate_share": rules.max_duplicate_share,
        "max_fetch_failure_share": rules.max_fetch_failure_share,
        "min_rows": rules.min_rows,
        "min_recent_ratio": rules.min_recent_ratio,
    }
    judged: dict[str, float | None] = {
        "fetch_failure_share": 0.0, **dict.fromkeys(DRIFT_CHECKS), **summary}
    for share, base in SHARE_BASES.items():
        count = summary.get(base)
        if count is not None and count < rules.min_batch_size:
            judged[share] = None
            report.not_judged.append(
                f"{share} ({base}={count:g} < min_batch_size {rules.min_batch_size})")
    frame = pd.DataFrame([judged]).astype(
        dict.fromkeys(["written_vs_recent", *SHARE_BASES, *DRIFT_CHECKS], "float64"),
        errors="ignore")
    checks, report.results["batch"] = _run_suite(frame, BATCH_SUITE, parameters)
    columns = {e["meta"]["check"]: e["kwargs"]["column"]
               for e in load_suite(BATCH_SUITE)["expectations"]}
    for name, success, _, _ in checks:
        if not success:
            said = (details or {}).get(name)
            line = (f"{name}: {said}" if said
                    else f"{name} ({columns[name]}={judged.get(columns[name])})")
            target = report.batch_warnings if rules.mode(name) == "warn" else report.batch_failures
            target.append(line)
    return report
