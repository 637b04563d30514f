"""A VM's network adapters: adding and removing them, and their switch ports.

Each Neutron port is one synthetic NIC named after the port (ElementName = port id),
with the port's MAC as a static address. Its switch connection
(Msvm_EthernetPortAllocationSettingData, InstanceID = the NIC's + `\\C`) names the
vSwitch; the connection's port features carry the access VLAN
(Msvm_EthernetSwitchPortVlanSettingData, OperationMode 1) and MAC spoofing
(Msvm_EthernetSwitchPortSecuritySettingData.AllowMacSpoofing). Features go through the
management service's AddFeatureSettings against the connection (the switch service's
method of the same name refuses VLANs); a VLAN is changed by removing and adding it (as
os-win does), the security feature in place.

What is on the host is read in two queries per VM (its settings, its port features),
and `connect` changes only what differs from the plan, so plugging a port that is
already as it should be costs those two queries and nothing else.
"""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass, field

from nova_hyperv.cim import CimInstance, CimSession, like_prefix, quote, same_path
from nova_hyperv.hyperv import names
from nova_hyperv.hyperv.host import VSwitch
from nova_hyperv.hyperv.names import ResourceType, SubType
from nova_hyperv.rules import NicPlan

__all__ = ["Port", "add_nic", "connect", "connection_setting", "disconnect", "features_for",
           "find_nic", "nic_setting", "read_ports", "remove_nic"]

FEATURE = "Msvm_EthernetSwitchPortFeatureSettingData"
VLAN = "Msvm_EthernetSwitchPortVlanSettingData"
SECURITY = "Msvm_EthernetSwitchPortSecuritySettingData"
VLAN_ACCESS = 1  # OperationMode: 1 Access, 2 Trunk, 3 Private


@dataclass
class Port:
    """A NIC of a VM as the host holds it, with its switch connection and features."""

    name: str
    nic: CimInstance
    connection: CimInstance | None = None
    vlan: CimInstance | None = None
    security: CimInstance | None = None

    @property
    def mac(self) -> str:
        return str(self.nic.get("Address", ""))

    @property
    def switch(self) -> str | None:
        resources = self.connection.get("HostResource") if self.connection is not None else None
        return str(resources[0]) if resources else None

    @property
    def access_vlan(self) -> int | None:
        if self.vlan is None or int(self.vlan.get("OperationMode", 0) or 0) != VLAN_ACCESS:
            return None
        return int(self.vlan.get("AccessVlanId", 0) or 0) or None

    @property
    def mac_spoofing(self) -> bool:
        return bool(self.security is not None and self.security.get("AllowMacSpoofing"))


@dataclass
class _Changes:
    remove: list[str] = field(default_factory=list)
    modify: list[CimInstance] = field(default_factory=list)
    add: list[CimInstance] = field(default_factory=list)


def nic_setting(session: CimSession, nic: NicPlan) -> CimInstance:
    setting = session.new_instance(names.SYNTHETIC_NIC)
    setting["ResourceType"] = int(ResourceType.ETHERNET_ADAPTER)
    setting["ResourceSubType"] = SubType.SYNTHETIC_NIC
    setting["ElementName"] = nic.name
    setting["Address"] = nic.mac.replace(":", "").upper()
    setting["StaticMacAddress"] = True
    setting["VirtualSystemIdentifiers"] = [f"{{{uuidlib.uuid4()}}}"]
    return setting


def connection_setting(session: CimSession, nic_name: str, nic_path: str,
                       switch: VSwitch) -> CimInstance:
    setting = session.new_instance(names.PORT_ALLOCATION)
    setting["ResourceType"] = int(ResourceType.ETHERNET_CONNECTION)
    setting["ResourceSubType"] = SubType.ETHERNET_CONNECTION
    setting["Parent"] = nic_path
    setting["HostResource"] = [switch.path]
    setting["ElementName"] = nic_name
    return setting


def _vlan_feature(session: CimSession, vlan: int) -> CimInstance:
    feature = session.new_instance(VLAN)
    feature["OperationMode"] = VLAN_ACCESS
    feature["AccessVlanId"] = vlan
    return feature


def _security_feature(session: CimSession, spoofing: bool) -> CimInstance:
    feature = session.new_instance(SECURITY)
    feature["AllowMacSpoofing"] = spoofing
    return feature


def features_for(session: CimSession, nic: NicPlan) -> list[CimInstance]:
    """The port features a new connection of `nic` needs (none for a plain port)."""
    found = []
    if nic.vlan is not None:
        found.append(_vlan_feature(session, nic.vlan))
    if nic.mac_spoofing:
        found.append(_security_feature(session, True))
    return found


def read_ports(session: CimSession, guid: str) -> dict[str, Port]:
    """The VM's NICs by name (lower case), with connections and features: 2 queries."""
    prefix = like_prefix(f"Microsoft:{guid}")
    settings = session.query(f"SELECT * FROM {names.ANY_RASD} WHERE InstanceID LIKE {prefix}")
    features = session.query(f"SELECT * FROM {FEATURE} WHERE InstanceID LIKE {prefix}")
    ports: dict[str, Port] = {}
    by_id: dict[str, Port] = {}
    for setting in settings:
        if setting.get("ResourceSubType") == SubType.SYNTHETIC_NIC:
            port = Port(str(setting.get("ElementName", "")), setting)
            ports[port.name.lower()] = port
            by_id[str(setting["InstanceID"]).upper()] = port
    for setting in settings:
        if setting.get("ResourceSubType") == SubType.ETHERNET_CONNECTION:
            owner = by_id.get(str(setting["InstanceID"]).upper().removesuffix("\\C"))
            if owner is not None:
                owner.connection = setting
    connections = {str(p.connection["InstanceID"]).upper() + "\\": p
                   for p in ports.values() if p.connection is not None}
    for feature in features:
        instance_id = str(feature["InstanceID"]).upper()
        port = next((p for prefix_, p in connections.items()
                     if instance_id.startswith(prefix_)), None)
        if port is None:
            continue
        if feature.class_name.lower() == VLAN.lower():
            port.vlan = feature
        elif feature.class_name.lower() == SECURITY.lower():
            port.security = feature
    return ports


