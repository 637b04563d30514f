"""Hyper-V's rules per kind of virtual device: what may be added, changed, removed, when.

`RULES[kind]` answers for a device kind of the catalog. The default (`FixedDevice`)
is a device every VM has and keeps (keyboard, serial controller, ...): it cannot be
added or removed, and only its name changes. The others encode the reference notes
(§2.5-2.13, §4.5, §4.10-4.12): controllers and drives and their slots, media in
drives (never in controllers), NICs and their switch connections, serial pipes,
processor and memory limits. Later parts of the emulator replace or add rules with
`register_rules`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from hyperv_emulator.errors import CimError
from hyperv_emulator.instances import Instance
from hyperv_emulator.paths import parse_path
from hyperv_emulator.providers import boot, catalog
from hyperv_emulator.providers.base import (
    FAILED,
    INVALID_PARAMETER,
    INVALID_STATE,
    Ctx,
    new_guid,
)
from hyperv_emulator.providers.catalog import DeviceKind, kind_of
from hyperv_emulator.providers.checks import refuse, require_off
from hyperv_emulator.providers.vms import Vm, guid_of_setting
from hyperv_emulator.store import instance_key, path_text_key

# Properties nobody changes through Modify: what the device *is* and where it sits.
IDENTITY = frozenset({"instanceid", "resourcetype", "resourcesubtype", "otherresourcetype",
                      "poolid", "parent", "addressonparent"})
_MAC = re.compile(r"^[0-9A-Fa-f]{12}$")
_PIPE = re.compile(r"^\\\\[^\\]+\\pipe\\[^\\]+$", re.IGNORECASE)
MAX_SCSI_CONTROLLERS = 4
SCSI_SLOTS = 64
IDE_SLOTS = 2
MAX_SYNTHETIC_NICS = 8
MAX_LEGACY_NICS = 4
VM_LINK = "Msvm_VirtualSystemSettingDataComponent"


class DeviceRules:
    """A device every VM has and keeps; only its name may change."""

    addable = False
    removable = False
    mutable: frozenset[str] | None = frozenset({"elementname"})
    off_only: frozenset[str] = frozenset()

    def add(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        raise refuse(vm, f"cannot add resource: {kind.type_label} devices cannot be added to "
                         "a virtual machine (every virtual machine has a fixed set)")

    def added(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        """After the setting exists (boot entries and the like)."""

    def modify(self, ctx: Ctx, vm: Vm, kind: DeviceKind, old: Instance, new: Instance,
               changed: set[str]) -> None:
        allowed = self.mutable
        for name in sorted(changed):
            prop = new.cls.props[name]
            if name in IDENTITY or (allowed is not None and name not in allowed):
                raise refuse(vm, f"{kind.type_label}: {prop.name} cannot be changed "
                                 f"(from {old[name]!r} to {new[name]!r})")
            if name in self.off_only:
                require_off(vm, f"changing {prop.name} of the {kind.element_name or kind.name}")

    def remove(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        if not self.removable:
            raise refuse(vm, f"{kind.type_label} cannot be removed from a virtual machine")

    def removed(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        """Before the setting is deleted: take dependants with it."""


RULES: dict[str, DeviceRules] = {}
_FIXED = DeviceRules()


def register_rules(kind_name: str, rules: DeviceRules) -> DeviceRules:
    RULES[kind_name] = rules
    return rules


def rules_for(kind: DeviceKind) -> DeviceRules:
    return RULES.get(kind.name, _FIXED)


# -- helpers ------------------------------------------------------------------------


def vm_settings(ctx: Ctx, vm: Vm, class_name: str = "CIM_ResourceAllocationSettingData") -> list[
        Instance]:
    return ctx.query(class_name, vm=vm.guid, hint=("prefix", "InstanceID", vm.prefix + "\\"))


def settings_of_kind(ctx: Ctx, vm: Vm, *kinds: DeviceKind) -> list[Instance]:
    names = {k.name for k in kinds}
    return [s for s in vm_settings(ctx, vm) if (k := kind_of(s)) is not None and k.name in names]


def children(ctx: Ctx, vm: Vm, parent: Instance) -> list[Instance]:
    """Settings whose Parent is this setting (drives of a controller, media of a drive)."""
    key = instance_key(parent)
    found = []
    for setting in vm_settings(ctx, vm):
        text = setting.get("Parent")
        if text and _path_key(text) == key:
            found.append(setting)
    return found


def _path_key(text: str) -> str | None:
    return path_text_key(text)


def parent_of(ctx: Ctx, vm: Vm, setting: Instance, what: str) -> Instance:
    text = setting.get("Parent")
    if not text:
        raise refuse(vm, f"{what}: Parent is required (the path of the device it attaches to)")
    try:
        parsed = parse_path(text)
    except CimError as exc:
        raise refuse(vm, f"{what}: Parent {text!r} is not an object path ({exc.message})") \
            from None
    found = ctx.get(parsed.with_namespace(parsed.namespace or "root/virtualization/v2"))
    if found is None or guid_of_setting(found.get("InstanceID")) != vm.guid:
        raise refuse(vm, f"{what}: Parent {text!r} is not a device of {vm.describe()}")
    return found


def link_to_vm(ctx: Ctx, vm: Vm, setting: Instance) -> None:
    ctx.link(VM_LINK, vm=vm.guid, GroupComponent=vm.vssd, PartComponent=setting)


def remove_setting(ctx: Ctx, vm: Vm, setting: Instance) -> None:
    """Remove a device with whatever hangs off it, keeping boot order consistent."""
    kind = kind_of(setting)
    for child in children(ctx, vm, setting):
        remove_setting(ctx, vm, child)
    if kind is not None:
        rules_for(kind).removed(ctx, vm, kind, setting)
    boot.remove_boot_source(ctx, vm, setting)
    ctx.delete(setting)


# -- controllers ----------------------------------------------------------------------


class ScsiController(DeviceRules):
    addable = True
    removable = True
    mutable = frozenset({"elementname", "virtualsystemidentifiers"})

    def add(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        require_off(vm, "adding a SCSI controller")
        existing = settings_of_kind(ctx, vm, kind)
        if len(existing) >= MAX_SCSI_CONTROLLERS:
            raise refuse(vm, f"cannot add resource: {vm.describe()} already has "
                             f"{MAX_SCSI_CONTROLLERS} SCSI controllers (the maximum)")
        guid = new_guid()
        setting["InstanceID"] = f"{vm.prefix}\\{guid}\\0"
        if not setting.get("VirtualSystemIdentifiers"):
            setting["VirtualSystemIdentifiers"] = [f"{{{guid.lower()}}}"]

    def remove(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        require_off(vm, "removing a SCSI controller")


register_rules("scsi_controller", ScsiController())


# -- drives ---------------------------------------------------------------------------


def controller_kind(controller: Instance) -> DeviceKind | None:
    kind = kind_of(controller)
    if kind in (catalog.IDE_CONTROLLER, catalog.SCSI_CONTROLLER):
        return kind
    return None


class Drive(DeviceRules):
    addable = True
    removable = True
    mutable = frozenset({"elementname", "address"})

    def add(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        controller = parent_of(ctx, vm, setting, kind.type_label)
        controller_type = controller_kind(controller)
        if controller_type is None:
            found = kind_of(controller)
            label = found.type_label if found else controller.class_name
            raise refuse(vm, f"{kind.type_label}: Parent must be an IDE or SCSI controller, "
                             f"not {label}")
        ide = controller_type is catalog.IDE_CONTROLLER
        if ide:
            require_off(vm, "adding a drive to an IDE controller")
        elif kind is catalog.DVD_DRIVE and vm.generation == 1:
            raise refuse(vm, "cannot add resource: generation 1 virtual machines have DVD "
                             "drives on IDE controllers only")
        slots = IDE_SLOTS if ide else SCSI_SLOTS
        used = {int(d.get("AddressOnParent")) for d in children(ctx, vm, controller)
                if str(d.get("AddressOnParent", "")).isdigit()}
        text = setting.get("AddressOnParent")
        if text is None or str(text).strip() == "":
            free = [slot for slot in range(slots) if slot not in used]
            if not free:
                raise refuse(vm, f"cannot add resource: the controller "
                                 f"{controller['InstanceID']} has no free slot")
            slot = free[0]
        else:
            if not str(text).strip().isdigit() or not 0 <= int(text) < slots:
                raise refuse(vm, f"{kind.type_label}: AddressOnParent {text!r} is not a slot of "
                                 f"this {'IDE' if ide else 'SCSI'} controller (0..{slots - 1})")
            slot = int(text)
            if slot in used:
                raise refuse(vm, f"cannot add resource: slot {slot} of controller "
                                 f"{controller['InstanceID']} is already in use")
        setting["AddressOnParent"] = str(slot)
        setting["Parent"] = ctx.path(controller)
        setting["InstanceID"] = f"{controller['InstanceID']}\\{slot}\\D"
        self.check_host_resource(ctx, vm, kind, setting)

    def check_host_resource(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        if setting.get("HostResource"):
            raise refuse(vm, f"{kind.type_label}: HostResource is for media and physical "
                             "disks; attach an image with a storage setting (SASD) instead")

    def added(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        controller = ctx.get(setting["Parent"])
        if controller is not None and controller_kind(controller) is catalog.SCSI_CONTROLLER:
            boot.add_boot_source(ctx, vm, setting, boot.DRIVE,
                                 f"\\Scsi(0,{setting['AddressOnParent']})")

    def remove(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        controller = ctx.get(setting.get("Parent") or "")
        if controller is not None and controller_kind(controller) is catalog.IDE_CONTROLLER:
            require_off(vm, "removing a drive from an IDE controller")


class PhysicalDisk(Drive):
    mutable = frozenset({"elementname", "address", "hostresource"})

    def check_host_resource(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        resources = setting.get("HostResource") or ()
        if len(resources) != 1:
            raise refuse(vm, "a physical disk drive needs HostResource = [the path of the host's "
                             "Msvm_DiskDrive]")
        disk = ctx.get(resources[0]) if _path_key(resources[0]) else None
        if disk is None or not disk.is_a("Msvm_DiskDrive") or disk.get("SystemName") != \
                ctx.hostname:
            raise refuse(vm, f"HostResource {resources[0]!r} is not a disk of this host")
        key = instance_key(disk)
        for other in ctx.query("Msvm_ResourceAllocationSettingData",
                               hint=("eq", "ResourceSubType", kind.subtype)):
            if other.get("InstanceID") == setting.get("InstanceID"):
                continue
            if any(_path_key(p) == key for p in other.get("HostResource", ())):
                raise refuse(vm, f"host disk {disk['DriveNumber']} is already attached to a "
                                 "virtual machine", code=INVALID_PARAMETER)
        setting["HostResource"] = [ctx.path(disk)]

    def modify(self, ctx: Ctx, vm: Vm, kind: DeviceKind, old: Instance, new: Instance,
               changed: set[str]) -> None:
        super().modify(ctx, vm, kind, old, new, changed)
        if "hostresource" in changed:
            self.check_host_resource(ctx, vm, kind, new)


register_rules("disk_drive", Drive())
register_rules("dvd_drive", Drive())
register_rules("physical_disk", PhysicalDisk())


# -- media ----------------------------------------------------------------------------

_MEDIA_DRIVES = {
    "vhd": catalog.DISK_DRIVE,
    "iso": catalog.DVD_DRIVE,
    "vfd": catalog.DISKETTE_DRIVE,
}


class Media(DeviceRules):
    addable = True
    removable = True
    mutable = frozenset({"elementname", "hostresource", "iopslimit", "iopsreservation",
                         "cachingmode", "writehardeningmethod", "ignoreflushes",
                         "storageqospolicyid", "access", "persistentreservationssupported"})

    def add(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        drive = parent_of(ctx, vm, setting, kind.type_label)
        drive_kind = kind_of(drive)
        wanted = _MEDIA_DRIVES[kind.name]
        if drive_kind is not wanted:
            found = drive_kind.type_label if drive_kind else drive.class_name
            code = FAILED if controller_kind(drive) is not None else INVALID_PARAMETER
            raise refuse(vm, f"cannot attach {kind.type_label}: its Parent must be a "
                             f"{wanted.type_label}, not a {found}", code=code)
        if children(ctx, vm, drive):
            raise refuse(vm, f"cannot attach {kind.type_label}: drive {drive['InstanceID']} "
                             "already holds media")
        controller = ctx.get(drive.get("Parent") or "")
        if (kind is catalog.VHD and controller is not None
                and controller_kind(controller) is catalog.IDE_CONTROLLER):
            require_off(vm, "attaching a virtual hard disk to an IDE drive")
        self.check_host_resource(vm, kind, setting)
        self.check_iops(vm, setting)
        setting["Parent"] = ctx.path(drive)
        setting["InstanceID"] = str(drive["InstanceID"]).removesuffix("\\D") + "\\L"

    def check_host_resource(self, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        resources = setting.get("HostResource") or ()
        if len(resources) > 1:
            raise refuse(vm, f"{kind.type_label}: HostResource holds one path, not "
                             f"{len(resources)}")
        if kind is not catalog.ISO and (not resources or not str(resources[0]).strip()):
            raise refuse(vm, f"{kind.type_label}: HostResource must name the image file")

    def check_iops(self, vm: Vm, setting: Instance) -> None:
        limit = setting.get("IOPSLimit") or 0
        reservation = setting.get("IOPSReservation") or 0
        if limit and reservation and limit < reservation:
            raise refuse(vm, f"IOPSLimit {limit} is below IOPSReservation {reservation}; the "
                             "limit must be at least the reservation (0 means no limit)")
        for name, value in (("IOPSLimit", limit), ("IOPSReservation", reservation)):
            if value > 1_000_000_000:
                raise refuse(vm, f"{name} {value} is above 1000000000")

    def modify(self, ctx: Ctx, vm: Vm, kind: DeviceKind, old: Instance, new: Instance,
               changed: set[str]) -> None:
        super().modify(ctx, vm, kind, old, new, changed)
        if "hostresource" in changed:
            self.check_host_resource(vm, kind, new)
        self.check_iops(vm, new)

    def remove(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        drive = ctx.get(setting.get("Parent") or "")
        controller = ctx.get(drive.get("Parent") or "") if drive is not None else None
        if (kind is catalog.VHD and controller is not None
                and controller_kind(controller) is catalog.IDE_CONTROLLER):
            require_off(vm, "removing a virtual hard disk from an IDE drive")


for _name in _MEDIA_DRIVES:
    register_rules(_name, Media())


# -- network --------------------------------------------------------------------------


class Nic(DeviceRules):
    addable = True
    removable = True
    mutable = frozenset({"elementname", "address", "staticmacaddress", "virtualsystemidentifiers",
                         "devicenamingenabled", "clustermonitored", "allowpacketdirect",
                         "interruptmoderation", "numaawareplacement", "mediatype"})
    off_only = frozenset({"address", "staticmacaddress"})

    def _check_hot_plug(self, ctx: Ctx, vm: Vm, kind: DeviceKind, what: str) -> None:
        if vm.is_off:
            return
        if kind is catalog.SYNTHETIC_NIC and vm.generation == 2 and ctx.build >= 10240:
            return
        raise refuse(vm, f"{what} a network adapter needs {vm.describe()} to be off "
                         "(hot add and remove work for synthetic adapters of generation 2 "
                         "virtual machines on Windows Server 2016 and later)",
                     code=INVALID_STATE)

    def add(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        if kind is catalog.EMULATED_NIC and vm.generation != 1:
            raise refuse(vm, "cannot add resource: legacy network adapters exist on "
                             "generation 1 virtual machines only")
        self._check_hot_plug(ctx, vm, kind, "adding")
        limit = MAX_SYNTHETIC_NICS if kind is catalog.SYNTHETIC_NIC else MAX_LEGACY_NICS
        if len(settings_of_kind(ctx, vm, kind)) >= limit:
            raise refuse(vm, f"cannot add resource: {vm.describe()} already has {limit} "
                             f"{kind.element_name.lower()}s (the maximum)")
        guid = new_guid()
        setting["InstanceID"] = f"{vm.prefix}\\{guid}"
        if "VirtualSystemIdentifiers" in setting and not setting.get("VirtualSystemIdentifiers"):
            setting["VirtualSystemIdentifiers"] = [f"{{{guid.lower()}}}"]
        self._check_mac(vm, setting)
        for name in ("HostResource", "Parent"):
            if setting.get(name):
                raise refuse(vm, f"a network adapter has no {name}; connect it to a switch "
                                 "with an Ethernet connection setting instead")

    def _check_mac(self, vm: Vm, setting: Instance) -> None:
        if setting.get("StaticMacAddress"):
            mac = str(setting.get("Address", "")).replace("-", "").replace(":", "")
            if not _MAC.match(mac) or mac == "000000000000" or int(mac[:2], 16) & 1:
                raise refuse(vm, f"Address {setting.get('Address')!r} is not a valid static MAC "
                                 "address (12 hex digits, not multicast, not zero)")
            setting["Address"] = mac.upper()
        else:
            setting["Address"] = "000000000000"

    def added(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        if kind is catalog.SYNTHETIC_NIC:
            boot.add_boot_source(ctx, vm, setting, boot.NETWORK,
                                 f"\\MAC({setting['Address']})")

    def modify(self, ctx: Ctx, vm: Vm, kind: DeviceKind, old: Instance, new: Instance,
               changed: set[str]) -> None:
        super().modify(ctx, vm, kind, old, new, changed)
        if changed & {"address", "staticmacaddress"}:
            self._check_mac(vm, new)

    def remove(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        self._check_hot_plug(ctx, vm, kind, "removing")

    def removed(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        # Its switch connection (Parent = this NIC) goes with it, features included.
        for connection in ctx.query("Msvm_EthernetPortAllocationSettingData", vm=vm.guid,
                                    hint=("prefix", "InstanceID", setting["InstanceID"] + "\\")):
            remove_setting(ctx, vm, connection)


class EthernetConnection(DeviceRules):
    addable = True
    removable = True
    mutable = frozenset({"elementname", "hostresource", "enabledstate", "requiredfeatures",
                         "requiredfeaturehints", "testreplicapoolid", "testreplicaswitchname",
                         "compartmentguid", "desiredvlanendpointmode", "portname",
                         "lastknownswitchname"})

    def add(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        nic = parent_of(ctx, vm, setting, kind.type_label)
        if kind_of(nic) not in (catalog.SYNTHETIC_NIC, catalog.EMULATED_NIC):
            raise refuse(vm, f"{kind.type_label}: Parent must be a network adapter, not "
                             f"{nic.class_name}")
        instance_id = f"{nic['InstanceID']}\\C"
        if ctx.get(f"root\\virtualization\\v2:{setting.class_name}.InstanceID="
                   f'"{_escape(instance_id)}"') is not None:
            raise refuse(vm, f"network adapter {nic['ElementName']!r} is already connected; "
                             "modify its connection instead")
        setting["Parent"] = ctx.path(nic)
        setting["InstanceID"] = instance_id
        self.check_switch(ctx, vm, setting)

    def check_switch(self, ctx: Ctx, vm: Vm, setting: Instance) -> None:
        resources = setting.get("HostResource") or ()
        if len(resources) > 1:
            raise refuse(vm, "an Ethernet connection names one switch in HostResource")
        if not resources:
            return
        switch = ctx.get(resources[0]) if _path_key(resources[0]) else None
        if switch is None or not switch.is_a("Msvm_VirtualEthernetSwitch"):
            raise refuse(vm, f"HostResource {resources[0]!r} is not a virtual switch of this "
                             "host")
        setting["HostResource"] = [ctx.path(switch)]
        setting["LastKnownSwitchName"] = switch.get("ElementName")

    def modify(self, ctx: Ctx, vm: Vm, kind: DeviceKind, old: Instance, new: Instance,
               changed: set[str]) -> None:
        super().modify(ctx, vm, kind, old, new, changed)
        if "hostresource" in changed:
            self.check_switch(ctx, vm, new)

    def removed(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        for feature in ctx.query("Msvm_EthernetSwitchPortFeatureSettingData", vm=vm.guid,
                                 hint=("prefix", "InstanceID", setting["InstanceID"] + "\\")):
            ctx.delete(feature)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


register_rules("synthetic_nic", Nic())
register_rules("emulated_nic", Nic())
register_rules("ethernet_connection", EthernetConnection())


# -- serial ports, display, integration components ----------------------------------


class SerialPort(DeviceRules):
    mutable = frozenset({"connection", "debuggermode", "elementname"})

    def modify(self, ctx: Ctx, vm: Vm, kind: DeviceKind, old: Instance, new: Instance,
               changed: set[str]) -> None:
        super().modify(ctx, vm, kind, old, new, changed)
        for pipe in new.get("Connection", ()):
            if pipe and not _PIPE.match(pipe):
                raise refuse(vm, f"Connection {pipe!r} is not a named pipe; use "
                                 "\\\\.\\pipe\\NAME or \\\\SERVER\\pipe\\NAME (or '' for none)")
        if len(new.get("Connection", ())) > 1:
            raise refuse(vm, "a serial port connects to one named pipe")


class SyntheticDisplay(DeviceRules):
    addable = True
    removable = True
    mutable = frozenset({"elementname", "resolutiontype", "horizontalresolution",
                         "verticalresolution"})
    off_only = frozenset({"resolutiontype", "horizontalresolution", "verticalresolution"})

    def add(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        require_off(vm, "adding a display controller")
        if settings_of_kind(ctx, vm, kind, catalog.SYNTHETIC_3D_DISPLAY):
            raise refuse(vm, "cannot add resource: the virtual machine already has a display "
                             "controller")
        setting["InstanceID"] = f"{vm.prefix}\\{catalog.SYNTHETIC_DISPLAY_GUID}"

    def remove(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        require_off(vm, "removing the display controller")


class S3Display(DeviceRules):
    mutable = frozenset({"elementname", "address"})
    off_only = frozenset({"address"})


class IntegrationComponent(DeviceRules):
    mutable = frozenset({"elementname", "enabledstate"})

    def modify(self, ctx: Ctx, vm: Vm, kind: DeviceKind, old: Instance, new: Instance,
               changed: set[str]) -> None:
        super().modify(ctx, vm, kind, old, new, changed)
        if new.get("EnabledState") not in (2, 3):
            raise refuse(vm, f"{kind.type_label}: EnabledState must be 2 (enabled) or 3 "
                             "(disabled)")


register_rules("serial_port", SerialPort())
register_rules("synthetic_display", SyntheticDisplay())
register_rules("s3_display", S3Display())
for _ic in catalog.INTEGRATION_COMPONENTS:
    register_rules(_ic.name, IntegrationComponent())


# -- processor and memory -----------------------------------------------------------


class Processor(DeviceRules):
    mutable = None  # everything but identity
    off_only = frozenset({"virtualquantity", "maxprocessorspernumanode", "maxnumanodespersocket",
                          "hwthreadspercore", "exposevirtualizationextensions",
                          "limitprocessorfeatures", "limitcpuid", "limitprocessorfeaturesmode",
                          "enablehostresourceprotection", "cpugroupid"})

    def modify(self, ctx: Ctx, vm: Vm, kind: DeviceKind, old: Instance, new: Instance,
               changed: set[str]) -> None:
        super().modify(ctx, vm, kind, old, new, changed)
        host_lps = ctx.profile.logical_processors
        count = new.get("VirtualQuantity", 1)
        if not 1 <= count <= host_lps:
            raise refuse(vm, f"VirtualQuantity {count}: a virtual machine gets 1 to {host_lps} "
                             "virtual processors on this host (its logical processor count)")
        for name in ("Reservation", "Limit"):
            value = new.get(name, 0)
            if not 0 <= value <= 100000:
                raise refuse(vm, f"{name} {value} is outside 0..100000 (100000 is 100% of one "
                                 "logical processor)")
        if new.get("Reservation", 0) > new.get("Limit", 100000):
            raise refuse(vm, f"Reservation {new.get('Reservation')} is above Limit "
                             f"{new.get('Limit')}")
        weight = new.get("Weight", 100)
        if not 0 <= weight <= 10000:
            raise refuse(vm, f"Weight {weight} is outside 0..10000")
        per_node = new.get("MaxProcessorsPerNumaNode")
        if per_node is not None and not 1 <= per_node <= host_lps:
            raise refuse(vm, f"MaxProcessorsPerNumaNode {per_node} is outside 1..{host_lps}")


class Memory(DeviceRules):
    mutable = None
    off_only = frozenset({"dynamicmemoryenabled", "maxmemoryblockspernumanode",
                          "hugepagesenabled", "sgxenabled", "sgxsize"})

    def modify(self, ctx: Ctx, vm: Vm, kind: DeviceKind, old: Instance, new: Instance,
               changed: set[str]) -> None:
        super().modify(ctx, vm, kind, old, new, changed)
        dynamic = bool(new.get("DynamicMemoryEnabled"))
        if not vm.is_off and "virtualquantity" in changed and (dynamic or ctx.build < 10240):
            raise refuse(vm, "the startup memory of a running virtual machine can change "
                                 "only with static memory on Windows Server 2016 and later",
                             code=INVALID_STATE)
        quantities = ["VirtualQuantity"] + (["Reservation", "Limit"] if dynamic else [])
        for name in quantities:
            value = new.get(name)
            if value is None:
                continue
            if value % 2:
                raise refuse(vm, f"{name} {value} MB: memory is allocated in 2 MB units; use an "
                                 "even number of MB")
            if value < 32:
                raise refuse(vm, f"{name} {value} MB is below the 32 MB minimum")
        if dynamic:
            low, startup, high = (new.get("Reservation"), new.get("VirtualQuantity"),
                                  new.get("Limit"))
            if not low <= startup <= high:
                raise refuse(vm, f"dynamic memory needs minimum <= startup <= maximum; got "
                                 f"Reservation {low}, VirtualQuantity {startup}, Limit {high}")
            if vm.vssd.get("VirtualNumaEnabled"):
                raise refuse(vm, "dynamic memory cannot be enabled while virtual NUMA is "
                                 "enabled (NUMA is span based); turn VirtualNumaEnabled off "
                                 "first")
        buffer = new.get("TargetMemoryBuffer")
        if buffer is not None and not 5 <= buffer <= 2000:
            raise refuse(vm, f"TargetMemoryBuffer {buffer} is outside 5..2000 (percent)")
        weight = new.get("Weight")
        if weight is not None and not 0 <= weight <= 10000:
            raise refuse(vm, f"Weight {weight} is outside 0..10000")


register_rules("processor", Processor())
register_rules("memory", Memory())


# -- applying client settings -------------------------------------------------------


def changed_values(old: Instance, new: Instance) -> set[str]:
    """The properties a client gave (non-NULL) that differ from what is stored."""
    changed = set()
    for lowered, value in new.raw.items():
        if value is None:
            continue
        current = old.raw.get(lowered)
        if (lowered == "instanceid" and isinstance(current, str) and isinstance(value, str)
                and current.lower() == value.lower()):
            continue
        if lowered == "parent" and current and value and _path_key(current) == _path_key(value):
            continue
        if value != current:
            changed.add(lowered)
    return changed


def merge(old: Instance, new: Instance, changed: Iterable[str]) -> Instance:
    merged = old.copy()
    for lowered in changed:
        merged.raw[lowered] = new.raw[lowered]
    return merged


def from_template(ctx: Ctx, kind: DeviceKind, class_name: str, given: Instance) -> Instance:
    """What Hyper-V adds: the kind's defaults, then whatever the client set."""
    from hyperv_emulator.providers.seed import template_values

    setting = ctx.new(class_name, **template_values(ctx, kind, class_name))
    for lowered, value in given.raw.items():
        if value is not None and lowered != "instanceid":
            setting.raw[lowered] = value
    return setting
