"""Discrete Device Assignment: the host's assignable PCI Express devices and their rules.

Each of the profile's `assignable_devices` (already dismounted from the host) is an
`Msvm_PciExpress` of the host (Windows Server 2016 and later) and a
`Win32_PnPEntity` whose GetDeviceProperties gives its PCI location as Windows does
("PCI bus B, device D, function F" and the bus address (D << 16) | F). The device's
DeviceID (and so its object path) holds its instance path
`PCIP\\VEN_xxxx&DEV_yyyy&SUBSYS_...`, which os-win matches on.

A VM gets a device with an `Msvm_PciExpressSettingData` whose HostResource names the
host's device. Hyper-V's rules (reference notes §2.13, §4.5; Microsoft's DDA
deployment steps): only while the VM is off (to add and to remove); one VM per device;
no dynamic memory and no saving (RequestStateChange 6) for a VM holding a device; its
automatic stop action must be TurnOff (2). While assigned, the device also appears as
an `Msvm_PciExpress` of the VM (same DeviceID, DeviceInstancePath and LocationPath,
SystemName = the VM), linked to the host's by Msvm_LogicalIdentity: that second
instance is how os-win tells an assigned device from a free one.
"""

from __future__ import annotations

import re

from hyperv_emulator.instances import Instance
from hyperv_emulator.profiles import AssignableDevice
from hyperv_emulator.providers import catalog, guards, seed
from hyperv_emulator.providers.base import (
    COMPLETED,
    INVALID_STATE,
    Args,
    Ctx,
    Refused,
    method,
    new_guid,
)
from hyperv_emulator.providers.catalog import DeviceKind
from hyperv_emulator.providers.checks import refuse, require_off
from hyperv_emulator.providers.devices import (
    DeviceRules,
    changed_values,
    register_rules,
    settings_of_kind,
)
from hyperv_emulator.providers.resources import VSMS, decode_all
from hyperv_emulator.providers.vms import PAUSED, RUNNING, Vm, guid_of_setting, load_vm
from hyperv_emulator.schema.model import NS_CIMV2
from hyperv_emulator.store import instance_key, path_text_key

DEVICE = "Msvm_PciExpress"
PNP = "Win32_PnPEntity"
TURN_OFF = 2
_FUNCTION = re.compile(r"PCI\(([0-9A-Fa-f]{2})([0-9A-Fa-f]{2})\)$")
# Device property keys (devpkey.h) with their DEVPROP_TYPE and the WMI class of that type.
_LOCATION_GUID = "{a45c254e-df1c-4efd-8020-67d146a850e0}"
DEVPKEY = {
    "DEVPKEY_Device_LocationInfo": (f"{_LOCATION_GUID} 15", 18, "Win32_PnPDevicePropertyString"),
    # DEVPROP_TYPE_INT32, as the DEVPKEY_Device_Address page documents it.
    "DEVPKEY_Device_Address": (f"{_LOCATION_GUID} 30", 6, "Win32_PnPDevicePropertySint32"),
    "DEVPKEY_Device_LocationPaths": (f"{_LOCATION_GUID} 37", 8210,
                                     "Win32_PnPDevicePropertyStringArray"),
    "DEVPKEY_Device_InstanceId": ("{78c34fc8-104a-4aca-9ea4-524d52996e57} 256", 18,
                                  "Win32_PnPDevicePropertyString"),
}


def device_id(device: AssignableDevice) -> str:
    return f"Microsoft:{catalog.PCI_EXPRESS.template_id}\\{device.instance_path}"


def bus_device_function(devices: tuple[AssignableDevice, ...],
                        device: AssignableDevice) -> tuple[int, int, int]:
    """Where the device sits: device and function from the last PCI(DDFF) of its location
    path; the bus numbered 1, 2, ... by upstream port, in the order the profile lists
    them (a location path does not hold bus numbers; this is our choice)."""
    match = _FUNCTION.search(device.location_path)
    slot, function = (int(match.group(1), 16), int(match.group(2), 16)) if match else (0, 0)
    upstream = []
    for other in devices:
        parent = other.location_path.rpartition("#")[0]
        if parent not in upstream:
            upstream.append(parent)
    return upstream.index(device.location_path.rpartition("#")[0]) + 1, slot, function


# -- the host's devices ---------------------------------------------------------------


def host_devices(ctx: Ctx) -> list[Instance]:
    if not ctx.has_class(DEVICE):
        return []
    return ctx.query(DEVICE, hint=("eq", "SystemName", ctx.hostname))


