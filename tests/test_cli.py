"""The ``newslake`` command's answers to bad arguments: one line naming what is wrong and
exit 2, before any work starts (no Airflow, no lake, no fetch)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from newslake import cli, clock

OUTLET = "demo_metro_ledger"  # start_date 2024-01-01


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["run", "--outlet", OUTLET, "--date", "2024-13-01"], "--date"),
        (["reparse", "--outlet", OUTLET, "--from", "yesterday"], "--from"),
        (["reparse", "--outlet", OUTLET, "--from", "2024-03-01", "--to", "2024-03-32"], "--to"),
        (["outlets", "check", OUTLET, "--date", "1.3.2024"], "--date"),
        (["backfill", "--outlet", OUTLET, "--from", "2024-02-30"], "--from"),
        (["backfill", "--outlet", OUTLET, "--from", "2024-03-01", "--to", "03/02/2024"], "--to"),
    ],
)
def test_a_day_that_is_not_a_date_is_a_usage_error(
    argv: list[str], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}" in err
    assert f"{argv[argv.index(option) + 1]!r} is not a day (YYYY-MM-DD)" in err
    assert "Traceback" not in err


def _backfill(tmp_path: Path, *days: str) -> list[str]:
    span = ["--from", days[0]] + (["--to", days[1]] if len(days) > 1 else [])
    return ["backfill", "--outlet", OUTLET, *span, "--lake", str(tmp_path / "lake"),
            "--airflow-home", str(tmp_path / "airflow")]


def test_backfill_refuses_days_it_cannot_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    today = clock.utc_today()
    yesterday = today - dt.timedelta(days=1)
    cases = {
        ("2024-03-05", "2024-03-01"): "--from 2024-03-05 is after --to 2024-03-01",
        (yesterday.isoformat(), today.isoformat()):
            f"--to {today} is not over yet (UTC): the last day a backfill can run is {yesterday}",
        ("2023-12-31",): "--from 2023-12-31 is before the outlet's start_date 2024-01-01",
    }
    for days, message in cases.items():
        assert cli.main(_backfill(tmp_path, *days)) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "airflow").exists()  # refused before Airflow was started
    assert not (tmp_path / "lake").exists()


def test_backfill_of_an_unknown_outlet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = _backfill(tmp_path, "2024-03-01")
    argv[argv.index(OUTLET)] = "no_such_outlet"
    assert cli.main(argv) == 2
    assert "no_such_outlet" in capsys.readouterr().err
    assert not (tmp_path / "airflow").exists()
