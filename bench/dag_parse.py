"""How long Airflow takes to parse the DAG file (goal: < 0.1 s a file).

Measured in a fresh interpreter each time, after `import airflow.sdk` (which every DAG
file pays once per parsing process, so it is the baseline, not part of the figure).

    .venv/bin/python bench/dag_parse.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from _common import report

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import time, json, sys, runpy
sys.path.insert(0, sys.argv[2])  # plugins/: Airflow puts it on sys.path
t0 = time.perf_counter(); import airflow.sdk; t1 = time.perf_counter()
ns = runpy.run_path(sys.argv[1]); t2 = time.perf_counter()
dags = [k for k in ns if k.startswith(('ingest_', 'reparse_'))]
print(json.dumps({"import_airflow_sdk_s": t1 - t0, "dag_file_s": t2 - t1, "dags": len(dags)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    figures: dict[str, dict[str, float]] = {}
    for dag_file in sorted((ROOT / "dags").glob("*.py")):
        runs = []
        for _ in range(args.repeat):
            out = subprocess.run(
                [sys.executable, "-c", PROBE, str(dag_file), str(ROOT / "plugins")],
                capture_output=True, text=True,
                check=True, cwd=ROOT, timeout=120,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        best = min(runs, key=lambda r: r["dag_file_s"])
        figures[dag_file.name] = {
            "dag_file_s": round(best["dag_file_s"], 4),
            "baseline_import_airflow_sdk_s": round(best["import_airflow_sdk_s"], 4),
            "dags": best["dags"],
            "goal_s": 0.1,
            "goal_met": best["dag_file_s"] < 0.1,
        }
        print(f"{dag_file.name:<14} parse {best['dag_file_s'] * 1000:7.1f} ms "
              f"({best['dags']} DAGs; goal < 100 ms)  baseline import airflow.sdk "
              f"{best['import_airflow_sdk_s'] * 1000:.0f} ms")
    report("dag_parse", {"files": figures})


if __name__ == "__main__":
    main()
