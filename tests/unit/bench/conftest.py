"""Fixtures: os-win's flows on a fresh emulated host, and a tiny cached scale host.

os-win's retry decorators sleep between attempts when a call fails; `os_win._utils.time`
is replaced by a clock that does not sleep (as tests/peer does), so a regression that
makes a call fail shows up fast instead of after retries.
"""

from __future__ import annotations

import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bench.flows import Scenario, make_scenario
from bench.hosts import VOLUME_DISKS, ScaleHost, new_host, scale_host
from bench.oswin_flows import OsWinFlows

from hyperv_emulator.host import Host

EVENTLET = "ignore:(?s).*Eventlet is deprecated"  # os-win imports eventlet


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.filterwarnings(EVENTLET))

TINY = 4  # VMs on the scale host of these tests


@pytest.fixture
def open_oswin(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Host], OsWinFlows]]:
    """Open os-win's flows on a host; closed (os-win unhooked) after the test."""
    opened: list[OsWinFlows] = []

    def make(host: Host) -> OsWinFlows:
        flows = OsWinFlows(host)
        import os_win._utils

        clock = types.SimpleNamespace(time=time.time, monotonic=time.monotonic,
                                      sleep=lambda seconds: None)
        monkeypatch.setattr(os_win._utils, "time", clock)
        opened.append(flows)
        return flows

    yield make
    for flows in opened:
        flows.close()


@pytest.fixture
def fresh(tmp_path: Path) -> Callable[[str], tuple[Host, Scenario]]:
    """A fresh bench host and the round-trip scenario's instances, under a sub-folder."""

    def make(name: str) -> tuple[Host, Scenario]:
        folder = tmp_path / name
        return (new_host(folder / "host.db"),
                make_scenario(folder / "instances", volume_disks=VOLUME_DISKS))

    return make


@pytest.fixture(scope="session")
def tiny_scale(tmp_path_factory: pytest.TempPathFactory) -> ScaleHost:
    return scale_host(TINY, tmp_path_factory.mktemp("scale-cache"))
