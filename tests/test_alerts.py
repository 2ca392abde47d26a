"""Failure summaries, run metrics and the Airflow callbacks, without a scheduler.

``newslake.alerts`` is plain Python; ``plugins/newslake_callbacks.py`` is exercised with a
fake Variable lookup, a real SMTP exchange with a loopback sink, the missing Slack
provider, and Airflow's stats module with a recording backend.
"""

from __future__ import annotations

import importlib.util
import logging
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any, cast

import pytest

from newslake.alerts import exception_line, failure_html, failure_summary, run_metrics
from newslake.settings import PROJECT_ROOT

RUN_ID = "scheduled__2026-11-25T00:00:00+00:00"
LOG_URL = "http://localhost:8080/dags/ingest_demo_metro_ledger/runs/x/tasks/fetch/mapped/2"


def _context(**ti_overrides: Any) -> dict[str, Any]:
    ti = SimpleNamespace(dag_id="ingest_demo_metro_ledger", task_id="fetch", map_index=2,
                         try_number=3, max_tries=2, run_id=RUN_ID, log_url=LOG_URL)
    for key, value in ti_overrides.items():
        setattr(ti, key, value)
    return {"ti": ti, "run_id": RUN_ID,
            "exception": ConnectionError("connection refused\nTraceback (most recent…)")}


def test_failure_summary_is_one_line_with_everything_an_engineer_needs() -> None:
    assert failure_summary(_context()) == (
        "newslake FAILED ingest_demo_metro_ledger.fetch[2] "
        f"run={RUN_ID} try=3/3: ConnectionError: connection refused | log: {LOG_URL}"
    )


def test_failure_summary_copes_with_partial_or_hostile_contexts() -> None:
    class Ti:
        dag_id, task_id, map_index, try_number, max_tries = "d", "publish", -1, 1, 2

        @property
        def log_url(self) -> str:
            raise RuntimeError("no config here")

    line = failure_summary({"ti": Ti(), "exception": "BatchValidationError: x\ny"})
    assert line == (
        "newslake FAILED d.publish run=? try=1/3: BatchValidationError: x | log: no log URL")
    assert failure_summary({}) == (
        "newslake FAILED ?.? run=? try=?: no exception in context | log: no log URL")
    long = failure_summary({"exception": ValueError("a   b\t" + "x" * 1000)})
    assert "\n" not in long and "\t" not in long and len(long) < 400
    assert exception_line(KeyError()) == "KeyError"


def test_failure_html_escapes() -> None:
    body = failure_html({**_context(), "exception": ValueError("<script>")})
    assert "<script>" not in body and "&lt;script&gt;" in body and LOG_URL in body


def test_run_metrics_from_a_manifest() -> None:
    manifest = {"outlet": "demo_bayside_press", "discovered": 16, "fetched": 16,
                "fetch_failed": 0, "parsed": 16, "parse_failed": 0, "skipped_out_of_window": 11,
                "skipped_duplicate": 0, "written": 5, "quarantined": 0, "raw_bytes": 1234,
                "failed_checks": {}, "date": "2026-11-22"}
    counters, gauges = run_metrics(manifest)
    assert counters["newslake.demo_bayside_press.written"] == 5
    assert counters["newslake.demo_bayside_press.skipped_out_of_window"] == 11
    assert len(counters) == 9
    assert gauges == {"newslake.demo_bayside_press.quarantine_share": 0.0,
                      "newslake.demo_bayside_press.raw_bytes": 1234.0}


# --- the Airflow side (plugins/newslake_callbacks.py) -------------------------------------

@pytest.fixture
def callbacks() -> ModuleType:
    plugins = str(PROJECT_ROOT / "plugins")
    if plugins not in sys.path:  # Airflow adds it; the test does not rely on that
        sys.path.append(plugins)
    import newslake_callbacks

    return newslake_callbacks


def _variables(values: dict[str, str]) -> Any:
    return lambda key: values.get(key)


def test_on_failure_logs_and_notifies_nobody_by_default(
    callbacks: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="newslake.alerts"):
        assert callbacks.on_failure(_context(), variable=_variables({})) == {}
    assert [r.getMessage() for r in caplog.records] == [failure_summary(_context())]


def test_default_variable_lookup_is_off_and_safe(callbacks: ModuleType) -> None:
    assert callbacks.get_variable("newslake_alert_email") is None


