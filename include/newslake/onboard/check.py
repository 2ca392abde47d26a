"""``newslake outlets check``: one outlet-day (or a sample of it) through the pipeline's
own steps against a temporary lake folder, removed afterwards: nothing reaches the lake.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from lxml import etree, html

from newslake import lake
from newslake.config import Outlet
from newslake.errors import DiscoveryError, NewslakeError
from newslake.parse.decode import decode_html
from newslake.pipeline import (
    RunSpec,
    discover_step,
    fetch_step,
    parse_step,
    staged_summary,
    validate_step,
)
from newslake.raw import read_warc
from newslake.validate import BatchValidationError

SHOWN_ROWS = 5
COVERAGE = ("description", "authors", "modified_at", "section", "tags", "language",
            "image_url")


@dataclass
class CheckReport:
    outlet: Outlet
    day: dt.date
    sample: int | None
    discovered: int = 0
    discovery_counts: dict[str, int] = field(default_factory=dict)
    discovery_errors: list[dict[str, Any]] = field(default_factory=list)
    fetched: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    written: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)  # reason -> rows
    coverage: dict[str, float] = field(default_factory=dict)
    parsers: dict[str, int] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)  # the written rows
    headlines: dict[str, str] = field(default_factory=dict)  # fetched URL -> page <h1>
    batch_failures: list[str] = field(default_factory=list)
    batch_warnings: list[str] = field(default_factory=list)
    profile: dict[str, Any] = field(default_factory=dict)  # as the manifest keeps it
    problem: str | None = None  # why the run stopped before validation

    @property
    def would_publish(self) -> bool:
        return self.problem is None and not self.batch_failures and self.written > 0


def _headline(body: bytes, headers: dict[str, str]) -> str:
    try:
        tree = html.document_fromstring(decode_html(body, headers))
    except (etree.ParserError, ValueError):
        return ""
    for path in ("//h1", "//title"):
        found = tree.xpath(path)
        if found:
            return " ".join(found[0].text_content().split())
    return ""


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, list | str):
        return bool(value)
    return True


def dry_run(outlet: Outlet, day: dt.date, sample: int | None = None) -> CheckReport:
    """Discover, fetch, parse and validate ``day`` of ``outlet`` in a temporary lake.
    ``sample``: only the first ``sample`` discovered URLs (sorted) are fetched."""
    report = CheckReport(outlet, day, sample)
    with tempfile.TemporaryDirectory(prefix="newslake-check-") as tmp:
        spec = RunSpec(outlet=outlet, day=day, run_id="check", lake=str(Path(tmp) / "lake"))
        try:
            found = discover_step(spec, chunk_size=sample or 10**9)
        except DiscoveryError as exc:
            report.problem = f"discovery failed: {exc}"
            return report
        report.discovered = found["discovery"]["discovered"]
        report.discovery_counts = found["discovery"]["counts"]
        report.discovery_errors = found["discovery"]["errors"]
        fetched = [fetch_step(spec, chunk) for chunk in found["chunks"][:1]]
        for raw in fetched:
            for result in read_warc(raw["warc"]):
                report.fetched += 1
                if result.body and result.ok:
                    report.headlines[result.final_url or result.url] = _headline(
                        result.body, result.headers)
        parsed = [parse_step(spec, raw) for raw in fetched]
        try:
            summary_path = validate_step(spec, parsed)["summary"]
        except BatchValidationError as exc:
            report.batch_failures.append(str(exc))
            summary_path = staged_summary(spec)
        except NewslakeError as exc:
            report.problem = f"validation failed: {exc}"
            return report
        summary = lake.read_json(summary_path)
        report.counts = summary["counts"]
        report.written = summary["written"]
        report.parsers = summary["parsers"]
        report.batch_warnings = summary["batch_warnings"]
        report.profile = summary.get("profile") or {}
        if summary["batch_failures"]:
            report.batch_failures = summary["batch_failures"]
        out = lake.join(spec.staging_uri, "out")
        quarantine = pq.read_table(lake.join(out, "quarantine", lake.PARQUET_FILE))
        reasons: Counter[str] = Counter()
        for checks in quarantine.column("failed_checks").to_pylist():
            reasons.update(checks or ["unknown"])
        report.quarantined = dict(reasons.most_common())
        articles = lake.join(out, "articles", lake.PARQUET_FILE)
        if lake.exists(articles):
            report.rows = pq.read_table(articles).to_pylist()
        n = len(report.rows) or 1
        report.coverage = {name: sum(_present(r.get(name)) for r in report.rows) / n
                           for name in COVERAGE}
        report.coverage["paywalled (true)"] = sum(
            bool(r.get("is_paywalled")) for r in report.rows) / n
    return report


def _shares(shares: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.0%}" for k, v in sorted(shares.items(), key=lambda kv: -kv[1]))


def format_profile(profile: dict[str, Any]) -> list[str]:
    """The extraction profile (``newslake.drift``) as lines: what the drift checks compare
    with the outlet's recent days in the lake's manifests."""
    if not profile:
        return []
    out = ["", f"extraction profile of the {profile['rows']} parsed rows (the drift checks' "
           "figures; the lake's manifests keep each day's):"]
    for name, share in profile["coverage"].items():
        out.append(f"  {name:<16} {share:.0%}")
    out.append(f"  date source      {_shares(profile['date_source']) or '-'}")
    out.append(f"  parser path      {_shares(profile['parser_path']) or '-'}")
    words = profile.get("words") or {}
    out.append("  words            " + (" ".join(f"{k} {v:g}" for k, v in words.items()) or "-"))
    line = profile.get("repeated_line")
    out.append(f"  boilerplate      {profile['boilerplate']:.0%} of rows hold a line repeated "
               "across the day" + (f": “{line}” ({profile.get('repeated_line_rows')} rows)"
                                   if line else ""))
    out.append(f"  other language   {profile['language_mismatch']:.0%}")
    return out


def format_check(report: CheckReport) -> str:
    outlet = report.outlet
    scope = f"a sample of {report.sample} URLs" if report.sample else "the whole day"
    out = [f"{outlet.id} {report.day} ({scope}; dry run, nothing written to the lake)", ""]
    counts = report.discovery_counts
    by_source = ", ".join(f"{k} {v}" for k, v in counts.items()
                          if k in ("rss", "sitemap", "archive", "warc") and v)
    out.append(f"discovered  {report.discovered} URLs ({by_source or 'none'}; "
               f"{counts.get('out_of_window', 0)} outside the day's window, "
               f"{counts.get('off_site', 0)} off the site)")
    for error in report.discovery_errors:
        out.append(f"  source error: {error.get('source')} {error.get('url')}: "
                   f"{error.get('error')} {error.get('detail') or ''}".rstrip())
    if report.problem:
        out += ["", f"WOULD NOT PUBLISH: {report.problem}"]
        return "\n".join(out)
    c = report.counts
    out.append(f"fetched     {report.fetched} ({c.get('fetch_failed', 0)} failed)")
    out.append(f"parsed      {c.get('parsed', 0)} in the day "
               f"({c.get('out_of_window', 0)} published on another day, "
               f"{c.get('parse_failed', 0) + c.get('parse_crashed', 0)} not articles/unreadable)")
    out.append(f"written     {report.written}")
    total_q = sum(report.quarantined.values())
    out.append(f"quarantined {total_q}" + (": " + ", ".join(
        f"{k} {v}" for k, v in report.quarantined.items()) if total_q else ""))
    out += ["", "field coverage of the written rows:"]
    for name, share in report.coverage.items():
        out.append(f"  {name:<16} {share:.0%}")
    out.append("  parser paths     " + (", ".join(
        f"{k} {v}" for k, v in sorted(report.parsers.items())) or "-"))
    out += format_profile(report.profile)
    if report.rows:
        out += ["", "rows beside their page's headline (<h1>):"]
        for row in report.rows[:SHOWN_ROWS]:
            page = report.headlines.get(row["fetched_url"], "")
            same = "=" if page.strip() == str(row["title"]).strip() else "≠"
            out.append(f"  {row['published_at']:%Y-%m-%d %H:%M}  {row['title']!s:.60}")
            byline = ", ".join(row["authors"]) or "no byline"
            out.append(f"  {'':16} {same} {page:.60}   [{byline}; {row['word_count']} words]")
    if report.batch_failures:
        out += ["", "validation checks that would fail:"]
        out += [f"  {f}" for f in report.batch_failures]
    for warning in report.batch_warnings:
        out.append(f"  warning: {warning}")
    out.append("")
    if report.would_publish:
        out.append(f"would publish: {report.written} articles")
    elif not report.batch_failures:
        out.append("WOULD NOT PUBLISH: no article passed validation")
    else:
        out.append("WOULD NOT PUBLISH: the batch checks above fail")
    return "\n".join(out)
