"""The host: what Hyper-V and Windows say about it, as the rules' HostFacts and more.

Read in a fixed number of round trips whatever the VM count (the driver refreshes it
once per resource-tracker period): Win32_OperatingSystem and Win32_Processor (root/cimv2),
the NUMA nodes with their memory (Msvm_NumaNode, Msvm_HostedDependency, Msvm_Memory),
the installed server features, and then whatever this build of Windows has: RemoteFX
GPUs (before 2019), devices dismounted for DDA and the HGS client's guarded state (2016
and later), failover-cluster membership. A class or namespace the host lacks means the
feature is absent, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nova_hyperv.cim import (
    CIMV2,
    CimError,
    CimInstance,
    CimInvalidClass,
    CimNotFound,
    CimNotSupported,
    CimSession,
    parse_path,
    quote,
    same_path,
)
from nova_hyperv.hyperv import names
from nova_hyperv.hyperv.errors import HostConfigurationError
from nova_hyperv.rules import AssignablePciDevice, HostFacts, HostNumaNode

__all__ = ["HostInfo", "HostNode", "PciDevice", "VSwitch", "assignable_devices", "find_switch",
           "read_host"]

HGS_NAMESPACE = "root/Microsoft/Windows/Hgs"
CLUSTER_NAMESPACE = "root/MSCluster"
_ABSENT = (CimInvalidClass, CimNotSupported, CimNotFound)
_PCI_IDS = re.compile(r"VEN_([0-9A-Fa-f]{4})&DEV_([0-9A-Fa-f]{4})")


@dataclass(frozen=True)
class HostNode:
    id: int
    memory_mb: int
    free_memory_mb: int
    logical_processors: int


@dataclass(frozen=True)
class PciDevice:
    vendor_id: str
    product_id: str
    instance_path: str
    location_path: str
    free: bool
    path: str = ""  # the host's Msvm_PciExpress (what a VM's PCI port names)
    address: str = ""  # dddd:bb:dd.f ("" when Windows does not say)


@dataclass(frozen=True)
class HostInfo:
    hostname: str
    windows_version: tuple[int, int, int]
    caption: str
    memory_mb: int
    free_memory_mb: int
    logical_processors: int
    last_boot: str | None  # CIM datetime
    processor_name: str
    processor_vendor: str
    cores: int
    sockets: int
    nodes: tuple[HostNode, ...]
    pci_devices: tuple[PciDevice, ...]
    facts: HostFacts

    @property
    def hypervisor_version(self) -> int:
        """major * 1000 + minor: what nova's hypervisor_version_requires compares."""
        major, minor, _ = self.windows_version
        return major * 1000 + minor


def _version(text: str) -> tuple[int, int, int]:
    parts = [int(p) for p in re.findall(r"\d+", text)[:3]] + [0, 0, 0]
    return parts[0], parts[1], parts[2]


def _node_number(node_id: str) -> int:
    match = re.search(r"(\d+)\s*$", node_id)
    return int(match.group(1)) if match else 0


def _numa(session: CimSession, hostname: str, logical_processors: int,
          memory_mb: int, free_mb: int) -> tuple[HostNode, ...]:
    nodes = session.query("SELECT * FROM Msvm_NumaNode")
    if not nodes:  # a host without NUMA information: one node holding everything
        return (HostNode(0, memory_mb, free_mb, logical_processors),)
    links = session.query("SELECT * FROM Msvm_HostedDependency")
    memories = {
        m.path.lower(): m for m in session.query(
            f"SELECT * FROM Msvm_Memory WHERE SystemName = {quote(hostname)}")
    }
    memory_of: dict[str, int] = {}
    for link in links:
        ends = parse_path(link.path)
        antecedent, dependent = ends.key("Antecedent"), ends.key("Dependent")
        if not antecedent or not dependent:
            continue
        memory = _by_path(memories, dependent)
        if memory is None or parse_path(antecedent).class_name.lower() != "msvm_numanode":
            continue
        node_id = parse_path(antecedent).key("NodeID") or ""
        blocks = int(memory.get("NumberOfBlocks", 0)) * int(memory.get("BlockSize", 1 << 20))
        memory_of[node_id.lower()] = memory_of.get(node_id.lower(), 0) + blocks // (1 << 20)
    result = []
    for node in sorted(nodes, key=lambda n: _node_number(str(n["NodeID"]))):
        node_id = str(node["NodeID"])
        free = int(node.get("CurrentlyConsumableMemoryBlocks", 0))
        result.append(HostNode(
            id=_node_number(node_id),
            memory_mb=memory_of.get(node_id.lower(), free),
            free_memory_mb=free,
            logical_processors=int(node.get("NumberOfLogicalProcessors", 0)),
        ))
    return tuple(result)


