"""plan_instance: an instance request + host facts + [hyperv] config -> VmPlan.

The rules run in the order a user would fix things: the request's own numbers, the
VM generation and root image, then firmware (Secure Boot, vTPM), CPUs and memory,
devices. The first rule that refuses ends planning with its RuleViolation.
"""

from __future__ import annotations

import dataclasses
import re

from nova_hyperv.rules.boot_order import boot_order
from nova_hyperv.rules.disk_size import (
    MIB,
    DiskLayout,
    DiskMath,
    default_disk_math,
    max_virtual_size,
    root_virtual_size,
)
from nova_hyperv.rules.disks import RootDisk, plan_disks
from nova_hyperv.rules.errors import RuleViolation
from nova_hyperv.rules.generation import check_root_format, root_format, vm_generation
from nova_hyperv.rules.host import HostFacts
from nova_hyperv.rules.memory import MINIMUM_MB, memory
from nova_hyperv.rules.nics import nics
from nova_hyperv.rules.numa import numa_topology
from nova_hyperv.rules.pci import pci_devices
from nova_hyperv.rules.plan import VmPlan
from nova_hyperv.rules.preflight import check_boot_layout
from nova_hyperv.rules.processors import processors
from nova_hyperv.rules.qos import local_disk_iops
from nova_hyperv.rules.remotefx import remotefx
from nova_hyperv.rules.request import (
    Flavor,
    HyperVConfig,
    Image,
    Instance,
    InstanceRequest,
    config_from_mapping,
)
from nova_hyperv.rules.secure_boot import secure_boot
from nova_hyperv.rules.serial import serial_ports
from nova_hyperv.rules.shielding import vtpm
from nova_hyperv.rules.values import Spot, to_int

__all__ = ["image_disk_layout", "plan_instance"]

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
VM_NAME_MAX = 100  # Hyper-V's longest VM name


def _flavor(flavor: Flavor) -> Flavor:
    """The flavor with its numbers checked and made ints."""
    def size(name: str, minimum: int) -> int:
        return to_int(getattr(flavor, name),
                      Spot("flavor", name, "flavor-invalid", f"a whole number >= {minimum}"),
                      minimum=minimum)

    memory_mb = to_int(flavor.memory_mb, Spot("flavor", "memory_mb", "flavor-invalid",
                                              "a whole number of MB"))
    if memory_mb < MINIMUM_MB or memory_mb % 2:
        raise RuleViolation(
            "memory-invalid", "memory_mb", flavor.memory_mb,
            f"an even number of MB, at least {MINIMUM_MB}",
            "Hyper-V gives VMs memory in 2 MB units, at least 32 MB", source="flavor",
        )
    return dataclasses.replace(
        flavor, vcpus=size("vcpus", 1), memory_mb=memory_mb, root_gb=size("root_gb", 0),
        ephemeral_gb=size("ephemeral_gb", 0), swap_mb=size("swap_mb", 0),
    )


def _instance(instance: Instance) -> None:
    def refuse(field: str, allowed: str, reason: str) -> RuleViolation:
        return Spot("instance", field, "instance-invalid", allowed).fail(
            getattr(instance, field), reason
        )

    if not isinstance(instance.uuid, str) or not _UUID.match(instance.uuid):
        raise refuse("uuid", "a UUID", "names the VM's notes and serial pipes")
    if not isinstance(instance.name, str) or not 1 <= len(instance.name) <= VM_NAME_MAX:
        raise refuse("name", f"1 to {VM_NAME_MAX} characters", "is the Hyper-V VM name")
    if not isinstance(instance.hostname, str) or not instance.hostname:
        raise refuse("hostname", "a host name", "is the guest's computer name")


_BLOCK_SIZES = {"vhd": (4096, 256 * MIB), "vhdx": (MIB, 256 * MIB)}


