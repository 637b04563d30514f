"""The Hyper-V client against real emulated hosts (no mocks), over both adapters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import vhdfile
from hyperv_emulator import Host, init_host
from hyperv_emulator import wmi as facade
from hyperv_emulator.inventory import describe
from nova_hyperv import cim, rules
from nova_hyperv.hyperv import HyperVClient

UUID = "6f0a5f8e-1f2b-4c3d-8e9f-0a1b2c3d4e5f"


@pytest.fixture
def host(tmp_path: Path) -> Host:
    return init_host(tmp_path / "host.db", "ws2022")


def open_client(host: Host, adapter: str) -> HyperVClient:
    if adapter == "emulated":
        return HyperVClient(cim.connect("emulated", str(host.path)), job_timeout=30)
    facade.bind(host)
    return HyperVClient(cim.connect("wmi", wmi_module=facade), job_timeout=30)


@pytest.fixture(params=["emulated", "wmi"])
def client(request: pytest.FixtureRequest, host: Host) -> Iterator[HyperVClient]:
    opened = open_client(host, request.param)
    try:
        yield opened
    finally:
        opened.session.close()
        if request.param == "wmi":
            facade.unbind()


def request_for(*, vcpus: int = 1, memory_mb: int = 1024, root_gb: int = 1,
                ephemeral_gb: int = 0, swap_mb: int = 0,
                extra_specs: dict[str, str] | None = None,
                properties: dict[str, str] | None = None, file_format: str = "vhdx",
                vifs: tuple[rules.Vif, ...] = (), name: str = "instance-00000001",
                uuid: str = UUID) -> rules.InstanceRequest:
    return rules.InstanceRequest(
        flavor=rules.Flavor(vcpus, memory_mb, root_gb, ephemeral_gb, swap_mb,
                            extra_specs or {}),
        image=rules.Image(id="image", disk_format=file_format, file_format=file_format,
                          virtual_size=None if file_format == "iso" else 64 << 20,
                          properties=properties or {}),
        instance=rules.Instance(uuid, name, "guest"),
        vifs=vifs,
    )


def plan_for(client: HyperVClient, config: rules.HyperVConfig | None = None,
             **kwargs: Any) -> rules.VmPlan:
    return rules.plan_instance(request_for(**kwargs), client.host().facts, config)


def files_for(plan: rules.VmPlan, directory: Path) -> dict[str, str]:
    """The plan's local disks as real files: the host refuses media that do not exist."""
    files = {}
    directory.mkdir(parents=True, exist_ok=True)
    for disk in plan.disks:
        path = directory / (disk.file_name or disk.name)
        files[disk.name] = str(path)
        if path.exists() or disk.kind == "volume":
            continue
        if disk.device == "dvd":
            iso = bytearray(64 * 2048)
            iso[32769:32774] = b"CD001"  # an ISO 9660 primary volume descriptor
            path.write_bytes(bytes(iso))
        else:
            fmt = "vhdx" if path.suffix.lower() == ".vhdx" else "vhd"
            vhdfile.create(path, fmt, "dynamic", disk.size_bytes or 64 << 20)
    return files


def inventory(host: Host) -> list[dict[str, Any]]:
    with host.session() as session:
        return describe(session)["vms"]
