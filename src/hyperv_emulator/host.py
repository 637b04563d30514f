"""An emulated Hyper-V host: a state file plus the schema of its Windows build.

`init_host` creates the file from a host profile and seeds what a freshly installed
Hyper-V host shows (the host system, its services, NUMA nodes, vSwitches, templates,
pools); `open_host` opens an existing one; `reset_host` removes every VM and job and
seeds again. A `Host` is cheap and holds no state of its own: open as many sessions
(in as many processes) as you like.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyperv_emulator import store
from hyperv_emulator.profiles import (
    HostProfile,
    load_profile,
    profile_from_mapping,
    profile_to_mapping,
)
from hyperv_emulator.providers.base import Ctx, HostSettings
from hyperv_emulator.schema.classes import all_definitions
from hyperv_emulator.schema.model import Registry

if TYPE_CHECKING:
    from hyperv_emulator.faults import FaultControl, RestartOutcome
    from hyperv_emulator.session import Session

# Namespaces a Windows Server host has even where the emulator serves no class in them,
# so that connecting succeeds (os-win opens root/StandardCimv2 at import time) and a
# query then fails on the class, as it would for a class the host lacks.
EXTRA_NAMESPACES = frozenset(
    {
        "root/standardcimv2",
        "root/microsoft/windows/storage",
        "root/wmi",
        "root/default",
        "root/interop",
        "root/msps",
        "root/microsoft/windows/hgs",
    }
)


@lru_cache(maxsize=8)
def registry_for(build: int) -> Registry:
    """The schema a host of this Windows build serves (built once per process)."""
    return Registry(all_definitions(), build)


class Host:
    def __init__(self, path: Path, profile: HostProfile, registry: Registry) -> None:
        self.path = path
        self.profile = profile
        self.registry = registry
        self._namespaces: frozenset[str] | None = None

    @property
    def hostname(self) -> str:
        return self.profile.hostname

    @property
    def build(self) -> int:
        return self.registry.build

    @property
    def settings(self) -> HostSettings:
        conn = store.connect(self.path)
        try:
            with store.transaction(conn, self.registry, self.hostname, write=False) as txn:
                return HostSettings.from_mapping(txn.meta("settings"))
        finally:
            conn.close()

    def update_settings(self, **changes: Any) -> HostSettings:
        """Change host knobs (job_polls, latency_ms, unique_vm_names) for every process."""
        known = {f.name for f in dataclasses.fields(HostSettings)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(
                f"unknown host setting(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(known))}"
            )
        conn = store.connect(self.path)
        try:
            with store.transaction(conn, self.registry, self.hostname, write=True) as txn:
                current = HostSettings.from_mapping(txn.meta("settings"))
                updated = dataclasses.replace(current, **changes)
                txn.set_meta("settings", dataclasses.asdict(updated))
                return updated
        finally:
            conn.close()

    def namespaces(self) -> frozenset[str]:
        if self._namespaces is None:
            spaces = {c.namespace.replace("\\", "/").lower() for c in self.registry.classes()}
            spaces |= EXTRA_NAMESPACES
            if self.profile.clustered:
                spaces.add("root/mscluster")
            self._namespaces = frozenset(spaces)
        return self._namespaces

    @property
    def faults(self) -> FaultControl:
        """Injected faults (kept in the state file): `add`, `hang`, `list`, `clear`."""
        from hyperv_emulator.faults import FaultControl

        return FaultControl(self)

    def restart(self) -> list[RestartOutcome]:
        """Restart the emulated Windows host (VMs follow their automatic actions)."""
        from hyperv_emulator.faults import restart_host

        return restart_host(self)

    def session(self, *, latency_ms: float | None = None) -> Session:
        from hyperv_emulator.session import Session

        return Session(self, latency_ms=latency_ms)

    def __repr__(self) -> str:
        return f"<Host {self.hostname} build {self.build} at {self.path}>"


def init_host(
    state_path: str | Path,
    profile: HostProfile | str = "ws2022",
    *,
    settings: HostSettings | None = None,
    overwrite: bool = False,
) -> Host:
    """Create a host state file from a profile (a preset name, a TOML path or a profile)."""
    path = Path(state_path)
    if isinstance(profile, str):
        profile = load_profile(profile)
    if path.exists():
        if not overwrite:
            raise FileExistsError(f"{path} already exists; use reset, or overwrite=True")
        _remove_state(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    registry = registry_for(profile.version_tuple[2])
    conn = store.connect(path)
    try:
        store.create_schema(conn)
        with store.transaction(conn, registry, profile.hostname, write=True) as txn:
            txn.set_meta("format", store.FORMAT)
            txn.set_meta("profile", profile_to_mapping(profile))
            txn.set_meta("settings", dataclasses.asdict(settings or HostSettings()))
            _seed(txn, profile)
    finally:
        conn.close()
    return Host(path, profile, registry)


def open_host(state_path: str | Path, *, registry: Registry | None = None) -> Host:
    """Open an existing host. `registry` replaces the schema (for engine tests only)."""
    path = Path(state_path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no emulated host here (create one with init_host)")
    conn = store.connect(path)
    try:
        row = conn.execute("SELECT value FROM meta WHERE name = 'profile'").fetchone()
    finally:
        conn.close()
    if row is None:
        raise ValueError(f"{path} is not an emulated Hyper-V host state file")
    import json

    profile = profile_from_mapping(json.loads(row[0]), source=str(path))
    return Host(path, profile, registry or registry_for(profile.version_tuple[2]))


def reset_host(state_path: str | Path) -> Host:
    """Remove every VM, job, change and fault; keep the profile and settings; seed again."""
    from hyperv_emulator.faults import forget_runtime
    from hyperv_emulator.providers.base import after_commit

    host = open_host(state_path)
    with host_context(host, write=True) as ctx:
        ctx.txn.wipe()
        _seed(ctx.txn, host.profile)
        forget_runtime(ctx)
    after_commit(host, ctx.txn.notes)
    return host


@contextmanager
def host_context(host: Host, *, write: bool = False) -> Iterator[Ctx]:
    """A provider's view of the host outside any CIM call (faults, restart, inventory).

    One transaction on its own connection; after a write, run the after-commit hooks
    with `ctx.txn.notes` (`providers.base.after_commit`) as a CIM call would.
    """
    conn = store.connect(host.path)
    try:
        with store.transaction(conn, host.registry, host.hostname, write=write) as txn:
            yield Ctx(txn, host.profile, HostSettings.from_mapping(txn.meta("settings")))
    finally:
        conn.close()


def _seed(txn: store.Txn, profile: HostProfile) -> None:
    from hyperv_emulator.providers import seed

    seed.seed_host(Ctx(txn, profile, HostSettings.from_mapping(txn.meta("settings"))))


def _remove_state(path: Path) -> None:
    from hyperv_emulator import serial

    serial.stop_serving(path)
    for suffix in ("", "-wal", "-shm"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            candidate.unlink()
