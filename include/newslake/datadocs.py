"""Data Docs: browsable HTML of the Great Expectations results kept in the lake.

Every run leaves ``_runs/outlet=<id>/date=<D>/<run>.validation.json`` (its row and batch
suite results, and the run's validation summary), also when a batch check failed and
nothing was published. This module turns them into an index page and one page a run. The
pages are plain HTML with inline CSS (no scripts, no CDN), unlike GX's own Data Docs
site builder, which needs a file data context and pulls its styles from public CDNs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newslake import lake
from newslake.report import RunRecord, document, esc, load_runs, local_root

MAX_EXAMPLES = 5
MAX_VALUE_CHARS = 120


@dataclass(frozen=True)
class Check:
    suite: str
    name: str
    type: str
    success: bool
    kwargs: dict[str, Any]
    unexpected: int | None
    element_count: int | None
    observed: Any
    examples: list[Any]


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def checks_of(results: Mapping[str, Any]) -> list[Check]:
    """The expectations of a kept result file, row suite first, in suite order."""
    checks = []
    for suite in ("rows", "batch"):
        for r in (results.get(suite) or {}).get("results", []):
            config = r.get("expectation_config") or {}
            result = r.get("result") or {}
            kwargs = {k: v for k, v in (config.get("kwargs") or {}).items() if k != "batch_id"}
            checks.append(Check(
                suite=suite,
                name=str((config.get("meta") or {}).get("check") or config.get("type")),
                type=str(config.get("type", "")),
                success=bool(r.get("success")),
                kwargs=kwargs,
                unexpected=result.get("unexpected_count"),
                element_count=result.get("element_count"),
                observed=result.get("observed_value"),
                examples=list(result.get("unexpected_list") or [])[:MAX_EXAMPLES],
            ))
    return checks


def _run_page_name(run: RunRecord) -> str:
    return f"runs/{run.outlet}/{run.day}/{lake.safe_name(run.run_id)}.html"


def _failed_names(checks: list[Check]) -> str:
    failed = [f"{c.name} ({c.unexpected})" if c.unexpected else c.name
              for c in checks if not c.success]
    return ", ".join(failed) or "—"


def _run_page(run: RunRecord, results: Mapping[str, Any], checks: list[Check]) -> str:
    summary = results.get("summary") or {}
    rows = []
    for c in checks:
        state = "passed" if c.success else "failed"
        unexpected = "—" if c.unexpected is None else f"{c.unexpected} of {c.element_count}"
        detail = ", ".join(_short(e) for e in c.examples) or (
            _short(c.observed) if c.observed is not None else "")
        rows.append(
            f'<tr class="check {state}">'
            f"<td>{c.suite}</td><td><b>{esc(c.name)}</b></td>"
            f'<td class="mono">{esc(c.type)}</td>'
            f'<td class="mono">{esc(_short(c.kwargs))}</td>'
            f'<td class="status {"published" if c.success else "failed"}">{state}</td>'
            f"<td class=n>{esc(unexpected)}</td><td>{esc(detail)}</td></tr>")
    parameters = {
        suite: (results.get(suite) or {}).get("suite_parameters") for suite in ("rows", "batch")
    }
    version = ((results.get("rows") or results.get("batch") or {}).get("meta") or {}).get(
        "great_expectations_version", "?")
    counts = (f'{summary.get("written", "—")} passing rows, '
              f'{summary.get("quarantined", "—")} quarantined')
    outcome = counts if run.status == "published" else f"{counts} (not published)"
    params = (f"<section><h2>Suite parameters</h2><pre>"
              f"{esc(json.dumps(parameters, indent=2, default=str))}</pre></section>"
              if any(parameters.values()) else "")
    batch_failures = summary.get("batch_failures") or []
    failures = "".join(f"<li>{esc(f)}</li>" for f in batch_failures)
    body = f"""<p><a href="../../../index.html">← all runs</a></p>
<h1>{esc(run.outlet)} · {esc(run.day)}</h1>
<p class="sub">run <code>{esc(run.run_id)}</code> · status
<span class="status {run.status}">{run.status}</span> · {outcome} · candidates
{(summary.get("batch") or {}).get("candidates", "—")} · Great Expectations {esc(version)}</p>
{f'<section><h2>Batch checks failed</h2><ul>{failures}</ul></section>' if failures else ""}
<section><h2>Expectations</h2>
<p class="sub">Row positions refer to the run's candidate rows; failing rows went to
<code>quarantine/</code> with the check names in <code>failed_checks</code>.</p>
<table id="checks"><thead><tr><th>suite</th><th>check</th><th>expectation</th>
<th>arguments</th><th>result</th><th class=n>unexpected</th><th>examples / observed</th></tr>
</thead><tbody>{"".join(rows)}</tbody></table></section>
{params}
<footer>From <code>{esc(run.validation_file)}</code>.</footer>"""
    return document(f"{run.outlet} {run.day} · newslake data docs", body)


def build_datadocs(lake_uri: str, out_dir: str | Path,
                   storage: Mapping[str, str] | None = None) -> Path:
    """Write ``index.html`` and one page a run with kept results; return the index path.
    ``storage``: S3 options (default: from the environment, ``newslake.report.s3_storage``)."""
    out = Path(out_dir)
    root = local_root(lake_uri, storage)
    runs = [r for r in load_runs(lake_uri, storage) if r.validation_file]
    runs.sort(key=lambda r: r.finished_at, reverse=True)
    index_rows = []
    for run in runs:
        results = json.loads((root / str(run.validation_file)).read_text(encoding="utf-8"))
        checks = checks_of(results)
        page = out / _run_page_name(run)
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(_run_page(run, results, checks), encoding="utf-8")
        passed = sum(c.success for c in checks)
        index_rows.append(
            f'<tr class="run {run.status}"><td>{esc(run.outlet)}</td><td>{esc(run.day)}</td>'
            f'<td class="mono"><a href="{esc(_run_page_name(run))}">{esc(run.run_id)}</a></td>'
            f'<td class="status {run.status}">{run.status}</td>'
            f"<td class=n>{passed} / {len(checks)}</td>"
            f"<td>{esc(_failed_names(checks))}</td></tr>")
    table = (
        '<table id="runs"><thead><tr><th>outlet</th><th>date</th><th>run</th><th>status</th>'
        "<th class=n>expectations passed</th><th>failed checks (unexpected rows)</th></tr>"
        f'</thead><tbody>{"".join(index_rows)}</tbody></table>'
        if index_rows else '<p class="empty">No validation results kept in this lake yet.</p>')
    body = f"""<h1>newslake data docs</h1>
<p class="sub">Great Expectations results kept in <code>{esc(root / "_runs")}</code>,
newest first: {len(runs)} runs.</p>
<section><h2>Runs</h2>{table}</section>
<footer>Made by <code>newslake datadocs</code>. No scripts, no external resources.</footer>"""
    index = out / "index.html"
    out.mkdir(parents=True, exist_ok=True)
    index.write_text(document("newslake data docs", body), encoding="utf-8")
    return index
