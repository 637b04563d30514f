"""Builders for rule tests: a request from a few keywords, hosts of each version."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from nova_hyperv.rules import (
    AssignablePciDevice,
    BlockDevices,
    Flavor,
    HostFacts,
    HostNumaNode,
    HyperVConfig,
    Image,
    ImageLayout,
    Instance,
    InstanceRequest,
    PciRequest,
    RuleViolation,
    Vif,
    VmPlan,
    Volume,
    plan_instance,
)

UUID = "0b2c6f1e-5a41-4bb4-9b7e-0f5c1f6f9f0a"
GIB = 1 << 30


def make_host(
    version: tuple[int, int, int] = (10, 0, 20348),
    *,
    numa: tuple[tuple[int, int], ...] = ((65536, 16), (65536, 16)),
    remotefx: bool = False,
    pci: tuple[tuple[str, str, bool], ...] = (),
    **facts: Any,
) -> HostFacts:
    nodes = tuple(HostNumaNode(memory_mb=m, logical_processors=lp) for m, lp in numa)
    if remotefx:
        facts.setdefault("server_features", frozenset({"Hyper-V", "RDS-Virtualization"}))
        facts.setdefault("remotefx_gpus", ("NVIDIA GRID K2",))
    return HostFacts(
        windows_version=version,
        logical_processors=sum(lp for _, lp in numa),
        numa_nodes=nodes,
        assignable_pci_devices=tuple(AssignablePciDevice(v, p, free) for v, p, free in pci),
        **facts,
    )


WS2012 = make_host((6, 2, 9200))
WS2012R2 = make_host((6, 3, 9600), remotefx=True)
WS2016 = make_host((10, 0, 14393), remotefx=True)
WS2019 = make_host((10, 0, 17763))
WS2022 = make_host((10, 0, 20348))
GEN2 = {"hw_machine_type": "hyperv-gen2"}


def make_request(
    *,
    vcpus: object = 2,
    ram: object = 2048,
    disk: object = 20,
    ephemeral: object = 0,
    swap: object = 0,
    specs: Mapping[str, object] | None = None,
    props: Mapping[str, object] | None = None,
    disk_format: str | None = "vhdx",
    file_format: str | None = None,
    virtual_size: int | None = None,
    block_size: int | None = None,
    layout: ImageLayout | None = None,
    metadata: Mapping[str, object] | None = None,
    uuid: str = UUID,
    name: str = "instance-00000001",
    hostname: str = "server-1",
    root_volume: Volume | None = None,
    ephemerals: tuple[Any, ...] = (),
    volumes: tuple[Volume, ...] = (),
    vifs: tuple[Vif, ...] = (),
    pci: tuple[PciRequest, ...] = (),
    config_drive: bool = False,
) -> InstanceRequest:
    return InstanceRequest(
        flavor=Flavor(vcpus, ram, disk, ephemeral, swap, dict(specs or {})),  # type: ignore[arg-type]
        image=Image(id="img", disk_format=disk_format, properties=dict(props or {}),
                    file_format=file_format, virtual_size=virtual_size, block_size=block_size,
                    layout=layout),
        instance=Instance(uuid=uuid, name=name, hostname=hostname, metadata=dict(metadata or {})),
        block_devices=BlockDevices(root_volume=root_volume, ephemerals=ephemerals,
                                   volumes=volumes),
        vifs=vifs,
        pci_requests=pci,
        config_drive=config_drive,
    )


def plan(host: HostFacts = WS2022, config: HyperVConfig | None = None, **request: Any) -> VmPlan:
    """plan_instance of make_request(**request) on host."""
    return plan_instance(make_request(**request), host, config)


def refuse(
    host: HostFacts = WS2022, config: HyperVConfig | None = None, **request: Any
) -> RuleViolation:
    """The RuleViolation planning raises (the test fails if it planned instead)."""
    with pytest.raises(RuleViolation) as caught:
        plan_instance(make_request(**request), host, config)
    return caught.value
