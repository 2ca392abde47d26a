"""Great Expectations validation against the same row checks in plain pandas.

Figures: ms per 1k rows for each, and the ratio. GX's fixed cost (context, suite,
metrics) dominates small batches; the baseline shows what the checks cost by themselves.

    .venv/bin/python bench/validate.py [--rows 1000,10000,50000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from functools import partial

import pandas as pd
import pyarrow as pa
from _common import best_of, peak_rss_mib, report
from synthetic import article_table

from newslake.config import parse_outlet
from newslake.dayrows import DayRows
from newslake.lake import PARQUET_FILE, write_parquet
from newslake.pipeline import validation_frame
from newslake.validate import validate_rows

OUTLET = parse_outlet({"id": "bench", "name": "Bench", "base_url": "https://bench.example/",
                       "language": "en", "timezone": "UTC", "start_date": "2024-01-01"})
DAY = dt.date(2025, 3, 17)
PUBLISHED_MAX = dt.datetime(2025, 3, 19, tzinfo=dt.UTC)


def pandas_checks(frame: pd.DataFrame) -> dict[int, list[str]]:
    """The row suite, written by hand: the baseline."""
    hex64 = r"^[0-9a-f]{64}$"
    failures = {
        "not_null": frame[["article_id", "url", "fetched_url", "title", "body", "published_at",
                           "content_hash", "fetched_at", "parser"]].isna().any(axis=1),
        "article_id_format": ~frame["article_id"].str.match(hex64, na=True),
        "url_shape": ~frame["url"].str.match(r"^https?://[^\s/?#]+(?:/[^\s#]*)?$", na=True),
        "title_length": ~frame["title"].str.len().between(3, 400),
        "min_words": frame["word_count"] < OUTLET.validation.min_words,
        "published_at_in_range": ~frame["published_at"].between(
            pd.Timestamp(OUTLET.start_date, tz="UTC"), pd.Timestamp(PUBLISHED_MAX)),
        "language": ~frame["language"].isin([OUTLET.language]),
        "content_hash_format": ~frame["content_hash"].str.match(hex64, na=True),
        "http_status_ok": ~frame["http_status"].between(200, 299),
    }
    out: dict[int, list[str]] = {}
    for name, mask in failures.items():
        for i in mask[mask].index:
            out.setdefault(int(i), []).append(name)
    return out


def _validation_frame(table: pa.Table) -> pd.DataFrame:
    """What validate_step hands to GX: the rows read back as a day's chunk file would be."""
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/{PARQUET_FILE}"
        write_parquet(table, path, sort_by=None)
        return validation_frame(DayRows.read([path], table.schema).columns())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", default="1000,10000,50000")
    args = parser.parse_args()
    validate_rows(_validation_frame(article_table(10, DAY)), OUTLET,
                  published_max=PUBLISHED_MAX)
    figures = {}
    for n in (int(x) for x in args.rows.split(",")):
        table = article_table(n, DAY)
        frame = _validation_frame(table)
        gx_s = best_of(partial(validate_rows, frame, OUTLET, published_max=PUBLISHED_MAX), 2)
        full = table.to_pandas()
        pd_s = best_of(partial(pandas_checks, full), 3)
        figures[n] = {"peak_rss_mib_so_far": round(peak_rss_mib(), 1),
                      "gx_ms_per_1k": round(gx_s * 1e6 / n, 2),
                      "pandas_ms_per_1k": round(pd_s * 1e6 / n, 2),
                      "gx_over_pandas": round(gx_s / pd_s, 1)}
        print(f"{n:>7} rows  GX {gx_s * 1000:8.1f} ms ({figures[n]['gx_ms_per_1k']:.1f} ms/1k)  "
              f"pandas {pd_s * 1000:7.1f} ms ({figures[n]['pandas_ms_per_1k']:.1f} ms/1k)  "
              f"ratio {figures[n]['gx_over_pandas']}x  "
              f"peak RSS {figures[n]['peak_rss_mib_so_far']} MiB")
    report("validate", {"rows": figures})


if __name__ == "__main__":
    main()