def _by_path(found: dict[str, CimInstance], path: str) -> CimInstance | None:
    target = parse_path(path)
    for key, instance in found.items():
        candidate = parse_path(key)
        if (candidate.class_name.lower() == target.class_name.lower()
                and {k.lower(): v.lower() for k, v in candidate.keys.items()}
                == {k.lower(): v.lower() for k, v in target.keys.items()}):
            return instance
    return None


def _remotefx_gpus(session: CimSession, version: tuple[int, int, int]) -> tuple[str, ...]:
    if version >= (10, 0, 17763):  # RemoteFX vGPU is gone from Windows Server 2019 on
        return ()
    try:
        gpus = session.query("SELECT * FROM Msvm_Physical3dGraphicsProcessor "
                             "WHERE EnabledForVirtualization = TRUE")
    except _ABSENT:
        return ()
    return tuple(str(g.get("Name", "")) for g in gpus)


_GUID_NAME = re.compile(r"^[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$")
_LOCATION = re.compile(r"PCI bus (\d+), device (\d+), function (\d+)")
_addresses: dict[str, str] = {}  # device instance path -> PCI address (never changes)


def _pci_address(session: CimSession, instance_path: str) -> str:
    """The device's PCI address (dddd:bb:dd.f) from its PnP LocationInfo, as nova's PCI
    tracker wants it; Windows gives "PCI bus B, device D, function F"."""
    found = _addresses.get(instance_path.lower())
    if found is not None:
        return found
    address = ""
    entities = session.query(f"SELECT * FROM Win32_PnPEntity WHERE DeviceID = "
                             f"{quote(instance_path)}", CIMV2)
    if entities:
        result = session.invoke(entities[0], "GetDeviceProperties",
                                devicePropertyKeys=["DEVPKEY_Device_LocationInfo"])
        for prop in result.get("deviceProperties", []) or []:
            match = _LOCATION.search(str(prop.get("Data", "")))
            if match:
                bus, slot, function = (int(g) for g in match.groups())
                address = f"0000:{bus:02x}:{slot:02x}.{function:x}"
    _addresses[instance_path.lower()] = address
    return address


def assignable_devices(session: CimSession, *,
                       with_addresses: bool = False) -> tuple[PciDevice, ...]:
    """The host's devices dismounted for DDA, each free or held by a VM.

    A device assigned to a VM shows twice in Msvm_PciExpress (the host's, and the VM's
    with SystemName = the VM's GUID); the host's are those named after the host.
    """
    try:
        devices = session.query("SELECT * FROM Msvm_PciExpress")
    except _ABSENT:
        return ()
    devices = [d for d in devices if not _GUID_NAME.match(str(d.get("SystemName", "")))]
    if not devices:
        return ()
    held: list[str] = []
    for setting in session.query("SELECT * FROM Msvm_PciExpressSettingData"):
        held.extend(str(r) for r in setting.get("HostResource", ()) or ())
    result = []
    for device in devices:
        instance_path = str(device.get("DeviceInstancePath", ""))
        ids = _PCI_IDS.search(instance_path)
        if not ids:
            continue
        result.append(PciDevice(
            vendor_id=ids.group(1).lower(), product_id=ids.group(2).lower(),
            instance_path=instance_path, location_path=str(device.get("LocationPath", "")),
            free=not any(same_path(device.path, h) for h in held), path=device.path,
            address=_pci_address(session, instance_path) if with_addresses else "",
        ))
    return tuple(result)


def _pci_devices(session: CimSession, version: tuple[int, int, int]) -> tuple[PciDevice, ...]:
    if version < (10, 0, 0):  # Discrete Device Assignment arrived in 2016
        return ()
    return assignable_devices(session, with_addresses=True)


def _guarded(session: CimSession, version: tuple[int, int, int]) -> bool:
    if version < (10, 0, 0):  # Host Guardian / shielded VMs arrived in 2016
        return False
    try:
        result = session.invoke(f"{HGS_NAMESPACE}:MSFT_HgsClientConfiguration", "Get")
    except (*_ABSENT, CimError):
        return False
    config = result.get("cmdletOutput")
    return bool(config is not None and result.return_value == 0
                and config.get("IsHostGuarded"))


def _clustered(session: CimSession) -> bool:
    try:
        return bool(session.query("SELECT Name FROM MSCluster_Cluster", CLUSTER_NAMESPACE))
    except (*_ABSENT, CimError):
        return False


