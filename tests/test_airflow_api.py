"""The REST client's retries (``newslake.airflow_api``), against a loopback server that
answers as a busy api-server does: late, or 5xx. The real api-server cannot be made slow
on demand; the backfill tests (``tests/test_backfill.py``) unpause through the real one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers.loopback import Loopback, Reply

from newslake.airflow_api import UNPAUSE_TRIES, AirflowClient, StackError

pytestmark = pytest.mark.timeout(60)

DAG = "ingest_demo_harbor_wire"
PATH = f"/api/v2/dags/{DAG}"
JSON = {"Content-Type": "application/json"}
UNPAUSED = Reply(body=b'{"dag_id": "ingest_demo_harbor_wire", "is_paused": false}',
                 headers=JSON)
# Far longer than the client waits in these tests (0.2 s): the request times out.
LATE = Reply(body=UNPAUSED.body, headers=JSON, delay_s=5.0)


@pytest.fixture
def server() -> Iterator[Loopback]:
    with Loopback() as site:
        yield site


@pytest.mark.parametrize("first", [LATE, Reply(503, b'{"detail": "database is locked"}')],
                         ids=["no-answer-in-time", "locked-db"])
def test_an_unpause_that_gets_no_answer_or_a_5xx_is_asked_again(
    server: Loopback, first: Reply
) -> None:
    server.routes[PATH] = [first, UNPAUSED]
    client = AirflowClient(server.base)
    try:
        client.unpause(DAG, timeout=0.2)
    finally:
        client.close()
    assert server.hits[PATH] == 2
    assert [path for path, _ in server.requests] == [PATH, PATH]


def test_an_unpause_that_never_gets_an_answer_stops_with_a_clear_error(
    server: Loopback
) -> None:
    server.routes[PATH] = LATE
    client = AirflowClient(server.base)
    try:
        with pytest.raises(StackError) as failure:
            client.unpause(DAG, timeout=0.2)
    finally:
        client.close()
    message = str(failure.value)
    assert message.startswith(f"could not unpause {DAG}: PATCH /dags/{DAG}, "
                              f"{UNPAUSE_TRIES} tries, the last got no answer in 0.2 s")
    assert "Run the command again, or unpause the DAG in the Airflow UI" in message
    assert server.hits[PATH] == UNPAUSE_TRIES


def test_an_unpause_that_keeps_meeting_a_locked_db_stops_after_its_tries(
    server: Loopback
) -> None:
    server.routes[PATH] = Reply(503, b'{"detail": "database is locked"}', headers=JSON)
    client = AirflowClient(server.base)
    try:
        with pytest.raises(StackError, match=f"{UNPAUSE_TRIES} tries, the last got HTTP 503: "
                                             ".*database is locked"):
            client.unpause(DAG, timeout=0.2)
    finally:
        client.close()
    assert server.hits[PATH] == UNPAUSE_TRIES


def test_an_unpause_refused_with_a_4xx_is_not_asked_again(server: Loopback) -> None:
    server.routes[PATH] = Reply(404, b'{"detail": "The DAG was not found"}', headers=JSON)
    client = AirflowClient(server.base)
    try:
        with pytest.raises(StackError, match="HTTP 404.*The DAG was not found"):
            client.unpause(DAG, timeout=0.2)
    finally:
        client.close()
    assert server.hits[PATH] == 1
