"""One session fixture, two adapters: every contract test runs over both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hyperv_emulator import Host, init_host
from hyperv_emulator import wmi as facade
from nova_hyperv import cim


@pytest.fixture
def host(tmp_path: Path) -> Host:
    return init_host(tmp_path / "host.db", "ws2022")


@pytest.fixture(params=["emulated", "wmi"])
def session(request: pytest.FixtureRequest, host: Host) -> Iterator[cim.CimSession]:
    if request.param == "emulated":
        opened = cim.connect("emulated", str(host.path))
    else:
        facade.bind(host)
        opened = cim.connect("wmi", wmi_module=facade)
    try:
        yield opened
    finally:
        opened.close()
        if request.param == "wmi":
            facade.unbind()