def test_missing_slack_provider_is_logged_not_raised(
    callbacks: ModuleType, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The Slack provider is not a dependency of newslake; hide it even where it is installed.
    for name in ("airflow.providers.slack", "airflow.providers.slack.hooks.slack_webhook"):
        monkeypatch.setitem(sys.modules, name, None)
    with caplog.at_level(logging.INFO, logger="newslake.alerts"):
        outcome = callbacks.on_failure(
            _context(), variable=_variables({"newslake_alert_slack_conn_id": "slack_alerts"}))
    assert outcome == {"slack": "unavailable"}
    assert "slack notification not available" in caplog.text


def test_a_broken_notifier_never_breaks_the_callback(
    callbacks: ModuleType, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(*args: Any) -> None:
        raise OSError("smtp down")

    monkeypatch.setattr(callbacks, "send_email", boom)
    outcome = callbacks.on_failure(
        _context(), variable=_variables({"newslake_alert_email": "ops@example.com"}))
    assert outcome == {"email": "failed"} and "smtp down" in caplog.text

    def broken_variable(key: str) -> str:
        raise RuntimeError("variables unreachable")

    assert callbacks.on_failure(_context(), variable=broken_variable) == {}


class _SmtpSink(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept one mail; keeps what it got on the server."""

    def handle(self) -> None:
        server: Any = self.server
        self.wfile.write(b"220 sink ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line.decode().strip().upper()
            if verb.startswith(("EHLO", "HELO")):
                self.wfile.write(b"250 sink\r\n")
            elif verb.startswith("RCPT TO"):
                server.recipients.append(line.decode().strip())
                self.wfile.write(b"250 OK\r\n")
            elif verb == "DATA":
                self.wfile.write(b"354 go on\r\n")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                server.messages.append(data.decode())
                self.wfile.write(b"250 queued\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


@pytest.fixture
def smtp_sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    server: Any = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpSink)
    server.daemon_threads = True
    server.messages, server.recipients = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    monkeypatch.setenv(
        "AIRFLOW_CONN_NEWSLAKE_TEST_SMTP",
        f"smtp://127.0.0.1:{port}?disable_tls=true&disable_ssl=true&retry_limit=0"
        "&from_email=airflow%40example.com&timeout=10",
    )
    yield server
    server.shutdown()
    server.server_close()


def test_email_goes_through_the_smtp_provider(callbacks: ModuleType, smtp_sink: Any) -> None:
    outcome = callbacks.on_failure(_context(), variable=_variables({
        "newslake_alert_email": "ops@example.com, oncall@example.com",
        "newslake_alert_smtp_conn_id": "newslake_test_smtp",
    }))
    assert outcome == {"email": "sent"}
    assert len(smtp_sink.messages) == 1
    message = smtp_sink.messages[0]
    assert "Subject: newslake: ingest_demo_metro_ledger.fetch[2] failed (try 3/3)" in message
    assert any("oncall@example.com" in r for r in smtp_sink.recipients)


def test_emit_run_stats_goes_through_airflow_stats(
    callbacks: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.sdk._shared.observability.metrics import stats as stats_impl
    from airflow.sdk.observability import stats

    sent: list[tuple[str, str, float]] = []

    class Recorder:
        def incr(self, stat: str, count: int = 1, rate: float = 1, *, tags: Any = None) -> None:
            sent.append(("incr", stat, count))

        def gauge(self, stat: str, value: float, rate: float = 1, delta: bool = False, *,
                  tags: Any = None) -> None:
            sent.append(("gauge", stat, value))

    for name in ("_factory", "_backend", "_export_legacy_names"):  # restored after the test
        monkeypatch.setattr(stats_impl, name, getattr(stats_impl, name))
    stats.initialize(factory=cast(Any, Recorder), export_legacy_names=True)
    manifest = {"outlet": "demo_metro_ledger", "written": 6, "quarantined": 2, "fetch_failed": 2}
    assert callbacks.emit_run_stats(manifest) is True
    assert ("incr", "newslake.demo_metro_ledger.written", 6) in sent
    assert ("incr", "newslake.demo_metro_ledger.fetch_failed", 2) in sent
    assert ("gauge", "newslake.demo_metro_ledger.quarantine_share", 0.25) in sent



PROBE_DAG = """
import datetime as dt
from airflow.sdk import DAG, task
from newslake_callbacks import emit_run_stats, on_failure

with DAG("newslake_callback_probe", schedule=None,
         start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
         default_args={"on_failure_callback": on_failure, "retries": 0}):
    @task
    def publish():
        assert emit_run_stats({"outlet": "probe", "written": 3, "quarantined": 1})

    @task
    def fetch():
        raise ValueError("probe failure\\nsecond line")

    publish() >> fetch()
"""
PROBE_RUN = """
import os, sys
from pathlib import Path
from newslake.airflow_local import airflow_env, migrate_db
home = Path(sys.argv[1])
os.environ.update(airflow_env(home, str(home / "lake"), {
    "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
    "AIRFLOW_VAR_NEWSLAKE_ALERT_SLACK_CONN_ID": "slack_alerts",
}))
migrate_db(dict(os.environ))
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=str(home / "dags"))
assert bag.import_errors == {}, bag.import_errors
run = bag.get_dag("newslake_callback_probe").test()
print("PROBE", sorted((ti.task_id, str(ti.state)) for ti in run.get_task_instances()))
"""


@pytest.mark.timeout(300)
def test_callbacks_run_inside_airflow(tmp_path: Path) -> None:
    """The wiring the ingest DAGs use, in a probe DAG run by ``dag.test()`` (own Airflow
    home and DAG folder, in a subprocess, so the session's DB and bundle stay untouched)."""
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "probe.py").write_text(PROBE_DAG)
    done = subprocess.run([sys.executable, "-c", PROBE_RUN, str(tmp_path)],
                          capture_output=True, text=True, timeout=240)
    out = done.stdout + done.stderr
    assert "PROBE [('fetch', 'failed'), ('publish', 'success')]" in out, out[-3000:]
    assert "newslake FAILED newslake_callback_probe.fetch run=manual__" in out
    assert "try=1/1: ValueError: probe failure | log: http" in out
    if importlib.util.find_spec("airflow.providers.slack") is None:
        assert "slack notification not available" in out
