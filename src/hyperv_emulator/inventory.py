"""What is on an emulated host, as plain data: the host, then each VM and its devices.

Read through the ordinary CIM API (a handful of class-wide queries, whatever the VM
count, plus one GetKeyProtector call per VM on 2016 and later, since a key protector is
not a property), so it shows exactly what a client would see, plus what only the
emulator knows about a running VM: where its memory is (its virtual NUMA nodes on host
nodes) and its serial endpoints (the local socket of each COM port pipe).
`nova-hyperv host show` prints it.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from typing import Any

from hyperv_emulator.errors import CimError
from hyperv_emulator.host import host_context
from hyperv_emulator.instances import Instance
from hyperv_emulator.pipes import socket_path
from hyperv_emulator.providers import catalog, serialports
from hyperv_emulator.providers.vms import STATE_NAMES, guid_of_setting
from hyperv_emulator.session import Session
from hyperv_emulator.store import path_text_key

REALIZED = "Microsoft:Hyper-V:System:Realized"
_TEMPLATE_NAMES = {guid: name for name, (guid, _) in catalog.SECURE_BOOT_TEMPLATES.items()}
_VENDOR_PRODUCT = re.compile(r"VEN_([0-9A-Fa-f]{4})&DEV_([0-9A-Fa-f]{4})")
_RESOLUTIONS = ("1024x768", "1280x1024", "1600x1200", "1920x1200", "2560x1600", "3840x2160")


def describe(session: Session) -> dict[str, Any]:
    return {"host": _host(session), "vms": _vms(session)}


def _host(session: Session) -> dict[str, Any]:
    host = session.host
    profile = host.profile
    system = session.query("SELECT * FROM Win32_OperatingSystem", "root/cimv2")
    nodes = session.query("SELECT * FROM Msvm_NumaNode")
    return {
        "hostname": host.hostname,
        "windows_version": profile.windows_version,
        "caption": profile.caption,
        "preset": profile.preset,
        "default_vm_version": profile.default_vm_version,
        "logical_processors": profile.logical_processors,
        "memory_mb": profile.memory_mb,
        "free_memory_mb": (system[0]["FreePhysicalMemory"] // 1024) if system else None,
        "numa_nodes": [
            {"id": n["NodeID"].rsplit("\\", 1)[-1],
             "logical_processors": n["NumberOfLogicalProcessors"],
             "memory_mb": profile.numa_nodes[i].memory_mb if i < len(profile.numa_nodes)
             else None,
             "free_memory_mb": n["CurrentlyConsumableMemoryBlocks"]}
            for i, n in enumerate(nodes)
        ],
        "vswitches": [s["ElementName"] for s in
                      session.query("SELECT * FROM Msvm_VirtualEthernetSwitch")],
        **_host_storage(host),
        "settings": dataclasses.asdict(host.settings),
        "guarded": _guarded(session),
        "remotefx_gpus": [
            {"name": g["Name"], "enabled": bool(g["EnabledForVirtualization"]),
             "video_memory_mb": (g["TotalVideoMemory"] or 0) // 2**20}
            for g in _all(session, "Msvm_Physical3dGraphicsProcessor")
        ],
        "assignable_devices": _assignable(session),
    }


def _host_storage(host: Any) -> dict[str, Any]:
    """Host disks (local and volumes), iSCSI sessions and SMB shares, if any."""
    storage = host.storage
    return {
        "disks": [{"number": d.number, "size_bytes": d.size, "serial": d.serial, "bus": d.bus,
                   "offline": d.offline, "attached_to": d.attached_to}
                  for d in storage.disks()],
        "iscsi_sessions": storage.iscsi_sessions(),
        "smb_shares": storage.smb_shares(),
    }


def _all(session: Session, class_name: str, namespace: str = "root/virtualization/v2") -> list[
        Instance]:
    """Every instance of a class, or none where this host's build lacks the class."""
    if session.host.registry.get(class_name, namespace) is None:
        return []
    return session.query(f"SELECT * FROM {class_name}", namespace)


