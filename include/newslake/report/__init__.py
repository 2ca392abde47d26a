"""The report and what it is made of, one concern a module:

- ``report.data``: reading the lake (the runs in ``_runs/``, rows per outlet-day from the
  Parquet footers), local or ``s3://``;
- ``report.charts``: a small inline-SVG chart kit (bars and lines over days);
- ``report.markup``: the stylesheet, escaping and the page shell shared with the Data
  Docs (``newslake.datadocs``);
- ``report.page``: the report page itself (``newslake report``).

This package's names below are the public surface; ``newslake.datadocs`` and the CLI use
only these.
"""

from newslake.report.charts import bar_chart, colors_for, legend, line_chart
from newslake.report.data import (
    DayStats,
    RunRecord,
    coverage_series,
    day_stats,
    day_window,
    live_rows,
    load_runs,
    local_root,
    partition_rows,
    s3_storage,
)
from newslake.report.markup import CSS, document, esc
from newslake.report.page import DEFAULT_DAYS, DEFAULT_RUNS, build_report, write_report

__all__ = [
    "CSS", "DEFAULT_DAYS", "DEFAULT_RUNS", "DayStats", "RunRecord", "bar_chart", "build_report",
    "colors_for", "coverage_series", "day_stats", "day_window", "document", "esc", "legend",
    "line_chart", "live_rows", "load_runs", "local_root", "partition_rows", "s3_storage",
    "write_report",
]
