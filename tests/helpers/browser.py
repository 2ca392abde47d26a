"""Headless Chromium driven over the DevTools protocol, for tests that use a UI as a user.

    with Browser(tmp_dir) as browser:
        browser.open("http://127.0.0.1:8080/")
        browser.wait_for("document.querySelector('input[name=username]') !== null")
        browser.evaluate("document.title")

One Chromium process (its own session and profile folder) under the library's supervisor
(``newslake.supervisor``), stopped by its PID; every wait has a timeout. Only
``websockets`` (already installed for Airflow) is needed.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import shutil
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

from newslake.supervisor import Supervisor

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run")


def missing() -> str | None:
    return None if Path(CHROMIUM).exists() else "chromium is not installed"


class BrowserError(RuntimeError):
    pass


class Browser:
    def __init__(self, base_dir: Path, timeout: float = 60.0) -> None:
        self.profile = Path(base_dir) / "chromium-profile"
        self.timeout = timeout
        self.supervisor = Supervisor(self.profile.parent, stop_timeout=15.0)
        self._ws: Any = None
        self._exit = contextlib.ExitStack()
        self._ids = itertools.count(1)

    def __enter__(self) -> Browser:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        from websockets.sync.client import connect

        self.profile.mkdir(parents=True, exist_ok=True)
        chromium = self.supervisor.spawn(
            "chromium", [CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}",
                         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                         "about:blank"])
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while not (port_file.exists() and port_file.read_text().strip()):
            if chromium.proc.poll() is not None or time.monotonic() > deadline:
                raise BrowserError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        pages = [t for t in requests.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
                 if t.get("type") == "page"]
        if not pages:
            raise BrowserError("chromium has no page")
        self._ws = self._exit.enter_context(connect(
            pages[0]["webSocketDebuggerUrl"], max_size=None, open_timeout=self.timeout))

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._exit.close()
        self._ws = None
        self.supervisor.stop()  # its process group: SIGTERM, SIGKILL after 15 s
        shutil.rmtree(self.profile, ignore_errors=True)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools command; its result (events in between are skipped)."""
        if self._ws is None:
            raise BrowserError("the browser is not started")
        msg_id = next(self._ids)
        self._ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"no answer to {method} in {self.timeout:.0f}s")
            answer = json.loads(self._ws.recv(timeout=left))
            if answer.get("id") == msg_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return dict(answer.get("result") or {})

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression!r}: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def wait_for(self, condition: str, timeout: float | None = None) -> None:
        """Until the JavaScript ``condition`` is true in the page, else BrowserError."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            with contextlib.suppress(BrowserError):  # a page still loading
                if self.evaluate(f"Boolean({condition})"):
                    return
            if time.monotonic() > deadline:
                raise BrowserError(f"not true after {timeout or self.timeout:.0f}s: "
                                   f"{condition}; page: {self.text()[:2000]!r}")
            time.sleep(0.3)

    def text(self) -> str:
        with contextlib.suppress(BrowserError):
            return str(self.evaluate("document.location.href + '\\n' + "
                                     "(document.body ? document.body.innerText : '')"))
        return ""

    def type_into(self, selector: str, value: str) -> None:
        """Set an input's value as typing would (React listens for the input event)."""
        self.evaluate(
            "(() => { const el = document.querySelector(" + json.dumps(selector) + ");"
            " const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype,"
            " 'value').set; set.call(el, " + json.dumps(value) + ");"
            " el.dispatchEvent(new Event('input', {bubbles: true})); })()"
        )
