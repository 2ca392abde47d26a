"""Airflow-side hooks of newslake: the failure callback and the run metrics.

Airflow puts ``plugins/`` on ``sys.path``, so ``dags/ingest.py`` imports this module as
``newslake_callbacks``. It defines no ``AirflowPlugin``: the plugin manager imports it and
finds nothing to register, which is fine. Top-level imports stay light (no provider, no
Airflow import) because the DAG processor parses the DAG files that import it.

Notifications are off by default. Turn them on with Airflow Variables (or the matching
``AIRFLOW_VAR_…`` environment variables); the servers and secrets live in Airflow
connections:

- ``newslake_alert_email``: comma-separated addresses; sent by the SMTP provider's
  ``SmtpNotifier`` through the connection named by the Variable
  ``newslake_alert_smtp_conn_id`` (default: ``[email] email_conn_id``, i.e. ``smtp_default``;
  its extra ``from_email`` is the sender);
- ``newslake_alert_slack_conn_id``: a Slack Incoming Webhook connection id
  (``slackwebhook``: the webhook token in the password); sent by the Slack provider's
  ``SlackWebhookNotifier``.

The providers' notifiers do the sending (connection lookup, TLS, retries, the Slack API's
answers); newslake decides whether to send and what the message says
(``newslake.alerts``: which task of which DAG, the run, the try, the error's first line —
for a failed batch check its name and value — and the log link). A missing provider, a
missing connection or a failing server is logged, never raised: a callback that raises only
hides the original failure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from newslake.alerts import (
    failure_html,
    failure_subject,
    failure_summary,
    run_metrics,
    warning_html,
    warning_subject,
    warning_summary,
)

log = logging.getLogger("newslake.alerts")

EMAIL_VARIABLE = "newslake_alert_email"
SMTP_CONN_VARIABLE = "newslake_alert_smtp_conn_id"
SLACK_VARIABLE = "newslake_alert_slack_conn_id"


def get_variable(key: str) -> str | None:
    """An Airflow Variable, or None when unset or when Variables cannot be read here."""
    try:
        from airflow.sdk import Variable

        value = Variable.get(key, default=None)
    except Exception as exc:
        log.debug("cannot read Variable %s: %s", key, exc)
        return None
    if value is None:
        return None
    return str(value).strip() or None


def _send(notifier: Any, context: Mapping[str, Any]) -> None:
    """Send through a provider notifier, its content already final.

    ``notify()`` rather than ``notifier(context)``: calling the notifier would first render
    its fields as Jinja templates, and an error message that happens to contain ``{{`` would
    then be evaluated (or fail to render) instead of being sent as written."""
    notifier.notify(context)


def email_notifier(to: list[str], context: Mapping[str, Any], conn_id: str | None,
                   subject: str | None = None, html: str | None = None) -> Any:
    """The SMTP provider's notifier with newslake's subject and HTML body (a failure's
    unless given)."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    return SmtpNotifier(to=to, smtp_conn_id=conn_id,
                        subject=subject or failure_subject(context),
                        html_content=html or failure_html(context))


def slack_notifier(conn_id: str, text: str) -> Any:
    """The Slack provider's Incoming Webhook notifier with newslake's one-line summary."""
    from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

    return SlackWebhookNotifier(slack_webhook_conn_id=conn_id, text=text)


def send_email(to: list[str], context: Mapping[str, Any], conn_id: str | None,
               subject: str | None = None, html: str | None = None) -> None:
    _send(email_notifier(to, context, conn_id, subject, html), context)


def send_slack(conn_id: str, text: str, context: Mapping[str, Any]) -> None:
    _send(slack_notifier(conn_id, text), context)


def _try_send(channel: str, send: Callable[[], None]) -> str:
    try:
        send()
    except ImportError as exc:
        log.warning("newslake alert: %s notification not available (%s is not installed)",
                    channel, exc.name or exc)
        return "unavailable"
    except Exception as exc:
        log.warning("newslake alert: %s notification failed: %s: %s",
                    channel, type(exc).__name__, exc)
        return "failed"
    log.info("newslake alert: %s notification sent", channel)
    return "sent"


def on_failure(
    context: Mapping[str, Any], variable: Callable[[str], str | None] = get_variable
) -> dict[str, str]:
    """``on_failure_callback``: log one summary line; notify by mail/Slack when configured.

    Returns what happened per channel ("sent", "unavailable", "failed"; empty when no
    channel is configured), for tests and logs. Never raises.
    """
    outcome: dict[str, str] = {}
    try:
        line = failure_summary(context)
        log.error("%s", line)
        outcome = _notify(context, line, None, None, variable)
    except Exception:  # the callback must never be what fails
        log.exception("newslake alert callback failed")
    return outcome


def on_warning(
    context: Mapping[str, Any], warnings: Sequence[str],
    variable: Callable[[str], str | None] = get_variable,
) -> dict[str, str]:
    """A run published with batch checks set to ``warn`` firing (``warnings``, as the
    manifest's ``batch_warnings``): log one summary line and notify the channels a failure
    notifies, marked as a warning (``newslake WARNING …``). Returns and never raises as
    ``on_failure``; no warnings, nothing sent."""
    outcome: dict[str, str] = {}
    if not warnings:
        return outcome
    try:
        line = warning_summary(context, warnings)
        log.warning("%s", line)
        outcome = _notify(context, line, warning_subject(context, warnings),
                          warning_html(context, warnings), variable)
    except Exception:  # a warning's notification must never fail the run
        log.exception("newslake warning notification failed")
    return outcome


def _notify(context: Mapping[str, Any], line: str, subject: str | None, html: str | None,
            variable: Callable[[str], str | None]) -> dict[str, str]:
    """Mail and Slack ``line`` (the mail: ``subject`` and ``html``, a failure's if None)
    when their Variables are set."""
    outcome: dict[str, str] = {}
    email = variable(EMAIL_VARIABLE)
    if email:
        to = [a.strip() for a in email.replace(";", ",").split(",") if a.strip()]
        conn_id = variable(SMTP_CONN_VARIABLE)
        outcome["email"] = _try_send(
            "email", lambda: send_email(to, context, conn_id, subject, html))
    slack = variable(SLACK_VARIABLE)
    if slack:
        outcome["slack"] = _try_send("slack", lambda: send_slack(slack, line, context))
    return outcome


def emit_run_stats(manifest: Mapping[str, Any]) -> bool:
    """Send a run manifest's counts through Airflow's metrics (StatsD/OTel when enabled).

    Counters ``newslake.<outlet>.written`` etc., gauges ``newslake.<outlet>.quarantine_share``
    and ``.raw_bytes``. Without a metrics backend Airflow's calls are no-ops. Returns False
    (and logs) when metrics are not available; never raises.
    """
    try:
        from airflow.sdk.observability import stats

        counters, gauges = run_metrics(manifest)
        tags = {"outlet": str(manifest.get("outlet", "unknown"))}
        for name, count in counters.items():
            stats.incr(name, count=count, tags=tags)
        for name, value in gauges.items():
            stats.gauge(name, value, tags=tags)
    except Exception as exc:
        log.warning("newslake: run metrics not sent: %s: %s", type(exc).__name__, exc)
        return False
    return True
