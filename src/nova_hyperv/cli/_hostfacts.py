"""A host profile (a preset or a TOML host file) as the rules layer's host facts.

The rules may not import the emulator, and the emulator may not import the driver, so
this small translation lives with the CLI, the one place that meets both.
"""

from __future__ import annotations

from hyperv_emulator.profiles import HostProfile
from nova_hyperv.rules import AssignablePciDevice, HostFacts, HostNumaNode

__all__ = ["host_facts"]


def host_facts(profile: HostProfile) -> HostFacts:
    return HostFacts(
        windows_version=profile.version_tuple,
        logical_processors=profile.logical_processors,
        numa_nodes=tuple(
            HostNumaNode(memory_mb=n.memory_mb, logical_processors=n.logical_processors)
            for n in profile.numa_nodes
        ),
        guarded=profile.guarded,
        server_features=frozenset(profile.server_features),
        remotefx_gpus=tuple(gpu.name for gpu in profile.remotefx_gpus),
        # A profile describes a host as it starts: every dismounted device is free.
        assignable_pci_devices=tuple(
            AssignablePciDevice(vendor_id=d.vendor_id, product_id=d.product_id, free=True)
            for d in profile.assignable_devices
        ),
        clustered=profile.clustered,
    )
