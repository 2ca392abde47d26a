"""Every benchmark, one after the other, then one summary table (figure, baseline, goal).

    make bench                                  # modest sizes: minutes on 2 cores
    .venv/bin/python bench/run_all.py --full    # the issue's sizes (10k / 50k articles a day)

None of this decides whether tests pass: figures are printed and kept in bench/results/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def _run(script: str, *args: str) -> None:
    print(f"\n=== {script} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, str(HERE / script), *args], check=False)


def _load(name: str, since: float) -> dict:  # type: ignore[type-arg]
    """A figure file written by this run (older ones are ignored: never a stale figure)."""
    path = RESULTS / f"{name}.json"
    if not path.exists() or path.stat().st_mtime < since:
        return {}
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def _machine() -> str:
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in lines
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), "
            f"{pages / 2**30:.0f} GiB, Python {platform.python_version()}")


def summary(sizes: list[str], since: float) -> list[tuple[str, str, str, str]]:
    """(figure, measured, baseline in the same run, goal) for every figure this run made."""
    rows: list[tuple[str, str, str, str]] = []
    for name, f in _load("dag_parse", since).get("files", {}).items():
        rows.append((f"DAG file parse, dags/{name} ({f['dags']} DAGs)",
                     f"{f['dag_file_s'] * 1000:.0f} ms",
                     f"import airflow.sdk {f['baseline_import_airflow_sdk_s']:.2f} s",
                     f"< 100 ms: {'met' if f['goal_met'] else 'MISSED'}"))
    ext = _load("extraction", since)
    if ext:
        ours, theirs, ratio = ext["newslake"], ext["trafilatura"], ext["speed_ratio"]
        rows.append((f"full record parse, {ext['cases']} real pages",
                     f"{ours['pages_per_s']} pages/s (body F1 {ours['body F1']:.3f}, "
                     f"title {ours['title exact']:.3f})",
                     f"trafilatura bare_extraction {theirs['pages_per_s']} pages/s (body F1 "
                     f"{theirs['body F1']:.3f}, title {theirs['title exact']:.3f})",
                     f">= 2x: {ratio}x, {'met' if ratio >= 2 else 'MISSED'}"))
    fetched = _load("fetch", since)
    for kind, runs in fetched.get("figures", {}).items():
        best = max(v["pages_per_s"] for n, v in runs.items() if n.startswith("newslake"))
        rows.append((f"fetch, {fetched['pages']} pages of {fetched['page_kb']} KiB ({kind}), "
                     "loopback, politeness off", f"{best:.0f} pages/s",
                     f"requests.get loop {runs['requests.get loop']['pages_per_s']:.0f} pages/s",
                     "-"))
    for n, f in _load("validate", since).get("rows", {}).items():
        rows.append((f"GX row validation, {int(n):,} rows", f"{f['gx_ms_per_1k']} ms / 1k rows",
                     f"the same checks in pandas {f['pandas_ms_per_1k']} ms / 1k rows", "-"))
    for n, f in _load("write", since).get("rows", {}).items():
        rows.append((f"Parquet write, {int(n):,} articles ({f['arrow_mb']} MB in Arrow)",
                     f"{f['lake_writer_mb_s']} MB/s, {f['lake_file_mb']} MB file",
                     f"pyarrow defaults {f['pyarrow_default_mb_s']} MB/s, "
                     f"{f['default_file_mb']} MB", "-"))
    for n in sizes:
        p = _load(f"pipeline_{n}", since)
        if "airflow_over_direct" in p:
            ratio = p["airflow_over_direct"]
            rows.append((f"one outlet-day of {int(n):,} articles through Airflow",
                         f"{p['airflow_s']:.0f} s: {ratio}x",
                         f"the library alone {p['direct_s']:.0f} s "
                         f"({p['direct_articles_per_s']} articles/s)",
                         f"<= 1.5x at 10k: {'met' if ratio <= 1.5 else 'MISSED'}"
                         if n == "10000" else "-"))
        if "peak_rss_mib" in p:
            peaks = p["peak_rss_mib"]
            top = max(peaks.values())
            every = p.get("rss_every_nth_chunk", 1)
            rows.append((f"peak RSS per task, one {int(n):,}-article day"
                         + (f" (every {every}th chunk's fetch and parse)" if every > 1 else ""),
                         ", ".join(f"{k} {v:.0f}" for k, v in peaks.items()) + " MiB", "-",
                         f"< 1 GiB at 50k: {'met' if top < 1024 else 'MISSED'} (max {top:.0f})"
                         if n == "50000" else "-"))
    q = _load("queries", since)
    for name, f in q.get("queries", {}).items():
        rows.append((f"{q['rows']:,}-row lake, {name}", f"{f['lake_ms']} ms",
                     f"one unpartitioned file {f['unpartitioned_ms']} ms", "-"))
    if q:
        files = q["files_after_30_reruns"]
        rows.append(("files in a partition after 30 reruns of the day", str(files), "-",
                     f"no small-file growth: {'met' if files == 1 else 'MISSED'}"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    since = time.time()
    pipeline_sizes = ["10000", "50000"] if args.full else ["1000"]
    _run("dag_parse.py")
    _run("extraction.py")
    _run("fetch.py")
    _run("validate.py", "--rows", "1000,10000,50000")
    _run("write.py", "--rows", "10000,50000")
    for n in pipeline_sizes:
        # 10k: the Airflow overhead; 50k: each task's peak RSS (no direct run, no Airflow:
        # a 50k day through either takes most of an hour here). 1k, the default: both.
        extra = {"10000": ["--skip-rss"],
                 "50000": ["--skip-airflow", "--skip-direct", "--rss-every", "20"]}
        _run("pipeline.py", "--articles", n, *extra.get(n, []))
    _run("queries.py")

    rows = summary(pipeline_sizes, since)
    print(f"\n=== summary: {dt.date.today()}, {_machine()}, "
          f"{(time.time() - since) / 60:.0f} min (JSON in bench/results/)\n")
    print("| figure | measured | baseline, same run | goal |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    (RESULTS / "summary.json").write_text(json.dumps(
        {"date": str(dt.date.today()), "machine": _machine(), "full": args.full,
         "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