def read_host(session: CimSession) -> HostInfo:
    [system] = session.query(
        "SELECT CSName, Caption, Version, TotalVisibleMemorySize, FreePhysicalMemory, "
        "LastBootUpTime FROM Win32_OperatingSystem", CIMV2)
    hostname = str(system["CSName"])
    version = _version(str(system["Version"]))
    memory_mb = int(system.get("TotalVisibleMemorySize", 0)) // 1024
    free_mb = int(system.get("FreePhysicalMemory", 0)) // 1024
    processors = session.query("SELECT * FROM Win32_Processor", CIMV2)
    logical = sum(int(p.get("NumberOfLogicalProcessors", 0)) for p in processors)
    cores = sum(int(p.get("NumberOfCores", 0)) for p in processors)
    nodes = _numa(session, hostname, logical, memory_mb, free_mb)
    logical = logical or sum(n.logical_processors for n in nodes)
    features = frozenset(
        names.SERVER_FEATURES[int(f["ID"])]
        for f in session.query("SELECT ID FROM Win32_ServerFeature", CIMV2)
        if int(f.get("ID", -1)) in names.SERVER_FEATURES
    )
    pci = _pci_devices(session, version)
    facts = HostFacts(
        windows_version=version,
        logical_processors=logical,
        numa_nodes=tuple(HostNumaNode(n.memory_mb, n.logical_processors) for n in nodes),
        guarded=_guarded(session, version),
        server_features=features,
        remotefx_gpus=_remotefx_gpus(session, version),
        assignable_pci_devices=tuple(
            AssignablePciDevice(d.vendor_id, d.product_id, d.free) for d in pci),
        clustered=_clustered(session),
    )
    first = processors[0] if processors else None
    return HostInfo(
        hostname=hostname, windows_version=version, caption=str(system.get("Caption", "")),
        memory_mb=memory_mb, free_memory_mb=free_mb, logical_processors=logical,
        last_boot=system.get("LastBootUpTime"),
        processor_name=str(first.get("Name", "")) if first else "",
        processor_vendor=str(first.get("Manufacturer", "")) if first else "",
        cores=cores or logical, sockets=len(processors) or 1,
        nodes=nodes, pci_devices=pci, facts=facts,
    )


@dataclass(frozen=True)
class VSwitch:
    name: str
    path: str


def _external_switch_names(session: CimSession) -> set[str]:
    """The Names (GUIDs) of the switches bound to a physical adapter.

    Hyper-V records the binding as a chain: the adapter (Msvm_ExternalEthernetPort,
    IsBound) -> Msvm_EthernetDeviceSAPImplementation -> its LAN endpoint ->
    Msvm_ActiveConnection -> the switch port's LAN endpoint, whose SystemName is the
    switch's Name (the walk os-win's networkutils does). 1 + 2 per bound adapter.
    """
    names_found: set[str] = set()
    for adapter in session.query(
            "SELECT * FROM Msvm_ExternalEthernetPort WHERE IsBound = TRUE"):
        for sap in session.query("SELECT * FROM Msvm_EthernetDeviceSAPImplementation "
                                 f"WHERE Antecedent = {quote(adapter.path)}"):
            endpoint = parse_path(sap.path).key("Dependent")
            if not endpoint:
                continue
            for link in session.query("SELECT * FROM Msvm_ActiveConnection "
                                      f"WHERE Dependent = {quote(endpoint)}"):
                switch_end = parse_path(link.path).key("Antecedent") or ""
                system = parse_path(switch_end).key("SystemName") if switch_end else None
                if system:
                    names_found.add(system.upper())
    return names_found


def find_switch(session: CimSession, name: str | None) -> VSwitch:
    """The vSwitch NICs connect to: `name`, else the host's only external switch.

    Every switch is listed and matched here (names are compared case-insensitively, as
    Hyper-V does), so no operator-chosen name ever goes into a query.
    """
    found = session.query(f"SELECT Name, ElementName FROM {names.SWITCH}")
    switches = [VSwitch(str(s["ElementName"]), s.path) for s in found]
    known = ", ".join(repr(s.name) for s in switches) or "none"
    if name:
        for switch in switches:
            if switch.name.lower() == name.lower():
                return switch
        raise HostConfigurationError(
            f"[hyperv] vswitch_name = {name!r}: this host has no such virtual switch "
            f"(it has {known})")
    bound = _external_switch_names(session)
    external = [VSwitch(str(s["ElementName"]), s.path) for s in found
                if str(s["Name"]).upper() in bound]
    if len(external) == 1:
        return external[0]
    which = ", ".join(repr(s.name) for s in external)
    raise HostConfigurationError(
        f"[hyperv] vswitch_name is not set and the host has {len(external)} external "
        f"virtual switches{f' ({which})' if which else ''} among its switches ({known}); "
        "set vswitch_name to the one instance NICs use")