def add_nic(session: CimSession, service: CimInstance, vm_path: str, nic: NicPlan,
            switch: VSwitch, timeout: float | None = None) -> None:
    """Add the NIC, connect it and set its port features: 2 calls (+1 with features).

    If connecting fails, the NIC just added is removed again before the error.
    """
    result = session.invoke(service, "AddResourceSettings", AffectedConfiguration=vm_path,
                            ResourceSettings=[nic_setting(session, nic)])
    session.finish(result, f"adding network adapter {nic.name}", timeout=timeout)
    [nic_path] = result["ResultingResourceSettings"]
    try:
        result = session.invoke(service, "AddResourceSettings", AffectedConfiguration=vm_path,
                                ResourceSettings=[connection_setting(session, nic.name,
                                                                     nic_path, switch)])
        session.finish(result, f"connecting network adapter {nic.name} to vSwitch "
                               f"{switch.name}", timeout=timeout)
        features = features_for(session, nic)
        if features:
            [connection] = result["ResultingResourceSettings"]
            result = session.invoke(service, "AddFeatureSettings",
                                    AffectedConfiguration=connection,
                                    FeatureSettings=features)
            session.finish(result, f"setting the VLAN and port security of {nic.name}",
                           timeout=timeout)
    except Exception:
        result = session.invoke(service, "RemoveResourceSettings", ResourceSettings=[nic_path])
        session.finish(result, f"removing network adapter {nic.name} again", timeout=timeout)
        raise


def remove_nic(session: CimSession, service: CimInstance, port: Port,
               timeout: float | None = None) -> None:
    """Remove the NIC; its switch connection and port features go with it."""
    result = session.invoke(service, "RemoveResourceSettings", ResourceSettings=[port.nic.path])
    session.finish(result, f"removing network adapter {port.name}", timeout=timeout)


def find_nic(session: CimSession, guid: str, name: str) -> Port | None:
    """The VM's NIC named `name` alone (one query; no connection or features read)."""
    found = session.query(
        f"SELECT * FROM {names.SYNTHETIC_NIC} WHERE InstanceID LIKE "
        f"{like_prefix(f'Microsoft:{guid}')} AND ElementName = {quote(name)}")
    return Port(name, found[0]) if found else None


def _feature_changes(session: CimSession, port: Port, nic: NicPlan) -> _Changes:
    changes = _Changes()
    if port.access_vlan != nic.vlan:
        if port.vlan is not None:
            changes.remove.append(port.vlan.path)
        if nic.vlan is not None:
            changes.add.append(_vlan_feature(session, nic.vlan))
    if port.mac_spoofing != nic.mac_spoofing:
        if port.security is not None:
            port.security["AllowMacSpoofing"] = nic.mac_spoofing
            changes.modify.append(port.security)
        else:
            changes.add.append(_security_feature(session, nic.mac_spoofing))
    return changes


def connect(session: CimSession, service: CimInstance, vm_path: str, port: Port,
            nic: NicPlan, switch: VSwitch, timeout: float | None = None) -> bool:
    """Make the NIC's switch port what `nic` says (switch, VLAN, MAC spoofing).

    Returns whether anything changed. A connection to another switch is pointed at
    `switch` (ModifyResourceSettings); a missing one is added.
    """
    changed = False
    what = f"connecting network adapter {nic.name} to vSwitch {switch.name}"
    if port.connection is None:
        result = session.invoke(service, "AddResourceSettings", AffectedConfiguration=vm_path,
                                ResourceSettings=[connection_setting(session, nic.name,
                                                                     port.nic.path, switch)])
        session.finish(result, what, timeout=timeout)
        [connection_path] = result["ResultingResourceSettings"]
        port.vlan = port.security = None  # a new connection has no features
        changed = True
    else:
        connection_path = port.connection.path
        if port.switch is None or not same_path(port.switch, switch.path):
            port.connection["HostResource"] = [switch.path]
            result = session.invoke(service, "ModifyResourceSettings",
                                    ResourceSettings=[port.connection])
            session.finish(result, what, timeout=timeout)
            changed = True
    changes = _feature_changes(session, port, nic)
    if changes.remove:
        result = session.invoke(service, "RemoveFeatureSettings",
                                FeatureSettings=changes.remove)
        session.finish(result, f"removing the old VLAN of {nic.name}", timeout=timeout)
    if changes.modify:
        result = session.invoke(service, "ModifyFeatureSettings",
                                FeatureSettings=changes.modify)
        session.finish(result, f"setting MAC spoofing of {nic.name}", timeout=timeout)
    if changes.add:
        result = session.invoke(service, "AddFeatureSettings",
                                AffectedConfiguration=connection_path,
                                FeatureSettings=changes.add)
        session.finish(result, f"setting the VLAN and port security of {nic.name}",
                       timeout=timeout)
    return changed or bool(changes.remove or changes.modify or changes.add)


def disconnect(session: CimSession, service: CimInstance, port: Port,
               timeout: float | None = None) -> bool:
    """Take the NIC off its switch (its connection and features go); the NIC stays."""
    if port.connection is None:
        return False
    result = session.invoke(service, "RemoveResourceSettings",
                            ResourceSettings=[port.connection.path])
    session.finish(result, f"disconnecting network adapter {port.name}", timeout=timeout)
    port.connection = port.vlan = port.security = None
    return True
