"""``python -m demo_site --port 8765``: serve the demo newsroom until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import threading

from demo_site.server import DemoNewsroom, utc_now


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo_site", description=__doc__)
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.add_argument("--now", type=dt.datetime.fromisoformat, default=None,
                        help="freeze the newsroom's clock (ISO 8601, UTC if no offset)")
    args = parser.parse_args(argv)
    frozen: dt.datetime | None = args.now
    if frozen is not None and frozen.tzinfo is None:
        frozen = frozen.replace(tzinfo=dt.UTC)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    clock = (lambda: frozen) if frozen is not None else utc_now
    with DemoNewsroom(port=args.port, clock=clock, verbose=args.verbose) as site:
        print(site.base_url, flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