def _guarded(session: Session) -> bool | None:
    try:
        return bool(session.invoke("root/Microsoft/Windows/Hgs:MSFT_HgsClientConfiguration",
                                   "Get")["cmdletOutput"]["IsHostGuarded"])
    except CimError:  # no Host Guardian client before 2016
        return None


def _device(instance_path: str, location_path: str) -> dict[str, Any]:
    match = _VENDOR_PRODUCT.search(instance_path)
    vendor, product = (match.group(1), match.group(2)) if match else (None, None)
    return {"vendor_id": vendor, "product_id": product, "location_path": location_path,
            "instance_path": instance_path}


def _assignable(session: Session) -> list[dict[str, Any]]:
    devices = _all(session, "Msvm_PciExpress")
    names = {s["Name"].upper(): s["ElementName"] for s in session.query(
        "SELECT * FROM Msvm_ComputerSystem WHERE Caption = 'Virtual Machine'")}
    holders = {d["LocationPath"]: names.get(str(d["SystemName"]).upper()) for d in devices
               if d["SystemName"] != session.host.hostname}
    return [{**_device(d["DeviceInstancePath"], d["LocationPath"]),
             "assigned_to": holders.get(d["LocationPath"])}
            for d in devices if d["SystemName"] == session.host.hostname]


def _by_vm(instances: list[Instance]) -> dict[str, list[Instance]]:
    grouped: dict[str, list[Instance]] = defaultdict(list)
    for instance in instances:
        guid = guid_of_setting(instance.get("InstanceID"))
        if guid is not None:
            grouped[guid].append(instance)
    return grouped


def _vms(session: Session) -> list[dict[str, Any]]:
    systems = {s["Name"].upper(): s for s in session.query(
        "SELECT * FROM Msvm_ComputerSystem WHERE Caption = 'Virtual Machine'")}
    settings = _by_vm(session.query("SELECT * FROM CIM_ResourceAllocationSettingData WHERE "
                                    "InstanceID LIKE 'Microsoft:%'"))
    security = _by_vm(_all(session, "Msvm_SecuritySettingData"))
    features = _by_vm(session.query("SELECT * FROM Msvm_EthernetSwitchPortFeatureSettingData "
                                    "WHERE InstanceID LIKE 'Microsoft:%'"))
    pci = {path_text_key(str(d.path)): d for d in _all(session, "Msvm_PciExpress")}
    provisioned = {str(j["AdditionalIdentifier"]).upper() for j in
                   _all(session, "Msps_ProvisioningJob", "root/msps") if j["JobState"] == 7}
    service = _all(session, "Msvm_SecurityService")
    switches = {path_text_key(str(s.path)): s["ElementName"] for s in
                session.query("SELECT * FROM Msvm_VirtualEthernetSwitch")}
    runtime = _runtime(session, systems)
    described = []
    for vssd in session.query("SELECT * FROM Msvm_VirtualSystemSettingData WHERE "
                              f"VirtualSystemType = '{REALIZED}'"):
        guid = guid_of_setting(vssd["InstanceID"])
        if guid is None or guid not in systems:
            continue
        vm = _vm(systems[guid], vssd, settings.get(guid, []), security.get(guid, []), switches,
                 features.get(guid, []))
        if vm["security"] is not None:
            vm["security"].update(
                key_protector=_has_key_protector(session, service, security[guid][0]),
                provisioned=guid in provisioned)
        vm["pci_devices"] = [_assigned(d, pci) for d in settings.get(guid, [])
                             if catalog.kind_of(d) is catalog.PCI_EXPRESS]
        vm.update(runtime.get(guid, {"numa_placement": [], "serial_endpoints": []}))
        described.append(vm)
    return described