def _seed(ctx: Ctx) -> None:
    if not ctx.has_class(DEVICE):
        return
    host = ctx.get(seed.host_cs_path(ctx))
    devices = ctx.profile.assignable_devices
    for device in devices:
        _, _, function = bus_device_function(devices, device)
        name = f"PCI Express device {device.vendor_id.upper()}:{device.product_id.upper()}"
        found = ctx.create(ctx.new(
            DEVICE, CreationClassName=DEVICE, DeviceID=device_id(device),
            SystemCreationClassName="Msvm_ComputerSystem", SystemName=ctx.hostname,
            DeviceInstancePath=device.instance_path, LocationPath=device.location_path,
            FunctionNumber=function, ElementName=name, Name=name, Caption="PCI Express Device",
            EnabledState=2, HealthState=5, OperationalStatus=[2],
        ))
        if host is not None:
            ctx.link("Msvm_SystemDevice", GroupComponent=host, PartComponent=found)
        if ctx.has_class(PNP, NS_CIMV2):
            ctx.create(ctx.new(
                PNP, NS_CIMV2, DeviceID=device.instance_path, PNPDeviceID=device.instance_path,
                Name=name, Caption=name, Description=name, PNPClass="System",
                ClassGuid="{4d36e97d-e325-11ce-bfc1-08002be10318}", Present=True,
                Status="OK", ConfigManagerErrorCode=0, Manufacturer="(Dismounted device)",
                Service="pcip", HardwareID=[device.instance_path.split("\\")[1]],
                CreationClassName=PNP, SystemCreationClassName="Win32_ComputerSystem",
                SystemName=ctx.hostname,
            ))


seed.SEED_HOOKS.append(_seed)


@method(PNP, "GetDeviceProperties")
def get_device_properties(ctx: Ctx, entity: Instance | None, args: Args) -> int:
    assert entity is not None
    devices = ctx.profile.assignable_devices
    device = next((d for d in devices if d.instance_path.lower() ==
                   str(entity.get("DeviceID", "")).lower()), None)
    if device is None:
        ctx.output("deviceProperties", [])
        return COMPLETED
    bus, slot, function = bus_device_function(devices, device)
    values = {
        "DEVPKEY_Device_LocationInfo": f"PCI bus {bus}, device {slot}, function {function}",
        "DEVPKEY_Device_Address": (slot << 16) | function,
        "DEVPKEY_Device_LocationPaths": [device.location_path],
        "DEVPKEY_Device_InstanceId": device.instance_path,
    }
    wanted = args.get("devicePropertyKeys") or tuple(DEVPKEY)
    found = []
    for key_name in wanted:
        if key_name not in DEVPKEY:
            continue
        key, prop_type, class_name = DEVPKEY[key_name]
        found.append(ctx.new(class_name, NS_CIMV2, KeyName=key_name, Key=key, Type=prop_type,
                             DeviceID=device.instance_path, Data=values[key_name]))
    ctx.output("deviceProperties", found)
    return COMPLETED


# -- assigning devices to VMs ----------------------------------------------------------


def assigned_devices(ctx: Ctx, vm: Vm) -> list[Instance]:
    """The VM's PCI Express settings (each holds one host device)."""
    return settings_of_kind(ctx, vm, catalog.PCI_EXPRESS)


def holder_of(ctx: Ctx, device: Instance) -> Instance | None:
    """The PCI Express setting (of any VM) that holds this host device."""
    key = instance_key(device)
    for setting in ctx.query("Msvm_PciExpressSettingData",
                             hint=("prefix", "InstanceID", "Microsoft:")):
        if guid_of_setting(setting.get("InstanceID")) is None:
            continue  # the \\Default template
        if any(path_text_key(p) == key for p in setting.get("HostResource") or ()):
            return setting
    return None


