"""Every benchmark, one after the other, then one summary table (figure, baseline, goal).

    make bench                                  # modest sizes: minutes on 2 cores
    .venv/bin/python bench/run_all.py --full    # the issue's sizes (10k / 50k articles a day)

None of this decides whether tests pass: figures are printed and kept in bench/results/.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def _run(script: str, *args: str) -> None:
    print(f"\n=== {script} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, str(HERE / script), *args], check=False)


def _load(name: str) -> dict:  # type: ignore[type-arg]
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    pipeline_sizes = ["10000", "50000"] if args.full else ["1000"]
    _run("dag_parse.py")
    if (HERE / "extraction.py").exists():
        _run("extraction.py")
    if (HERE / "fetch.py").exists():
        _run("fetch.py")
    _run("validate.py", "--rows", "1000,10000,50000")
    _run("write.py", "--rows", "10000,50000")
    for n in pipeline_sizes:
        extra = ["--skip-airflow", "--rss-every", "20"] if n == "50000" else []
        _run("pipeline.py", "--articles", n, *extra)
    _run("queries.py")

    print("\n=== summary (see bench/results/*.json)")
    dag = _load("dag_parse").get("files", {}).get("ingest.py", {})
    if dag:
        print(f"DAG file parse: {dag['dag_file_s'] * 1000:.0f} ms (goal < 100 ms)")
    ext = _load("extraction")
    if ext:
        ours, theirs = ext["newslake"], ext["trafilatura"]
        print(f"parse: {ours['pages_per_s']} pages/s vs trafilatura {theirs['pages_per_s']} "
              f"pages/s = {ext['speed_ratio']}x (goal >= 2x); body F1 {ours['body F1']:.3f} "
              f"vs {theirs['body F1']:.3f}, title {ours['title exact']:.3f} vs "
              f"{theirs['title exact']:.3f}")
    fetched = _load("fetch").get("figures", {})
    for kind, runs in fetched.items():
        best = max(v["pages_per_s"] for n, v in runs.items() if n.startswith("newslake"))
        print(f"fetch ({kind}, loopback): newslake {best:.0f} pages/s vs requests.get loop "
              f"{runs['requests.get loop']['pages_per_s']:.0f} pages/s")
    val = _load("validate").get("rows", {})
    for n, f in val.items():
        print(f"GX validation {n} rows: {f['gx_ms_per_1k']} ms/1k vs pandas "
              f"{f['pandas_ms_per_1k']} ms/1k")
    for n, f in _load("write").get("rows", {}).items():
        print(f"Parquet write {n} rows: {f['lake_writer_mb_s']} MB/s vs pyarrow default "
              f"{f['pyarrow_default_mb_s']} MB/s")
    for n in pipeline_sizes:
        p = _load(f"pipeline_{n}")
        if "airflow_over_direct" in p:
            print(f"outlet-day {n} articles: Airflow/direct {p['airflow_over_direct']}x "
                  "(goal <= 1.5x)")
        if "peak_rss_mib" in p:
            print(f"outlet-day {n} articles: max task peak RSS "
                  f"{max(p['peak_rss_mib'].values()):.0f} MiB (goal < 1024 MiB at 50k)")
    q = _load("queries")
    if q:
        print(f"queries on {q['rows']:,} rows: files after 30 reruns = "
              f"{q['files_after_30_reruns']}")
        for name, f in q["queries"].items():
            print(f"  {name}: lake {f['lake_ms']} ms vs unpartitioned {f['unpartitioned_ms']} ms")


if __name__ == "__main__":
    main()