def _runtime(session: Session, systems: dict[str, Instance]) -> dict[str, dict[str, Any]]:
    """Per running VM: its virtual NUMA nodes on host nodes, and its serial endpoints."""
    host = session.host
    found: dict[str, dict[str, Any]] = {}
    with host_context(host) as ctx:
        endpoints = serialports.current(ctx).get("vms", {})
        for guid, cs in systems.items():
            numa = ctx.aux(cs).get("numa") or []
            entry = endpoints.get(guid, {})
            serial = [
                {"com": int(com), "pipe": pipe,
                 "socket": str(socket_path(host.path, pipe, host.hostname)),
                 "listening": _exists(socket_path(host.path, pipe, host.hostname))}
                for com, pipe in sorted(entry.get("ports", {}).items())
            ] + [
                {"com": int(com), "pipe": None, "socket": None, "listening": False,
                 "conflict": f"the pipe belongs to {other}"}
                for com, other in sorted(entry.get("conflicts", {}).items())
            ]
            found[guid] = {
                "numa_placement": [
                    {"virtual_node": index, "processors": vnode["processors"],
                     "home_node": vnode["home"],
                     "memory_mb": {int(k): v for k, v in vnode["memory"].items()}}
                    for index, vnode in enumerate(numa)
                ],
                "serial_endpoints": serial,
            }
    return found


def _exists(path: Any) -> bool:
    return path is not None and path.exists()


def _has_key_protector(session: Session, service: list[Instance], setting: Instance) -> bool:
    found = session.invoke(service[0].path, "GetKeyProtector", SecuritySettingData=setting)
    return found["KeyProtector"] not in (None, (0, 0, 0, 0))


def _assigned(setting: Instance, devices: dict[str | None, Instance]) -> dict[str, Any]:
    path = (setting.get("HostResource") or ("",))[0]
    device = devices.get(path_text_key(path))
    if device is None:
        return _device("", path)
    return _device(device["DeviceInstancePath"], device["LocationPath"])


def _first(devices: list[Instance], kind: catalog.DeviceKind) -> Instance | None:
    return next((d for d in devices if catalog.kind_of(d) is kind), None)


def _vm(cs: Instance, vssd: Instance, devices: list[Instance], security: list[Instance],
        switches: dict[str | None, str], features: list[Instance]) -> dict[str, Any]:
    generation = 2 if vssd.get("VirtualSystemSubType", "").endswith(":2") else 1
    state = cs.get("EnabledState")
    processor = _first(devices, catalog.PROCESSOR)
    memory = _first(devices, catalog.MEMORY)
    raw = vssd.raw
    template = str(raw.get("secureboottemplateid") or "").upper()
    firmware: dict[str, Any] = {"type": "UEFI" if generation == 2 else "BIOS"}
    if generation == 2:
        firmware.update(secure_boot=bool(raw.get("securebootenabled")),
                        secure_boot_template=_TEMPLATE_NAMES.get(template, template or None),
                        boot_order=[str(p) for p in raw.get("bootsourceorder") or ()])
    else:
        names = {0: "floppy", 1: "cd", 2: "ide", 3: "network"}
        firmware["boot_order"] = [names.get(b, str(b)) for b in raw.get("bootorder") or ()]
    by_key = {path_text_key(str(d.path)): d for d in devices}
    return {
        "name": cs.get("ElementName"),
        "id": cs.get("Name"),
        "generation": generation,
        "version": vssd.get("Version"),
        "state": STATE_NAMES.get(state, str(state)),
        "notes": list(vssd.get("Notes") or ()),
        "firmware": firmware,
        "memory": None if memory is None else {
            "startup_mb": memory.get("VirtualQuantity"),
            "dynamic": bool(memory.get("DynamicMemoryEnabled")),
            "minimum_mb": memory.get("Reservation"),
            "maximum_mb": memory.get("Limit"),
            "max_per_numa_node_mb": memory.get("MaxMemoryBlocksPerNumaNode"),
        },
        "processors": None if processor is None else {
            "count": processor.get("VirtualQuantity"),
            "max_per_numa_node": processor.get("MaxProcessorsPerNumaNode"),
            "nested_virtualization": bool(processor.raw.get("exposevirtualizationextensions")),
        },
        "numa": {"virtual_numa": bool(vssd.get("VirtualNumaEnabled"))},
        "storage": _storage(devices, by_key),
        "nics": _nics(devices, switches, features),
        "serial_ports": [
            {"name": d.get("ElementName"), "pipe": (d.get("Connection") or ("",))[0] or None}
            for d in devices if catalog.kind_of(d) is catalog.SERIAL_PORT
        ],
        "security": None if not security else {
            "tpm": bool(security[0].get("TpmEnabled")),
            "shielded": bool(security[0].get("ShieldingRequested")),
            "encrypted_state": bool(security[0].get("EncryptStateAndVmMigrationTraffic")),
        },
        "remotefx": _remotefx(devices),
    }


