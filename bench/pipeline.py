"""One outlet-day end to end: through Airflow (``DAG.test()``) against the library alone.

The same steps run twice on the same synthetic outlet-day (bench/corpus.py): once called
directly from the library in one process (the baseline), once as Airflow tasks. The ratio
is Airflow's overhead (goal <= 1.5x at 10k articles). Then each step runs in a process of
its own, as a task would, to report its peak RSS (goal < 1 GiB at 50k articles a day).

    .venv/bin/python bench/pipeline.py [--articles 1000] [--skip-airflow] [--skip-direct]
                                       [--skip-rss] [--rss-every N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import report
from corpus import BenchOutlet

DAY = dt.date(2025, 3, 17)
STEP_PROBE = """
import json, sys, datetime as dt
from newslake.config import load_outlets
from newslake.pipeline import (RunSpec, discover_step, fetch_step, parse_step,
    validate_step, publish_step)
step, lake, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
spec = RunSpec(load_outlets()["bench_outlet"], dt.date(2025, 3, 17), "bench-rss", lake)
fn = {"discover": discover_step, "fetch": fetch_step, "parse": parse_step,
      "validate": validate_step, "publish": publish_step}
if step == "chunks":  # chunks not sampled: fetched and parsed in one process, unmeasured
    fetched = [fn["fetch"](spec, chunk) for chunk in args[0]]
    out = [[raw, fn["parse"](spec, raw)] for raw in fetched]
else:
    out = fn[step](spec, *args)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork+exec.
hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"out": out, "rss_mib": int(hwm.split()[1]) / 1024}, default=str))
"""


DIRECT_PROBE = """
import datetime as dt, json, sys, time
from newslake.config import load_outlets
from newslake.pipeline import RunSpec, run_day
started = time.perf_counter()
manifest = run_day(RunSpec(load_outlets()["bench_outlet"], dt.date(2025, 3, 17),
                           "bench-direct", sys.argv[1]))
print(json.dumps({"written": manifest["written"], "seconds": time.perf_counter() - started}))
"""


def _direct(lake: str, env: dict[str, str]) -> float:
    """The library alone, in a child process like the Airflow run (the server's threads
    must not share this process's GIL with the pipeline, or the baseline is handicapped)."""
    out = subprocess.run([sys.executable, "-c", DIRECT_PROBE, lake], capture_output=True,
                         text=True, env=env, check=True, timeout=7200)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  direct: {data['written']} written in {data['seconds']:.1f}s")
    return float(data["seconds"])


def _airflow(lake: str, env_extra: dict[str, str]) -> float:
    from newslake import airflow_env, airflow_local

    home = Path(tempfile.mkdtemp(prefix="bench-airflow-"))
    env = airflow_env.airflow_env(home, lake, env_extra)
    airflow_env.migrate_db(env)
    started = time.perf_counter()
    results = airflow_local.run_days(env, ["bench_outlet"], [DAY], progress=False)
    elapsed = time.perf_counter() - started
    print(f"  airflow: {results[0]['state']} in {elapsed:.1f}s (incl. ~DagBag load)")
    return elapsed


def _step_rss(lake: str, env: dict[str, str], every: int = 1) -> dict[str, float]:
    """Each step in a process of its own, as Airflow runs a task; the fetch and parse of
    every ``every``-th chunk too (the rest in one process, not measured: a chunk's work
    does not grow with the day, and 1,000 process starts cost more than the work)."""
    def run(step: str, *args: object) -> tuple[Any, float]:
        out = subprocess.run([sys.executable, "-c", STEP_PROBE, step, lake, json.dumps(args)],
                             capture_output=True, text=True, env=env, check=True, timeout=3600)
        data = json.loads(out.stdout.strip().splitlines()[-1])
        return data["out"], round(data["rss_mib"], 1)

    rss: dict[str, float] = {}
    # The steps' values (newslake.steps) go from one process to the next as JSON, as XCom
    # carries them.
    found, rss["discover"] = run("discover")
    chunks = found["chunks"]
    fetched: list[dict[str, Any]] = []
    parsed: list[dict[str, Any]] = []
    fetch_peak = parse_peak = 0.0
    for chunk in chunks[::every]:
        raw, peak = run("fetch", chunk)
        fetch_peak = max(fetch_peak, peak)
        fetched.append(raw)
        stat, peak = run("parse", raw)
        parse_peak = max(parse_peak, peak)
        parsed.append(stat)
    rest = [chunk for i, chunk in enumerate(chunks) if i % every]
    if rest:
        done, _ = run("chunks", rest)
        fetched += [raw for raw, _ in done]
        parsed += [stat for _, stat in done]
    rss["fetch (per chunk, max)"], rss["parse (per chunk, max)"] = fetch_peak, parse_peak
    validated, rss["validate"] = run("validate", parsed)
    _, rss["publish"] = run("publish", validated, fetched, found["discovery"])
    return rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--skip-airflow", action="store_true")
    parser.add_argument("--skip-direct", action="store_true",
                        help="no direct run (it is the Airflow run's baseline only)")
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--rss-every", type=int, default=1, metavar="N",
                        help="measure the fetch and parse of every N-th chunk only")
    args = parser.parse_args()
    figures: dict[str, object] = {"articles": args.articles}
    with BenchOutlet(per_day=args.articles) as outlet, tempfile.TemporaryDirectory() as tmp:
        outlets_dir = outlet.write_config(Path(tmp) / "outlets")
        os.environ["NEWSLAKE_OUTLETS_DIR"] = str(outlets_dir.parent)
        env = {**os.environ, "NEWSLAKE_OUTLETS_DIR": str(outlets_dir.parent)}
        print(f"{args.articles} articles, one outlet-day:")
        if not args.skip_direct or not args.skip_airflow:
            direct_s = _direct(f"{tmp}/lake-direct", env)
            figures["direct_s"] = round(direct_s, 2)
            figures["direct_articles_per_s"] = round(args.articles / direct_s, 1)
        if not args.skip_airflow:
            airflow_s = _airflow(f"{tmp}/lake-airflow", {"NEWSLAKE_OUTLETS_DIR":
                                                         str(outlets_dir.parent)})
            figures["airflow_s"] = round(airflow_s, 2)
            figures["airflow_over_direct"] = round(airflow_s / direct_s, 2)
            print(f"  overhead ratio {figures['airflow_over_direct']}x (goal <= 1.5x at 10k)")
        if not args.skip_rss:
            rss = _step_rss(f"{tmp}/lake-rss", env, args.rss_every)
            figures["peak_rss_mib"] = rss
            figures["rss_every_nth_chunk"] = args.rss_every
            for step, mib in rss.items():
                print(f"  peak RSS {step:<24} {mib:7.1f} MiB (goal < 1024 at 50k)")
    figures["bench_process_peak_rss_mib"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    report(f"pipeline_{args.articles}", figures)


if __name__ == "__main__":
    main()
