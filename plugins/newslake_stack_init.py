"""The team stack's init step, after ``airflow db migrate`` (docker-compose.yaml's
``airflow-init``): the UI admin's password and the lake's bucket. Idempotent.

    python /opt/airflow/plugins/newslake_stack_init.py

- The simple auth manager reads each user's password from the JSON file named by
  ``[core] simple_auth_manager_passwords_file``; the admin's (``NEWSLAKE_ADMIN_USER``,
  ``NEWSLAKE_ADMIN_PASSWORD``, from .env) is set there, other users' entries are kept
  (the manager generates a password for a listed user that has none).
- The lake's bucket (Variable ``newslake_lake``, an ``s3://bucket/prefix``) is created
  through the lake connection the DAGs use (``newslake_storage.lake_storage``), unless it
  exists. A local lake needs nothing.

Not a plugin: Airflow imports this file from the plugins folder and finds nothing in it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def write_admin_password(path: Path, user: str, password: str) -> None:
    """Set ``user``'s password in the passwords file, written aside and renamed (0600)."""
    users: dict[str, str] = {}
    if path.exists():
        users = json.loads(path.read_text() or "{}")
    users[user] = password
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.touch(mode=0o600)
    tmp.write_text(json.dumps(users) + "\n")
    os.replace(tmp, path)


def main() -> int:
    from airflow.configuration import conf

    user = os.environ.get("NEWSLAKE_ADMIN_USER") or "admin"
    password = os.environ.get("NEWSLAKE_ADMIN_PASSWORD")
    if not password:
        print("NEWSLAKE_ADMIN_PASSWORD is not set: set AIRFLOW_ADMIN_PASSWORD in .env",
              file=sys.stderr)
        return 2
    passwords = Path(conf.get("core", "simple_auth_manager_passwords_file"))
    write_admin_password(passwords, user, password)
    print(f"UI admin {user!r}: password set in {passwords}")

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from newslake_storage import lake_storage, lake_uri

    from newslake.lake import ensure_bucket

    lake = lake_uri()
    bucket = ensure_bucket(lake, lake_storage(lake))
    print(f"lake {lake}: " + (f"bucket {bucket!r} ready" if bucket else "local, nothing to do"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
