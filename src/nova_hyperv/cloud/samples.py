"""What a new cloud starts with: sample images and a flavor per feature of the usage guide.

Flavors carry the guide's flavor extra specs and are created through nova's API at the
latest microversion, so nova checks every spec (with nova-hyperv's validators for
`os:resolution`, `os:monitors`, `os:vram` and `hw:cpu_features`) as it would for an
operator. Image-property features (generation, Secure Boot capability, shielding, serial
ports) are sample images.

The images are real VHDX disks built with vhdfile: a generation 1 disk (MBR, active
partition, boot code) and a generation 2 disk (GPT, EFI system partition holding
\\EFI\\BOOT\\BOOTX64.EFI), from `vhdfile.testimages`. They hold no operating system; they
have what the driver's image checks (preflight) look at. `SAMPLE_IMAGES` is the seam for
richer images later: each entry names its builder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nova_hyperv.rules.remotefx import REMOTEFX_TRAIT

#: The trait a host able to run vTPMs and shielded VMs reports (a TPM 2.0 device).
VTPM_TRAIT = "COMPUTE_SECURITY_TPM_2_0"

MiB = 1 << 20
#: The network every project can use.
DEFAULT_NETWORK = "private"
DEFAULT_CIDR = "10.0.0.0/24"


@dataclass(frozen=True)
class SampleFlavor:
    name: str
    vcpus: int
    ram_mb: int
    disk_gb: int
    extra_specs: dict[str, str] = field(default_factory=dict)
    #: The usage guide's section this flavor shows.
    feature: str = ""
    ephemeral_gb: int = 0
    swap_mb: int = 0


FLAVORS: tuple[SampleFlavor, ...] = (
    SampleFlavor("hv.tiny", 1, 512, 1, feature="plain instance"),
    SampleFlavor("hv.small", 2, 2048, 5, feature="plain instance"),
    SampleFlavor("hv.secureboot", 1, 1024, 1, {"os:secure_boot": "required"},
                 feature="UEFI Secure Boot"),
    SampleFlavor("hv.disks", 1, 1024, 1, feature="Local disks: root, ephemeral and swap",
                 ephemeral_gb=1, swap_mb=256),
    SampleFlavor("hv.vnuma", 2, 2048, 1, {"hw:numa_nodes": "2"},
                 feature="Hyper-V vNUMA instances"),
    # Only hosts that can run RemoteFX carry the trait (the driver reports it), so the
    # scheduler sends this flavor there.
    SampleFlavor("hv.remotefx", 1, 1024, 1,
                 {"os:resolution": "1920x1200", "os:monitors": "2", "os:vram": "1024",
                  f"trait:{REMOTEFX_TRAIT}": "required"},
                 feature="RemoteFX"),
    SampleFlavor("hv.qos-iops", 1, 512, 1, {"quota:disk_total_iops_sec": "500"},
                 feature="Disk QoS (IOPS)"),
    SampleFlavor("hv.qos-bytes", 1, 512, 1, {"quota:disk_total_bytes_sec": "10485760"},
                 feature="Disk QoS (bytes per second)"),
    SampleFlavor("hv.pci", 1, 1024, 1, {"pci_passthrough:alias": "gpu:1"},
                 feature="PCI devices (DDA)"),
    SampleFlavor("hv.nested", 2, 2048, 1, {"hw:cpu_features": "vmx"},
                 feature="Nested virtualization"),
)


def _gen1_disk(path: Path) -> None:
    from vhdfile.testimages import mbr_bios_image

    mbr_bios_image(path, format="vhdx", size=64 * MiB)


def _gen2_disk(path: Path) -> None:
    from vhdfile.testimages import gpt_uefi_image

    gpt_uefi_image(path, format="vhdx", size=64 * MiB)


@dataclass(frozen=True)
class SampleImage:
    name: str
    build: Callable[[Path], None]
    properties: dict[str, str]
    disk_format: str = "vhdx"
    feature: str = ""
    #: Whether the image names the cloud's sample shielding data (`img_pdk_reference`).
    shielding_data: bool = False


_HYPERV = {"hypervisor_type": "hyperv"}
_GEN2 = {**_HYPERV, "hw_machine_type": "hyperv-gen2"}

IMAGES: tuple[SampleImage, ...] = (
    SampleImage("hyperv-gen1", _gen1_disk,
                {**_HYPERV, "hw_machine_type": "hyperv-gen1", "os_type": "linux"},
                feature="Generation 1 VM"),
    SampleImage("hyperv-gen2", _gen2_disk, {**_GEN2, "os_type": "linux"},
                feature="Generation 2 VM"),
    # nova 34 refuses a flavor os:secure_boot that differs from a set image
    # os_secure_boot (FlavorImageConflict, before the driver is asked), so the guide's
    # "optional image + required flavor" cannot reach a driver: the sample says
    # "required" itself, and boots with any flavor, hv.secureboot included.
    SampleImage("hyperv-gen2-secureboot", _gen2_disk,
                {**_GEN2, "os_type": "linux", "os_secure_boot": "required",
                 "hypervisor_version_requires": ">=10.0"},
                feature="UEFI Secure Boot (Linux guest: Windows Server 2016 hosts or newer)"),
    # Only guarded hosts report the vTPM traits (ops/host.py): requiring one sends the
    # server to such a host (nova's own vTPM request filter knows libvirt's
    # hw_tpm_version only).
    SampleImage("hyperv-gen2-shielded", _gen2_disk,
                {**_GEN2, "os_type": "windows", "os_secure_boot": "required",
                 "os_shielded_vm": "required", f"trait:{VTPM_TRAIT}": "required"},
                feature="Shielded VM (needs a guarded host)", shielding_data=True),
    SampleImage("hyperv-gen2-serial", _gen2_disk,
                {**_GEN2, "os_type": "linux", "interactive_serial_port": "1",
                 "logging_serial_port": "2"},
                feature="Serial ports"),
    SampleImage("hyperv-gen2-nested", _gen2_disk,
                {**_GEN2, "os_type": "windows", "hw_cpu_features": "vmx"},
                feature="Nested virtualization (image property)"),
)


def flavor_requests(flavor: SampleFlavor) -> tuple[dict[str, Any], dict[str, Any]]:
    """The bodies of POST /flavors and POST /flavors/{id}/os-extra_specs."""
    create = {"flavor": {"name": flavor.name, "vcpus": flavor.vcpus, "ram": flavor.ram_mb,
                         "disk": flavor.disk_gb, "OS-FLV-EXT-DATA:ephemeral": flavor.ephemeral_gb,
                         "swap": flavor.swap_mb, "description": flavor.feature}}
    return create, {"extra_specs": dict(flavor.extra_specs)}


def image_fields(image: SampleImage, pdk_container: str | None = None) -> dict[str, Any]:
    """The image service record of a sample image (public, bare container); one that
    shows shielding names the key manager's container of the sample PDK."""
    reference = {PDK_PROPERTY: pdk_container} if image.shielding_data and pdk_container \
        else {}
    return {"name": image.name, "disk_format": image.disk_format,
            "container_format": "bare", "visibility": "public", "min_disk": 1,
            **image.properties, **reference}


#: The key manager container holding the sample shielding data, and the image property
#: that names a PDK container (docs/driver.md, "Shielded VMs and vTPM").
SAMPLE_PDK = "hyperv-sample-pdk"
PDK_PROPERTY = "img_pdk_reference"


def sample_pdk() -> bytes:
    """Shielding data (a PDK in the emulated host's format) for shielded sample servers:
    policy Shielded, guarded by the HGS the guarded hosts trust, and specialized with the
    computer name (which the driver fills in with the server's hostname)."""
    import tempfile

    from hyperv_emulator import shielding_data

    with tempfile.TemporaryDirectory(prefix="nova-hyperv-pdk-") as scratch:
        path = Path(scratch) / "sample.pdk"
        shielding_data.write_pdk(path, name="nova-hyperv cloud sample shielding data",
                                 owner="nova-hyperv cloud", policy="Shielded",
                                 fsk_keys=("@@ComputerName@@",))
        return path.read_bytes()
