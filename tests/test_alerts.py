"""Failure summaries, run metrics and the Airflow callbacks, without a scheduler.

``newslake.alerts`` is plain Python. ``plugins/newslake_callbacks.py`` hands its messages to
the SMTP and Slack providers' notifiers; they really send, to an SMTP server (aiosmtpd) and
a Slack-webhook stand-in (an HTTP server) on 127.0.0.1, both from a direct call and from a
failing DAG run by ``dag.test()``. Airflow's stats module is checked with a recording
backend.
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from helpers.compose import free_port
from helpers.probe_dag import environment, run_probe_dag

from newslake.alerts import (
    exception_line,
    failure_html,
    failure_summary,
    run_metrics,
    warning_summary,
)
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
    # An image built without the Slack provider: hide it although it is installed here.
    for name in ("airflow.providers.slack", "airflow.providers.slack.notifications",
                 "airflow.providers.slack.notifications.slack_webhook"):
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


def test_a_missing_connection_is_a_failed_send_not_a_crash(
    callbacks: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    outcome = callbacks.on_failure(_context(), variable=_variables(
        {"newslake_alert_slack_conn_id": "newslake_no_such_connection"}))
    assert outcome == {"slack": "failed"}
    assert "newslake_no_such_connection" in caplog.text


# --- real servers on loopback --------------------------------------------------------------

@dataclass
class Mailbox:
    """What the loopback SMTP server accepted: one parsed message per DATA."""

    port: int
    messages: list[email.message.EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.recipients.append(list(envelope.rcpt_tos))
        self.messages.append(cast(email.message.EmailMessage, email.message_from_bytes(
            envelope.content, policy=email.policy.default)))
        return "250 Message accepted for delivery"

    def conn_uri(self) -> str:
        """An Airflow SMTP connection to it (plain SMTP, the sender in the extras)."""
        return (f"smtp://127.0.0.1:{self.port}?disable_tls=true&disable_ssl=true"
                "&retry_limit=0&timeout=10&from_email=airflow%40example.com")


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(port=free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def _html_body(message: email.message.EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None, message.as_string()
    return str(cast(Any, part).get_content())


class _Webhook(BaseHTTPRequestHandler):
    """Answers like Slack's Incoming Webhooks (``200 ok``) and keeps each JSON body."""

    def do_POST(self) -> None:  # noqa: N802
        server: Any = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        server.posts.append((self.path, json.loads(body)))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def slack_webhook() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    server.daemon_threads = True
    server.posts = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    # A ``slackwebhook`` connection: the webhook's base URL in host, its token as password.
    server.conn_json = json.dumps({"conn_type": "slackwebhook", "schema": "http",
                                   "host": f"127.0.0.1:{port}/services",
                                   "password": "T000/B000/XXXX"})
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_email_goes_through_the_smtp_notifier(
    callbacks: ModuleType, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_NEWSLAKE_TEST_SMTP", mailbox.conn_uri())
    outcome = callbacks.on_failure(_context(), variable=_variables({
        "newslake_alert_email": "ops@example.com, oncall@example.com",
        "newslake_alert_smtp_conn_id": "newslake_test_smtp",
    }))
    assert outcome == {"email": "sent"}
    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert message["Subject"] == "newslake: ingest_demo_metro_ledger.fetch[2] failed (try 3/3)"
    assert message["From"] == "airflow@example.com"
    assert sorted(mailbox.recipients[0]) == ["oncall@example.com", "ops@example.com"]
    assert "ConnectionError: connection refused" in _html_body(message)


def test_slack_goes_through_the_webhook_notifier(
    callbacks: ModuleType, slack_webhook: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_NEWSLAKE_TEST_SLACK", slack_webhook.conn_json)
    outcome = callbacks.on_failure(
        _context(), variable=_variables({"newslake_alert_slack_conn_id": "newslake_test_slack"}))
    assert outcome == {"slack": "sent"}
    assert slack_webhook.posts == [
        ("/services/T000/B000/XXXX", {"text": failure_summary(_context())})]


WARNINGS = ["drift_field_coverage: authors present 0% vs baseline 100% (median of 4 days; "
            "allowed ±25% at 6 rows)",
            "drift_boilerplate: rows with a line repeated across the day (“<b>Watch</b>”) "
            "100% vs baseline 0%"]


def _published(**ti: Any) -> dict[str, Any]:
    context = _context(dag_id="ingest_demo_dnipro_visti", task_id="publish", map_index=-1,
                       try_number=1, **ti)
    del context["exception"]
    return context


def test_a_warned_run_mails_and_slacks_marked_as_a_warning(
    callbacks: ModuleType, mailbox: Mailbox, slack_webhook: Any,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_NEWSLAKE_TEST_SMTP", mailbox.conn_uri())
    monkeypatch.setenv("AIRFLOW_CONN_NEWSLAKE_TEST_SLACK", slack_webhook.conn_json)
    variables = _variables({"newslake_alert_email": "ops@example.com",
                            "newslake_alert_smtp_conn_id": "newslake_test_smtp",
                            "newslake_alert_slack_conn_id": "newslake_test_slack"})
    assert callbacks.on_warning(_published(), [], variable=variables) == {}
    assert mailbox.messages == [] and slack_webhook.posts == []

    with caplog.at_level(logging.INFO, logger="newslake.alerts"):
        outcome = callbacks.on_warning(_published(), WARNINGS, variable=variables)
    assert outcome == {"email": "sent", "slack": "sent"}
    line = warning_summary(_published(), WARNINGS)
    assert line == (f"newslake WARNING ingest_demo_dnipro_visti.publish run={RUN_ID}: "
                    "drift_field_coverage: authors present 0% vs baseline 100% (median of 4 "
                    "days; allowed ±25% at 6 rows); drift_boilerplate: rows with a line "
                    "repeated across the day (“<b>Watch</b>”) 100% vs baseline 0% "
                    f"| log: {LOG_URL}")
    assert caplog.records[0].levelno == logging.WARNING and caplog.records[0].getMessage() == line
    assert slack_webhook.posts == [("/services/T000/B000/XXXX", {"text": line})]
    (message,) = mailbox.messages
    assert message["Subject"] == ("newslake: ingest_demo_dnipro_visti published with "
                                  "warnings: drift_field_coverage, drift_boilerplate")
    body = _html_body(message)
    assert "authors present 0% vs baseline 100%" in body
    assert "&lt;b&gt;Watch&lt;/b&gt;" in body and "<b>Watch" not in body


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


# A failed batch check as the ingest DAG raises it; "{{ ti.task_id }}" must arrive as
# written (the notifiers' Jinja rendering is not applied to a message already built).
CHECK_FAILURE = ("probe 2026-11-25: batch checks failed: quarantine_share "
                 "(quarantine_share=1.0) {{ ti.task_id }}")
PROBE_DAG = """
import datetime as dt
from airflow.sdk import DAG, task
from newslake_callbacks import emit_run_stats, on_failure, on_warning

with DAG("newslake_callback_probe", schedule=None,
         start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
         default_args={"on_failure_callback": on_failure, "retries": 0}):
    @task
    def publish():
        from airflow.sdk import get_current_context

        assert emit_run_stats({"outlet": "probe", "written": 3, "quarantined": 1})
        on_warning(get_current_context(), ["drift_language: rows not in the outlet's "
                                           "language 50% vs baseline 0%"])

    @task
    def validate():
        from newslake.validate import BatchValidationError

        raise BatchValidationError(CHECK_FAILURE + "\\nsecond line")

    publish() >> validate()
""".replace("CHECK_FAILURE", repr(CHECK_FAILURE))
@pytest.mark.timeout(420)
def test_a_failing_dag_mails_and_slacks_through_airflow_connections(
    tmp_path: Path, mailbox: Mailbox, slack_webhook: Any
) -> None:
    """The wiring the ingest DAGs use, in a probe DAG run by ``dag.test()`` (own Airflow
    home and DAG folder, in a subprocess, so the session's DB and bundle stay untouched):
    turned on by Variables, servers and secrets in connections, as a deployment sets them."""
    env = {**environment(without=("AIRFLOW_CONN_", "AIRFLOW_VAR_")),
           "AIRFLOW_CONN_ALERTS_SMTP": mailbox.conn_uri(),
           "AIRFLOW_CONN_ALERTS_SLACK": slack_webhook.conn_json,
           "AIRFLOW_VAR_NEWSLAKE_ALERT_EMAIL": "data-team@example.com",
           "AIRFLOW_VAR_NEWSLAKE_ALERT_SMTP_CONN_ID": "alerts_smtp",
           "AIRFLOW_VAR_NEWSLAKE_ALERT_SLACK_CONN_ID": "alerts_slack"}
    done = run_probe_dag(tmp_path, PROBE_DAG, "newslake_callback_probe", env)
    out = done.stdout + done.stderr
    assert "PROBE [('publish', 'success'), ('validate', 'failed')]" in out, out[-3000:]
    error = f"BatchValidationError: {CHECK_FAILURE}"
    assert "newslake FAILED newslake_callback_probe.validate run=manual__" in out
    assert f"try=1/1: {error} | log: http" in out

    # publish warned (a check set to warn), then validate failed: both sent, each marked
    assert [path for path, _ in slack_webhook.posts] == ["/services/T000/B000/XXXX"] * 2
    warned, text = (post["text"] for _, post in slack_webhook.posts)
    assert warned.startswith("newslake WARNING newslake_callback_probe.publish run=manual__")
    assert "drift_language: rows not in the outlet's language 50% vs baseline 0%" in warned
    assert text.startswith("newslake FAILED newslake_callback_probe.validate run=manual__")
    assert f"try=1/1: {error} | log: http" in text and "second line" not in text

    assert mailbox.recipients == [["data-team@example.com"]] * 2
    assert mailbox.messages[0]["Subject"] == (
        "newslake: newslake_callback_probe published with warnings: drift_language")
    message = mailbox.messages[1]
    assert message["Subject"] == "newslake: newslake_callback_probe.validate failed (try 1/1)"
    body = _html_body(message)
    assert "quarantine_share (quarantine_share=1.0) {{ ti.task_id }}" in body
    assert "newslake_callback_probe" in body and "Task log" in body
