"""What a failure, a warning or a finished run says to people and to metrics: plain text
and numbers.

Airflow hands a callback a context (``ti``, ``dag``, ``run_id``, ``exception``, …); the
functions here read what they need from any mapping shaped like it and never raise, so
that a callback built on them cannot fail on a missing key. Nothing here imports Airflow:
``plugins/newslake_callbacks.py`` does the sending.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

MAX_ERROR_CHARS = 300
# Manifest counts sent as counters, named ``newslake.<outlet>.<count>``.
COUNTED = (
    "discovered", "fetched", "fetch_failed", "parsed", "parse_failed",
    "skipped_out_of_window", "skipped_duplicate", "written", "quarantined",
)


def _attr(obj: Any, name: str) -> Any:
    """``obj.name`` or ``obj[name]``; None when absent or when reading it raises."""
    if obj is None:
        return None
    try:
        if isinstance(obj, Mapping):
            return obj.get(name)
        return getattr(obj, name, None)
    except Exception:  # a property may need config or a server (ti.log_url)
        return None


def _one_line(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def exception_line(exception: Any) -> str:
    """``Type: first line of the message`` of an exception (or of a string)."""
    if exception is None:
        return "no exception in context"
    if isinstance(exception, BaseException):
        lines = str(exception).strip().splitlines()
        first = lines[0] if lines else ""
        name = type(exception).__name__
        return _one_line(f"{name}: {first}" if first else name)
    lines = str(exception).strip().splitlines()
    return _one_line(lines[0] if lines else "")


def _task_label(ti: Any, context: Mapping[str, Any]) -> str:
    task_id = _attr(ti, "task_id") or _attr(context.get("task"), "task_id") or "?"
    map_index = _attr(ti, "map_index")
    if isinstance(map_index, int) and map_index >= 0:
        return f"{task_id}[{map_index}]"
    return str(task_id)


def failure_fields(context: Mapping[str, Any]) -> dict[str, str]:
    """dag, task, run, try, error and log URL of a failed task, as strings ("?" when unknown)."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = _attr(ti, "dag_id") or _attr(context.get("dag"), "dag_id") or "?"
    run_id = context.get("run_id") or _attr(ti, "run_id") or _attr(
        context.get("dag_run"), "run_id") or "?"
    try_number = _attr(ti, "try_number")
    max_tries = _attr(ti, "max_tries")
    if isinstance(try_number, int) and isinstance(max_tries, int):
        tries = f"{try_number}/{max_tries + 1}"
    else:
        tries = str(try_number) if try_number is not None else "?"
    return {
        "dag": str(dag_id),
        "task": _task_label(ti, context),
        "run": str(run_id),
        "try": tries,
        "error": exception_line(context.get("exception")),
        "log_url": str(_attr(ti, "log_url") or "no log URL"),
    }


def failure_summary(context: Mapping[str, Any]) -> str:
    """One line for a log, a chat message or a mail subject line's body::

        newslake FAILED ingest_demo_metro_ledger.fetch[2] run=scheduled__2026-11-25T00:00:00+00:00
        try=3/3: ConnectionError: refused | log: http://airflow/dags/…
    """
    try:
        f = failure_fields(context)
    except Exception as exc:  # never let the alert path raise
        return f"newslake FAILED (context unreadable: {type(exc).__name__})"
    return (f"newslake FAILED {f['dag']}.{f['task']} run={f['run']} try={f['try']}: "
            f"{f['error']} | log: {f['log_url']}")


def failure_subject(context: Mapping[str, Any]) -> str:
    """A short mail subject: which task of which DAG failed."""
    try:
        f = failure_fields(context)
    except Exception:
        return "newslake: a task failed"
    return f"newslake: {f['dag']}.{f['task']} failed (try {f['try']})"


def failure_html(context: Mapping[str, Any]) -> str:
    """A small HTML mail body: the summary fields and a link to the log."""
    try:
        f = failure_fields(context)
    except Exception:
        return f"<p>{html.escape(failure_summary(context))}</p>"
    rows = "".join(
        f"<tr><th align=left>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in f.items() if k != "log_url")
    link = html.escape(f["log_url"], quote=True)
    return f'<table>{rows}</table><p><a href="{link}">Task log</a></p>'


def warning_summary(context: Mapping[str, Any], warnings: Sequence[str]) -> str:
    """One line for a run that published with batch checks set to ``warn`` firing::

        newslake WARNING ingest_demo_dnipro_visti.publish run=scheduled__2026-06-18T00:00:00+00:00:
        drift_field_coverage: authors present 0% vs baseline 100% (…) | log: http://airflow/…
    """
    text = _one_line("; ".join(warnings)) or "no warning given"
    try:
        f = failure_fields(context)
    except Exception as exc:  # never let the alert path raise
        return f"newslake WARNING (context unreadable: {type(exc).__name__}): {text}"
    return f"newslake WARNING {f['dag']}.{f['task']} run={f['run']}: {text} | log: {f['log_url']}"


def warning_subject(context: Mapping[str, Any], warnings: Sequence[str]) -> str:
    """A short mail subject: which DAG's run warned, and which checks."""
    checks = ", ".join(dict.fromkeys(w.split(":", 1)[0].split(" (", 1)[0] for w in warnings))
    try:
        dag = failure_fields(context)["dag"]
    except Exception:
        dag = "a run"
    return f"newslake: {dag} published with warnings: {checks or '?'}"


def warning_html(context: Mapping[str, Any], warnings: Sequence[str]) -> str:
    """A small HTML mail body: dag, task and run, each warning, a link to the log."""
    try:
        f = failure_fields(context)
    except Exception:
        return f"<p>{html.escape(warning_summary(context, warnings))}</p>"
    rows = "".join(f"<tr><th align=left>{k}</th><td>{html.escape(f[k])}</td></tr>"
                   for k in ("dag", "task", "run"))
    items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
    link = html.escape(f["log_url"], quote=True)
    return (f"<table>{rows}</table><p>Published with these batch checks warning:</p>"
            f'<ul>{items}</ul><p><a href="{link}">Task log</a></p>')


def run_metrics(manifest: Mapping[str, Any]) -> tuple[dict[str, int], dict[str, float]]:
    """The counters and gauges a run manifest sends to metrics.

    Counters ``newslake.<outlet>.<count>`` (summed by StatsD over time) and the gauges
    ``newslake.<outlet>.quarantine_share`` and ``newslake.<outlet>.raw_bytes``.
    """
    outlet = str(manifest.get("outlet") or "unknown")
    prefix = f"newslake.{outlet}"
    counters = {
        f"{prefix}.{name}": int(manifest[name])
        for name in COUNTED if isinstance(manifest.get(name), int)
    }
    gauges: dict[str, float] = {}
    written, quarantined = manifest.get("written"), manifest.get("quarantined")
    if isinstance(written, int) and isinstance(quarantined, int):
        total = written + quarantined
        gauges[f"{prefix}.quarantine_share"] = round(quarantined / total, 4) if total else 0.0
    if isinstance(manifest.get("raw_bytes"), int):
        gauges[f"{prefix}.raw_bytes"] = float(manifest["raw_bytes"])
    return counters, gauges
