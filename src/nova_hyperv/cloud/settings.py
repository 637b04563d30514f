"""What one run of the local cloud is: its folder, ports, hosts and compute driver.

Pure data: the command line builds a `CloudSettings`, everything else reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: The driver every nova-compute of the cloud loads, named as nova.conf's
#: `compute_driver` names it. Our Hyper-V driver ("hyperv.HyperVDriver") cannot start
#: yet (its lifecycle lands with issue 7), so the cloud runs today on a fake driver that
#: keeps its VMs in the host folder; switch this constant (or pass --compute-driver)
#: once HyperVDriver can start.
DEFAULT_COMPUTE_DRIVER = "nova_hyperv_cloud.PersistentFakeDriver"
HYPERV_COMPUTE_DRIVER = "hyperv.HyperVDriver"

DEFAULT_PORT_BASE = 18700
DEFAULT_PROFILE = "ws2022"
MAX_HOSTS = 16
LISTEN_ADDRESS = "127.0.0.1"

#: The services the cloud serves, in the order of their ports from --port-base.
SERVICES = ("identity", "compute", "image", "network", "volume", "placement")

_HOST_PREFIX = "hyperv-host"


class SettingsError(ValueError):
    """A setting of the cloud is out of range; the message names it."""


@dataclass(frozen=True)
class CloudSettings:
    state_dir: Path
    #: First port; the services take the next ones in SERVICES order. 0: the system
    #: chooses a free port for each service (the printed instructions say which).
    port_base: int = DEFAULT_PORT_BASE
    hosts: int = 1
    profile: str = DEFAULT_PROFILE
    compute_driver: str = DEFAULT_COMPUTE_DRIVER

    def __post_init__(self) -> None:
        if not 1 <= self.hosts <= MAX_HOSTS:
            raise SettingsError(
                f"hosts={self.hosts}: the cloud runs 1 to {MAX_HOSTS} emulated hosts "
                "(each one is a nova-compute in the same process)"
            )
        last = self.port_base + len(SERVICES) - 1
        if self.port_base != 0 and not (self.port_base >= 1024 and last <= 65535):
            raise SettingsError(
                f"port_base={self.port_base}: the {len(SERVICES)} services need ports "
                f"port_base..port_base+{len(SERVICES) - 1} within 1024..65535 "
                "(0 lets the system choose free ports)"
            )
        if not self.compute_driver or self.compute_driver.startswith("nova.virt."):
            raise SettingsError(
                f"compute_driver={self.compute_driver!r}: name it as nova.conf does, "
                "relative to nova.virt (for example 'hyperv.HyperVDriver')"
            )

    @property
    def host_names(self) -> tuple[str, ...]:
        """The nova-compute host names, one per emulated host: hyperv-host-1, -2, ..."""
        return tuple(f"{_HOST_PREFIX}-{i}" for i in range(1, self.hosts + 1))

    @property
    def uses_hyperv_driver(self) -> bool:
        """Whether the computes need an emulated Hyper-V host prepared for them."""
        name = self.compute_driver.lower()
        return name.startswith(("hyperv.", "nova_hyperv.", "compute_hyperv."))

    def requested_ports(self) -> dict[str, int]:
        """The port each service asks for (0: any free port)."""
        if self.port_base == 0:
            return dict.fromkeys(SERVICES, 0)
        return {name: self.port_base + i for i, name in enumerate(SERVICES)}
