"""Nova's view of an instance -> the rules' InstanceRequest.

Nova drops image properties its ImageMetaProps does not know (`hw_cpu_features`,
`interactive_serial_port`, ...), but copies every property of the image into the
instance's system metadata as `image_<key>` when the server is created; so the image
properties are read from there (raw, as Glance holds them), which is also what the
rules and `nova-hyperv plan` expect. Device tags come from the BDM and VirtualInterface
objects (the driver's block-device and network dicts do not carry them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from nova import objects
from nova import utils as nova_utils
from nova.network import model as network_model
from nova.virt import configdrive
from nova.virt import driver as virt_driver

from nova_hyperv import rules
from nova_hyperv.rules import serial, shielding

__all__ = ["block_devices", "build_request", "console_pipes", "flavor", "hyperv_config",
           "image_properties", "root_volume_mapping", "vifs"]


def image_properties(instance: Any) -> dict[str, object]:
    """Every property of the instance's image, raw (from the system metadata)."""
    system_metadata = instance.system_metadata or {}
    image = nova_utils.get_image_from_system_metadata(system_metadata)
    return dict(image.get("properties", {}))


def _image(instance: Any, image_meta: Any, file_facts: Mapping[str, object]) -> rules.Image:
    properties = image_properties(instance)
    image_id = image_meta.id if "id" in image_meta else None
    disk_format = image_meta.disk_format if "disk_format" in image_meta else None
    return rules.Image(id=image_id, disk_format=disk_format, properties=properties,
                       **file_facts)  # type: ignore[arg-type]


def flavor(nova_flavor: Any) -> rules.Flavor:
    """A Nova flavor in the rules' terms."""
    return rules.Flavor(
        vcpus=nova_flavor.vcpus, memory_mb=nova_flavor.memory_mb, root_gb=nova_flavor.root_gb,
        ephemeral_gb=nova_flavor.ephemeral_gb, swap_mb=nova_flavor.swap,
        extra_specs=dict(nova_flavor.extra_specs or {}),
    )


def _bdm_field(device: Any, name: str) -> Any:
    bdm = getattr(device, "_bdm_obj", None)
    if bdm is not None and name in bdm:
        return getattr(bdm, name)
    return device.get(name) if hasattr(device, "get") else None


def _volume(mapping: Any) -> rules.Volume:
    info = mapping.get("connection_info") or {}
    data = info.get("data") or {}
    return rules.Volume(
        volume_id=str(_bdm_field(mapping, "volume_id") or info.get("serial") or ""),
        connection_type=str(info.get("driver_volume_type", "iscsi")),
        bus=mapping.get("disk_bus"), boot_index=_bdm_field(mapping, "boot_index"),
        tag=_bdm_field(mapping, "tag"), device_type=mapping.get("device_type"),
        qos_specs=data.get("qos_specs") or {},
    )


def root_volume_mapping(block_device_info: Mapping[str, Any] | None) -> Any:
    """The volume the instance boots from (boot_index 0), or None."""
    for mapping in virt_driver.block_device_info_get_mapping(block_device_info):
        if _bdm_field(mapping, "boot_index") == 0:
            return mapping
    return None


def block_devices(block_device_info: Mapping[str, Any] | None) -> rules.BlockDevices:
    """Ephemeral disks (with their tags and boot indexes), volumes and the root volume."""
    ephemerals = tuple(
        rules.Ephemeral(
            size_gb=eph.get("size"), bus=eph.get("disk_bus"),
            boot_index=_bdm_field(eph, "boot_index"), tag=_bdm_field(eph, "tag"),
            device_type=eph.get("device_type"),
        )
        for eph in virt_driver.block_device_info_get_ephemerals(block_device_info)
    )
    root = root_volume_mapping(block_device_info)
    volumes = tuple(_volume(vol) for vol in virt_driver.block_device_info_get_mapping(
        block_device_info) if vol is not root)
    return rules.BlockDevices(root_volume=_volume(root) if root is not None else None,
                              ephemerals=ephemerals, volumes=volumes)


def vifs(context: Any, instance: Any, network_info: Iterable[Any] | None,
         port_security: Mapping[str, bool] | None = None) -> tuple[rules.Vif, ...]:
    """One rules.Vif per port: tagged from the instance's VirtualInterface objects, its
    VLAN from the binding details, its port security as Neutron said (default on)."""
    network_info = list(network_info or [])
    tags: dict[str, str | None] = {}
    if network_info and context is not None:
        for vif in objects.VirtualInterfaceList.get_by_instance_uuid(context, instance.uuid):
            tags[vif.uuid] = vif.tag
    security = port_security or {}
    return tuple(rules.Vif(id=vif["id"], mac=vif["address"], tag=tags.get(vif["id"]),
                           vlan=(vif.get("details") or {}).get(
                               network_model.VIF_DETAILS_VLAN),
                           port_security=security.get(vif["id"], True))
                 for vif in network_info)


def console_pipes(instance: Any) -> tuple[dict[str, str], bool]:
    """The VM's COM port pipes by mode (ro / rw) as the rules planned them from the
    image, and whether the image asks for a shielded VM (whose console stays closed)."""
    image = rules.Image(properties=image_properties(instance))
    ports = serial.serial_ports(image, instance.uuid)
    return {port.mode: port.pipe for port in ports}, shielding.shielded_requested(image)


def vtpm_property(instance: Any) -> str | None:
    """The instance's image property asking for a vTPM (shielded or not), if any."""
    return shielding.vtpm_property(rules.Image(properties=image_properties(instance)))


def hyperv_config(conf: Any) -> rules.HyperVConfig:
    group = conf.hyperv
    return rules.HyperVConfig(
        dynamic_memory_ratio=group.dynamic_memory_ratio,
        enable_remotefx=group.enable_remotefx,
        limit_cpu_features=group.limit_cpu_features,
        instance_automatic_shutdown=group.instance_automatic_shutdown,
        config_drive_cdrom=group.config_drive_cdrom,
    )


def build_request(
    context: Any,
    instance: Any,
    image_meta: Any,
    network_info: Iterable[Any] | None,
    block_device_info: Mapping[str, Any] | None,
    file_facts: Mapping[str, object] | None = None,
    port_security: Mapping[str, bool] | None = None,
) -> rules.InstanceRequest:
    """The rules' request for a spawn; `file_facts` are the image file's (once known)."""
    devices = block_devices(block_device_info)
    if devices.ephemerals and instance.flavor.ephemeral_gb == 0:
        # Nova keeps ephemeral block devices through a resize to ephemeral_gb 0 (nova's
        # API refuses them with such a flavor at boot): the instance has none now.
        devices = dataclasses.replace(devices, ephemerals=())
    return rules.InstanceRequest(
        flavor=flavor(instance.flavor),
        image=_image(instance, image_meta, file_facts or {}),
        instance=rules.Instance(
            uuid=instance.uuid, name=instance.name, hostname=instance.hostname or "",
            metadata=dict(instance.metadata or {}),
        ),
        block_devices=devices,
        vifs=vifs(context, instance, network_info, port_security),
        pci_requests=tuple(
            rules.PciRequest(vendor_id=spec.get("vendor_id", ""),
                             product_id=spec.get("product_id", ""), count=request.count)
            for request in _pci_requests(instance)
            for spec in request.spec[:1]
        ),
        config_drive=configdrive.required_by(instance),
    )


def _pci_requests(instance: Any) -> list[Any]:
    requests = getattr(instance, "pci_requests", None)
    return list(requests.requests or []) if requests is not None else []
