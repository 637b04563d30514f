"""The cloud's folder: where each piece keeps its files, and the cloud's accounts.

Everything a restarted cloud needs is here, so stopping and starting it again on the same
folder keeps servers, flavors, images, ports and volumes:

    cloud.json          accounts (ids, passwords) and the token-signing secret
    db/                 nova_api, nova_cell0, nova_cell1, placement and services SQLite
    images/             image data uploaded to the image service
    volumes/            volume files of the volume service
    nova/               nova's state_path: compute_id, instances/, locks/
    hosts/<host>/       one folder per emulated host: its state file, instances/, node id
    etc/                nova.conf and api-paste.ini as generated for this run (to read)
    log/cloud.log       every service's log
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = 1


@dataclass(frozen=True)
class Account:
    """A user with a password, a role set and the project it works in."""

    name: str
    user_id: str
    password: str
    project_name: str
    project_id: str
    roles: tuple[str, ...]


class StateDirError(RuntimeError):
    """The folder cannot hold a cloud (unwritable, or another program's files)."""


class StateDir:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().resolve()

    # Where things are.
    @property
    def db(self) -> Path:
        return self.root / "db"

    @property
    def images(self) -> Path:
        return self.root / "images"

    @property
    def volumes(self) -> Path:
        return self.root / "volumes"

    @property
    def nova(self) -> Path:
        return self.root / "nova"

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def log(self) -> Path:
        return self.root / "log" / "cloud.log"

    @property
    def manifest(self) -> Path:
        return self.root / "cloud.json"

    def database(self, name: str) -> Path:
        return self.db / f"{name}.sqlite"

    def host(self, host: str) -> Path:
        return self.root / "hosts" / host

    def prepare(self) -> bool:
        """Create the folders; True when this is the cloud's first start here."""
        if self.root.exists() and not self.root.is_dir():
            raise StateDirError(f"state dir {self.root} exists and is not a folder")
        first = not self.manifest.exists()
        if first and self.root.is_dir() and any(self.root.iterdir()):
            raise StateDirError(
                f"state dir {self.root} is not empty and holds no cloud.json: choose an "
                "empty or new folder (the cloud will not mix its files with others)"
            )
        for folder in (self.db, self.images, self.volumes, self.nova, self.etc,
                       self.log.parent, self.root / "hosts"):
            folder.mkdir(parents=True, exist_ok=True)
        return first

    def load_or_create_manifest(self) -> dict[str, Any]:
        """The accounts and the secret, made once and kept for every later start."""
        if self.manifest.exists():
            data = json.loads(self.manifest.read_text())
            if data.get("format") != FORMAT:
                raise StateDirError(
                    f"{self.manifest}: format {data.get('format')!r}, this nova-hyperv "
                    f"reads format {FORMAT}"
                )
            return data
        data = new_manifest()
        temporary = self.manifest.with_suffix(".tmp")
        with open(temporary, "w", opener=_private) as stream:
            json.dump(data, stream, indent=2)
        temporary.replace(self.manifest)
        return data


def new_manifest() -> dict[str, Any]:
    projects = {name: uuid.uuid4().hex for name in ("admin", "demo", "service")}

    def account(name: str, project: str, roles: list[str]) -> dict[str, Any]:
        return {
            "name": name,
            "user_id": uuid.uuid4().hex,
            "password": secrets.token_urlsafe(12),
            "project_name": project,
            "project_id": projects[project],
            "roles": roles,
        }

    return {
        "format": FORMAT,
        "secret": secrets.token_hex(32),
        "projects": projects,
        "accounts": [
            account("admin", "admin", ["admin", "member", "reader"]),
            account("demo", "demo", ["member", "reader"]),
            # nova's own account, for its calls to placement, network and volume, and
            # the network service's calls back to nova (port events).
            account("nova", "service", ["admin", "member", "reader", "service"]),
        ],
    }


def accounts(manifest: dict[str, Any]) -> dict[str, Account]:
    return {
        a["name"]: Account(a["name"], a["user_id"], a["password"], a["project_name"],
                           a["project_id"], tuple(a["roles"]))
        for a in manifest["accounts"]
    }


def _private(path: str, flags: int) -> int:
    # Passwords and the secret: readable by the owner only.
    return os.open(path, flags, 0o600)