def _remotefx(devices: list[Instance]) -> dict[str, Any] | None:
    adapter = _first(devices, catalog.SYNTHETIC_3D_DISPLAY)
    if adapter is None:
        return None
    resolution = adapter.get("MaximumScreenResolution")
    vram = adapter.raw.get("vramsizebytes")
    return {"monitors": adapter.get("MaximumMonitors"),
            "resolution": _RESOLUTIONS[resolution] if resolution is not None
            and resolution < len(_RESOLUTIONS) else resolution,
            "vram_mb": vram // 2**20 if vram is not None else None}


def _storage(devices: list[Instance], by_key: dict[str | None, Instance]) -> list[dict[str, Any]]:
    controllers = [d for d in devices if catalog.kind_of(d) in
                   (catalog.IDE_CONTROLLER, catalog.SCSI_CONTROLLER)]
    result = []
    scsi_index = 0
    for controller in controllers:
        kind = catalog.kind_of(controller)
        if kind is catalog.SCSI_CONTROLLER:
            label = f"SCSI {scsi_index}"
            scsi_index += 1
        else:
            label = f"IDE {controller.get('Address')}"
        drives = []
        key = path_text_key(str(controller.path))
        for drive in devices:
            if drive.get("Parent") and path_text_key(drive["Parent"]) == key:
                media = [m for m in devices if m.get("Parent")
                         and by_key.get(path_text_key(m["Parent"])) is drive]
                drive_kind = catalog.kind_of(drive)
                path = None
                if media:
                    path = (media[0].get("HostResource") or (None,))[0]
                elif drive_kind is catalog.PHYSICAL_DISK:
                    path = (drive.get("HostResource") or (None,))[0]
                drives.append({
                    "slot": int(drive.get("AddressOnParent", 0)),
                    "type": drive_kind.element_name if drive_kind else drive.class_name,
                    "path": path,
                    "iops_limit": media[0].raw.get("iopslimit") if media else None,
                })
        result.append({"controller": label, "drives": sorted(drives, key=lambda d: d["slot"])})
    return result


def _nics(devices: list[Instance], switches: dict[str | None, str],
          features: list[Instance]) -> list[dict[str, Any]]:
    connections = {}
    for connection in devices:
        if catalog.kind_of(connection) is catalog.ETHERNET_CONNECTION and connection.get("Parent"):
            connections[path_text_key(connection["Parent"])] = connection
    result = []
    for nic in devices:
        if catalog.kind_of(nic) not in (catalog.SYNTHETIC_NIC, catalog.EMULATED_NIC):
            continue
        connection = connections.get(path_text_key(str(nic.path)))
        switch = None
        if connection is not None and connection.get("HostResource"):
            switch = switches.get(path_text_key(connection["HostResource"][0]))
        result.append({"name": nic.get("ElementName"), "mac": nic.get("Address"),
                       "static_mac": bool(nic.get("StaticMacAddress")), "switch": switch,
                       **_port_features(features, connection)})
    return result


def _port_features(features: list[Instance], connection: Instance | None) -> dict[str, Any]:
    """The access VLAN (None: untagged) and MAC spoofing of a NIC's switch port."""
    vlan, spoofing = None, False
    if connection is not None:
        prefix = str(connection["InstanceID"]).upper() + "\\"
        for feature in features:
            if not str(feature.get("InstanceID", "")).upper().startswith(prefix):
                continue
            if feature.is_a("Msvm_EthernetSwitchPortVlanSettingData") and \
                    feature.get("OperationMode") == 1:
                vlan = feature.get("AccessVlanId")
            elif feature.is_a("Msvm_EthernetSwitchPortSecuritySettingData"):
                spoofing = bool(feature.get("AllowMacSpoofing"))
    return {"vlan": vlan, "mac_spoofing": spoofing}
