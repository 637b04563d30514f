"""os-win 5.9.0, the library written against real Hyper-V, drives the emulated host.

Every test here runs os-win's own utils unmodified (through `hyperv_emulator.oswin`)
and reads back what it set through os-win as well. os-win's retry decorators sleep a
second between attempts when a call fails; `os_win._utils.time` is replaced by a
clock that does not sleep, so expected failures stay fast. Nothing else is patched.
"""

from __future__ import annotations

import time
import types
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hyperv_emulator import oswin, wmi
from hyperv_emulator.host import Host, init_host
from hyperv_emulator.profiles import PRESETS, HostDisk, HostProfile

warnings.filterwarnings("ignore", message=".*Eventlet.*")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.peer)


PROFILE = PRESETS["ws2022"].replace(
    disks=(HostDisk(3, 20 * 2**30, "SERIAL-3"), HostDisk(4, 40 * 2**30, "SERIAL-4")),
)


@pytest.fixture
def emulate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[
        Callable[[HostProfile], Host]]:
    """Point os-win at a fresh emulated host of a given profile (call it once per test)."""

    def start(profile: HostProfile) -> Host:
        emulated = init_host(tmp_path / "host.db", profile)
        oswin.enable(emulated)
        import os_win._utils

        clock = types.SimpleNamespace(time=time.time, monotonic=time.monotonic,
                                      sleep=lambda seconds: None)
        monkeypatch.setattr(os_win._utils, "time", clock)
        return emulated

    yield start
    oswin.disable()
    wmi.unbind()


@pytest.fixture
def host(emulate: Callable[[HostProfile], Host]) -> Host:
    return emulate(PROFILE)


@pytest.fixture
def vmutils(host: Host) -> Any:
    from os_win import utilsfactory

    return utilsfactory.get_vmutils()


@pytest.fixture
def hostutils(host: Host) -> Any:
    from os_win import utilsfactory

    return utilsfactory.get_hostutils()


@pytest.fixture
def networkutils(host: Host) -> Any:
    from os_win import utilsfactory

    return utilsfactory.get_networkutils()
