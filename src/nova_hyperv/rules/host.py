"""What the rules need to know about the Hyper-V host.

The driver builds these facts from what the host answers over CIM; the CLI builds them
from a host profile. The rules never ask the host anything themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "WS2012R2",
    "WS2016",
    "WS2019",
    "AssignablePciDevice",
    "HostFacts",
    "HostNumaNode",
]

# Windows versions the rules turn on (major, minor, build).
WS2012R2 = (6, 3, 0)
WS2016 = (10, 0, 0)
WS2019 = (10, 0, 17763)  # RemoteFX is gone from here on

RDS_VIRTUALIZATION = "RDS-Virtualization"


@dataclass(frozen=True)
class HostNumaNode:
    memory_mb: int
    logical_processors: int


@dataclass(frozen=True)
class AssignablePciDevice:
    """A PCI Express device dismounted from the host for Discrete Device Assignment."""

    vendor_id: str
    product_id: str
    free: bool = True  # False once assigned to a VM


@dataclass(frozen=True)
class HostFacts:
    windows_version: tuple[int, int, int]
    logical_processors: int
    numa_nodes: tuple[HostNumaNode, ...]
    guarded: bool = False
    server_features: frozenset[str] = field(default_factory=frozenset)
    remotefx_gpus: tuple[str, ...] = ()  # names of GPUs usable for RemoteFX
    assignable_pci_devices: tuple[AssignablePciDevice, ...] = ()
    clustered: bool = False

    def at_least(self, version: tuple[int, int, int]) -> bool:
        return self.windows_version >= version

    @property
    def version_text(self) -> str:
        return ".".join(str(part) for part in self.windows_version)