class PciExpress(DeviceRules):
    addable = True
    removable = True
    mutable = frozenset({"elementname", "virtualsystemidentifiers"})

    def add(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        require_off(vm, "assigning a PCI Express device")
        device = self._host_device(ctx, vm, setting)
        holder = holder_of(ctx, device)
        if holder is not None:
            other = load_vm(ctx, guid_of_setting(holder["InstanceID"]) or "")
            owner = other.describe() if other is not None else "another virtual machine"
            raise refuse(vm, f"cannot add resource: PCI Express device "
                             f"{device['DeviceInstancePath']} is already assigned to {owner}; "
                             "a device serves one virtual machine")
        memory = settings_of_kind(ctx, vm, catalog.MEMORY)
        if memory and memory[0].get("DynamicMemoryEnabled"):
            raise refuse(vm, "cannot add resource: a virtual machine with an assigned device "
                             "cannot use dynamic memory; turn DynamicMemoryEnabled off first")
        if vm.vssd.get("AutomaticShutdownAction") != TURN_OFF:
            raise refuse(vm, "cannot add resource: a virtual machine with an assigned device "
                             "cannot be saved when the host shuts down; set its "
                             "AutomaticShutdownAction to 2 (Turn off) first")
        guid = new_guid()
        setting["InstanceID"] = f"{vm.prefix}\\{guid}"
        setting["HostResource"] = [ctx.path(device)]
        if not setting.get("VirtualSystemIdentifiers"):
            setting["VirtualSystemIdentifiers"] = [f"{{{guid.lower()}}}"]

    def _host_device(self, ctx: Ctx, vm: Vm, setting: Instance) -> Instance:
        resources = setting.get("HostResource") or ()
        if len(resources) != 1:
            raise refuse(vm, "a PCI Express port needs HostResource = [the path of one of the "
                             "host's assignable Msvm_PciExpress devices]")
        device = ctx.get(resources[0]) if path_text_key(resources[0]) else None
        if device is None or not device.is_a(DEVICE) or device.get("SystemName") != \
                ctx.hostname:
            raise refuse(vm, f"HostResource {resources[0]!r} is not an assignable PCI Express "
                             "device of this host (dismount it from the host first)")
        return device

    def added(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        device = self._host_device(ctx, vm, setting)
        logical = device.copy()
        logical["SystemName"] = vm.guid
        logical["ElementName"] = f"{device.get('ElementName')} (assigned)"
        ctx.create(logical, vm=vm.guid)
        ctx.link("Msvm_SystemDevice", vm=vm.guid, GroupComponent=vm.cs, PartComponent=logical)
        ctx.link("Msvm_LogicalIdentity", vm=vm.guid, SystemElement=device, SameElement=logical)

    def remove(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        require_off(vm, "removing an assigned PCI Express device")

    def removed(self, ctx: Ctx, vm: Vm, kind: DeviceKind, setting: Instance) -> None:
        keys = {path_text_key(p) for p in setting.get("HostResource") or ()}
        for logical in ctx.query(DEVICE, vm=vm.guid, hint=("eq", "SystemName", vm.guid)):
            host_twin = logical.copy()
            host_twin["SystemName"] = ctx.hostname
            if instance_key(host_twin) in keys:
                ctx.delete(logical)


register_rules(catalog.PCI_EXPRESS.name, PciExpress())


# -- rules on the VM's other settings ---------------------------------------------------


@guards.guard(VSMS, "ModifySystemSettings")
def _stop_action_stays_turn_off(ctx: Ctx, service: Instance | None, args: Args) -> None:
    given = decode_all(ctx, (args.get("SystemSettings"),) if args.given("SystemSettings")
                       else None, "SystemSettings")
    guid = guid_of_setting(given[0].get("InstanceID")) if given else None
    vm = load_vm(ctx, guid) if guid else None
    if vm is None or "automaticshutdownaction" not in changed_values(vm.vssd, given[0]):
        return
    action = given[0].get("AutomaticShutdownAction")
    if action != TURN_OFF and assigned_devices(ctx, vm):
        raise refuse(vm, f"AutomaticShutdownAction {action}: a virtual machine with an "
                         "assigned PCI Express device must be turned off when the host shuts "
                         "down (2); it cannot be saved")


@guards.guard("Msvm_ComputerSystem", "RequestStateChange")
def _no_save_with_devices(ctx: Ctx, system: Instance | None, args: Args) -> None:
    if system is None or args.get("RequestedState") != 6:
        return
    vm = load_vm(ctx, str(system.get("Name", "")))
    if vm is None or vm.state not in (RUNNING, PAUSED):
        return
    if assigned_devices(ctx, vm):
        raise Refused(INVALID_STATE, f"{vm.describe()} cannot be saved: it has an assigned PCI "
                                     "Express device (Discrete Device Assignment); turn it off "
                                     "or shut it down instead",
                      affected=[vm.cs], subject=f"'{vm.name}' could not be saved.")

