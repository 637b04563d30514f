"""What one run of the local cloud is: its folder, ports and hosts.

Pure data: the command line builds a `CloudSettings`, everything else reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: The driver every nova-compute of the cloud loads, as nova.conf's `compute_driver`
#: names it.
COMPUTE_DRIVER = "hyperv.HyperVDriver"

DEFAULT_PORT_BASE = 18700
#: One emulated host per profile: a Windows Server 2022 host (guarded, with two GPUs
#: dismounted for DDA) and a Windows Server 2016 host (RemoteFX GPU), so every feature
#: of the usage guide has a host that can run it (docs/cloud.md, "Hosts").
DEFAULT_PROFILES = ("ws2022-dda", "ws2016")
MAX_HOSTS = 16
LISTEN_ADDRESS = "127.0.0.1"

#: Host files of the cloud's own (src/nova_hyperv/cloud/hosts/<name>.toml), offered
#: beside the emulator's presets.
HOST_FILES = Path(__file__).with_name("hosts")

#: The services the cloud serves, in the order of their ports from --port-base.
SERVICES = ("identity", "compute", "image", "network", "volume", "placement",
            "key-manager")

_HOST_PREFIX = "hyperv-host"


class SettingsError(ValueError):
    """A setting of the cloud is out of range; the message names it."""


def cloud_host_files() -> dict[str, Path]:
    """The cloud's named host files: name -> TOML path."""
    return {path.stem: path for path in sorted(HOST_FILES.glob("*.toml"))}


def resolve_profile(name: str) -> str:
    """What `hyperv_emulator.profiles.load_profile` takes for a profile name: the
    cloud's host files by name, presets and TOML paths as they are."""
    return str(cloud_host_files().get(name, name))


@dataclass(frozen=True)
class CloudSettings:
    state_dir: Path
    #: First port; the services take the next ones in SERVICES order. 0: the system
    #: chooses a free port for each service (the printed instructions say which).
    port_base: int = DEFAULT_PORT_BASE
    #: The host profiles, in host order: a preset, one of the cloud's host files or a
    #: TOML host file. The last one repeats when there are more hosts than profiles.
    profiles: tuple[str, ...] = DEFAULT_PROFILES
    #: How many hosts; None: one per profile.
    hosts: int | None = None

    def __post_init__(self) -> None:
        if not self.profiles or not all(p.strip() for p in self.profiles):
            raise SettingsError(
                f"profiles={','.join(self.profiles)!r}: name at least one host profile, "
                "none of them empty"
            )
        count = len(self.profiles) if self.hosts is None else self.hosts
        if not 1 <= count <= MAX_HOSTS:
            raise SettingsError(
                f"hosts={count}: the cloud runs 1 to {MAX_HOSTS} emulated hosts "
                "(each one is a nova-compute in the same process)"
            )
        last = self.port_base + len(SERVICES) - 1
        if self.port_base != 0 and not (self.port_base >= 1024 and last <= 65535):
            raise SettingsError(
                f"port_base={self.port_base}: the {len(SERVICES)} services need ports "
                f"port_base..port_base+{len(SERVICES) - 1} within 1024..65535 "
                "(0 lets the system choose free ports)"
            )

    @property
    def host_names(self) -> tuple[str, ...]:
        """The nova-compute host names, one per emulated host: hyperv-host-1, -2, ..."""
        count = len(self.profiles) if self.hosts is None else self.hosts
        return tuple(f"{_HOST_PREFIX}-{i}" for i in range(1, count + 1))

    def profile_of(self, host: str) -> str:
        """The profile `host` is made from (when its state file does not exist yet)."""
        index = self.host_names.index(host)
        return self.profiles[min(index, len(self.profiles) - 1)]

    def requested_ports(self) -> dict[str, int]:
        """The port each service asks for (0: any free port)."""
        if self.port_base == 0:
            return dict.fromkeys(SERVICES, 0)
        return {name: self.port_base + i for i, name in enumerate(SERVICES)}