def image_disk_layout(image: Image, fmt: str) -> DiskLayout:
    """The root file's shape from the image's file facts (checked)."""
    def refuse(field: str, allowed: str, reason: str) -> RuleViolation:
        return Spot("image", field, "image-invalid", allowed).fail(getattr(image, field), reason)

    block = image.block_size
    if block is not None:
        low, high = _BLOCK_SIZES[fmt]
        if (not isinstance(block, int) or isinstance(block, bool) or block & (block - 1)
                or not low <= block <= high):
            raise refuse("block_size", f"a power of two from {low} to {high} bytes",
                         f"is not a {fmt.upper()} block size")
    layout = DiskLayout(format=fmt, block_size=block, fixed=fmt == "vhd" and image.file_fixed)
    size = image.virtual_size
    if size is not None and (not isinstance(size, int) or isinstance(size, bool)
                             or not 0 < size <= max_virtual_size(layout)):
        raise refuse("virtual_size", f"1 to {max_virtual_size(layout)} bytes",
                     f"is not the size of a {fmt.upper()} disk")
    return layout


def plan_instance(
    request: InstanceRequest,
    host: HostFacts,
    config: HyperVConfig | None = None,
    *,
    disk_math: DiskMath = default_disk_math,
) -> VmPlan:
    """The VM for this request on this host, or the first RuleViolation it meets."""
    config = config_from_mapping(dataclasses.asdict(config or HyperVConfig()))
    flavor = _flavor(request.flavor)
    image, instance, devices = request.image, request.instance, request.block_devices
    _instance(instance)

    generation, generation_from = vm_generation(image, host, use_layout=config.image_preflight)
    if devices.root_volume is not None:
        root = RootDisk("root", None, None, volume=devices.root_volume)
    else:
        fmt = root_format(image)
        check_root_format(generation, fmt, image, generation_from)
        if fmt == "iso":
            root = RootDisk("iso_root", "iso", None)
        else:
            layout = image_disk_layout(image, fmt)
            size = root_virtual_size(flavor.root_gb, layout, image.virtual_size, disk_math)
            root = RootDisk("root", fmt, size)

    boot_security = secure_boot(flavor, image, generation, host)
    if config.image_preflight and root.kind == "root" and root.volume is None:
        check_boot_layout(generation, generation_from, image, boot_security)
    tpm = vtpm(image, instance, boot_security, host)
    topology = numa_topology(flavor, image, host)
    cpus = processors(flavor, image, config, host)
    graphics = remotefx(flavor, generation, config, host)
    pci = pci_devices(request.pci_requests, host)
    ram = memory(
        flavor.memory_mb, config,
        dynamic_allowed=topology is None and not cpus.nested_virtualization and not pci,
    )
    disks = plan_disks(
        generation, root, flavor, devices,
        local_iops=local_disk_iops(flavor.extra_specs, host),
        config_drive=bool(request.config_drive),
        config_drive_cdrom=config.config_drive_cdrom,
    )
    adapters = nics(request.vifs)
    return VmPlan(
        name=instance.name,
        instance_uuid=instance.uuid,
        notes=(instance.uuid,),
        generation=generation,
        secure_boot=boot_security,
        vtpm=tpm,
        memory=ram,
        processors=cpus,
        numa=topology,
        remotefx=graphics,
        disks=disks,
        boot_order=boot_order(generation, disks, adapters),
        nics=adapters,
        serial_ports=serial_ports(image, instance.uuid),
        pci_devices=pci,
        host_shutdown_action=_host_shutdown_action(bool(pci), config),
        config_drive=bool(request.config_drive),
        root_virtual_size=root.virtual_size if root.kind == "root" else None,
        generation_from=generation_from,
    )


def _host_shutdown_action(has_pci: bool, config: HyperVConfig) -> str:
    """What Hyper-V does with the VM when the host shuts down.

    A VM holding an assigned PCI device can be neither saved nor live-migrated, and
    Microsoft's DDA deployment steps require its automatic stop action to be TurnOff
    (compute-hyperv chose ShutDown; Microsoft's documentation wins).
    """
    if has_pci:
        return "TurnOff"
    return "ShutDown" if config.instance_automatic_shutdown else "Save"

