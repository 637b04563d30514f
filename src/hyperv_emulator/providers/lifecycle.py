"""DefineSystem, DestroySystem and ModifySystemSettings: a VM is born, changed, removed.

DefineSystem (reference notes §4.3) makes the Msvm_ComputerSystem (Off), its live
VSSD `Microsoft:<GUID>` and the default device set of its generation
(`VirtualSystemSubType`; NULL means generation 1), then adds the ResourceSettings the
client passed; it returns 0 with ResultingSystem. DestroySystem needs the VM Off or
Saved (32775 otherwise, synchronously) and runs as a job. ModifySystemSettings
matches the VSSD by InstanceID, leaves NULL properties alone, keeps only Notes[0],
and refuses what cannot change (the generation) or cannot change while the VM runs.
"""

from __future__ import annotations

import datetime as _dt
import random
from typing import Any

from hyperv_emulator.cimtypes import format_interval, now
from hyperv_emulator.instances import Instance
from hyperv_emulator.jobs import start_job
from hyperv_emulator.providers import boot, catalog
from hyperv_emulator.providers.base import (
    COMPLETED,
    INVALID_PARAMETER,
    INVALID_STATE,
    JOB_STARTED,
    NOT_SUPPORTED,
    Args,
    Ctx,
    Refused,
    method,
    new_guid,
)
from hyperv_emulator.providers.catalog import DeviceKind
from hyperv_emulator.providers.checks import check_values, refuse, require_off
from hyperv_emulator.providers.devices import (
    changed_values,
    from_template,
    link_to_vm,
    settings_of_kind,
)
from hyperv_emulator.providers.resources import VSMS, add_settings, decode_all
from hyperv_emulator.providers.seed import kind_class
from hyperv_emulator.providers.vms import (
    OFF,
    REALIZED,
    SAVED,
    STATE_NAMES,
    SUBTYPE_GEN1,
    SUBTYPE_GEN2,
    Vm,
    guid_of_setting,
    load_vm,
    vm_of_configuration,
)

VSSD = "Msvm_VirtualSystemSettingData"
DEFAULT_NAME = "New Virtual Machine"
MAX_NAME = 100
CONFIG_ROOT = "C:\\ProgramData\\Microsoft\\Windows\\Hyper-V"
# Set by Hyper-V, never by a client.
SERVER_OWNED = frozenset({"instanceid", "virtualsystemidentifier", "configurationid",
                          "virtualsystemtype", "creationtime", "issaved", "parent",
                          "highmmiogapbase", "caption", "description"})
# What cannot change after DefineSystem (UpgradeSystemVersion changes Version).
IMMUTABLE = frozenset({"virtualsystemsubtype", "version", "configurationfile"})
OFF_ONLY = frozenset({"virtualnumaenabled", "securebootenabled", "secureboottemplateid",
                      "lowmmiogapsize", "highmmiogapsize", "configurationdataroot",
                      "snapshotdataroot", "suspenddataroot", "swapfiledataroot", "logdataroot",
                      "allowfullscsicommandset", "biosguid", "biosserialnumber",
                      "baseboardserialnumber", "chassisserialnumber", "chassisassettag",
                      "biosnumlock", "guestcontrolledcachetypes", "networkbootpreferredprotocol",
                      "pauseafterbootfailure", "enhancedsessiontransporttype",
                      "numanodetopologyarray"})


def _serial_number() -> str:
    return "-".join(f"{random.randrange(10000):04d}" for _ in range(7))


def _vssd_defaults(ctx: Ctx, guid: str, generation: int) -> dict[str, Any]:
    values: dict[str, Any] = {
        "InstanceID": f"Microsoft:{guid}",
        "VirtualSystemIdentifier": guid,
        "ConfigurationID": guid,
        "VirtualSystemType": REALIZED,
        "VirtualSystemSubType": SUBTYPE_GEN2 if generation == 2 else SUBTYPE_GEN1,
        "Caption": "Virtual Machine Settings",
        "Description": "Active settings for the virtual machine",
        "ElementName": DEFAULT_NAME,
        "CreationTime": now(),
        "Version": ctx.profile.default_vm_version,
        "Notes": [""],
        "ConfigurationDataRoot": CONFIG_ROOT,
        "SnapshotDataRoot": CONFIG_ROOT,
        "SuspendDataRoot": CONFIG_ROOT,
        "SwapFileDataRoot": CONFIG_ROOT,
        "LogDataRoot": CONFIG_ROOT,
        "AutomaticStartupAction": 3,
        "AutomaticStartupActionDelay": format_interval(_dt.timedelta(0)),
        "AutomaticStartupActionSequenceNumber": 0,
        "AutomaticShutdownAction": 3,
        "AutomaticRecoveryAction": 3,
        "AutomaticCriticalErrorAction": 1,
        "AutomaticCriticalErrorActionTimeout": format_interval(_dt.timedelta(minutes=30)),
        "UserSnapshotType": 3,
        "VirtualNumaEnabled": True,
        "BIOSNumLock": False,
        "BIOSGUID": f"{{{new_guid()}}}",
        "BIOSSerialNumber": _serial_number(),
        "BaseBoardSerialNumber": _serial_number(),
        "ChassisSerialNumber": _serial_number(),
        "ChassisAssetTag": _serial_number(),
        "IsSaved": False,
        "AllowFullSCSICommandSet": False,
        "IncrementalBackupEnabled": False,
        "ConsoleMode": 0,
        "EnhancedSessionTransportType": 0,
        "GuestControlledCacheTypes": False,
        "DebugPortEnabled": 0,
    }
    if generation == 1:
        # The docs say [0, 1, 2, 3]; a real WS2025 generation 1 VM reads [1, 2, 3, 0].
        values["BootOrder"] = [1, 2, 3, 0]
        values["SecureBootEnabled"] = False
    else:
        values.update(
            SecureBootEnabled=True,
            SecureBootTemplateId=catalog.DEFAULT_SECURE_BOOT_TEMPLATE,
            BootSourceOrder=[],
            LowMmioGapSize=128,
            HighMmioGapSize=512,
            HighMmioGapBase=65024,
            NetworkBootPreferredProtocol=4096,
            PauseAfterBootFailure=False,
        )
    return values


def _unique_name(ctx: Ctx, name: str, guid: str | None, vm: Vm | None = None) -> None:
    if not ctx.settings.unique_vm_names:
        return
    for vssd in ctx.query(VSSD, hint=("eq", "ElementName", name)):
        other = guid_of_setting(vssd.get("InstanceID"))
        if vssd.get("VirtualSystemType") == REALIZED and other and other != guid:
            raise refuse(vm, f"a virtual machine named {name!r} already exists on this host "
                             f"(ID {other}); names are unique on the emulated host")


def _check_name(ctx: Ctx, vssd: Instance, guid: str | None, vm: Vm | None = None) -> None:
    name = vssd.get("ElementName", "")
    if not str(name).strip():
        raise refuse(vm, "ElementName (the virtual machine name) cannot be empty")
    if len(name) > MAX_NAME:
        raise refuse(vm, f"ElementName is {len(name)} characters long; a virtual machine name "
                         f"has at most {MAX_NAME}")
    _unique_name(ctx, name, guid, vm)


def _check_firmware(ctx: Ctx, vssd: Instance, generation: int, vm: Vm | None) -> None:
    if generation == 1 and vssd.get("SecureBootEnabled"):
        raise refuse(vm, "Secure Boot needs a generation 2 virtual machine (UEFI firmware)")
    template = vssd.raw.get("secureboottemplateid")  # not a property before 10240
    if template is not None:
        known = {guid.upper(): name for name, (guid, _) in catalog.SECURE_BOOT_TEMPLATES.items()}
        if str(template).strip("{}").upper() not in known:
            raise refuse(vm, f"SecureBootTemplateId {template!r} is not a Secure Boot template "
                             f"of this host ({', '.join(f'{v} {k}' for k, v in known.items())})")
        vssd["SecureBootTemplateId"] = str(template).strip("{}").upper()
    notes = vssd.get("Notes")
    if notes is not None:
        vssd["Notes"] = list(notes[:1]) if notes else [""]


def _create_default(ctx: Ctx, vm: Vm, kind: DeviceKind, tail: str, **values: Any) -> Instance:
    class_name = kind_class(ctx, kind)
    assert class_name is not None, kind.name
    given = ctx.new(class_name, **values)
    setting = from_template(ctx, kind, class_name, given)
    setting["InstanceID"] = f"{vm.prefix}\\{tail}"
    ctx.create(setting, vm=vm.guid)
    link_to_vm(ctx, vm, setting)
    return setting


def _default_devices(ctx: Ctx, vm: Vm) -> None:
    c = catalog
    _create_default(ctx, vm, c.PROCESSOR, f"{c.PROCESSOR_DEVICE_GUID}\\0")
    _create_default(ctx, vm, c.MEMORY, c.MEMORY_DEVICE_GUID)
    if vm.generation == 1:
        for channel in (0, 1):
            _create_default(ctx, vm, c.IDE_CONTROLLER, f"{c.IDE_GUID}\\{channel}",
                            Address=str(channel), ElementName=f"IDE Controller {channel}")
        diskette = _create_default(ctx, vm, c.DISKETTE_CONTROLLER, f"{c.DISKETTE_GUID}\\0")
        _create_default(ctx, vm, c.DISKETTE_DRIVE, f"{c.DISKETTE_GUID}\\0\\0\\D",
                        Parent=ctx.path(diskette), AddressOnParent="0")
    serial = _create_default(ctx, vm, c.SERIAL_CONTROLLER, c.SERIAL_CONTROLLER_GUID)
    for port in (0, 1):
        _create_default(ctx, vm, c.SERIAL_PORT, f"{c.SERIAL_CONTROLLER_GUID}\\{port}",
                        ElementName=f"COM {port + 1}", Parent=ctx.path(serial),
                        AddressOnParent=str(port))
    _create_default(ctx, vm, c.KEYBOARD, f"{c.KEYBOARD_GUID}\\Keyboard")
    if vm.generation == 1:
        _create_default(ctx, vm, c.PS2_MOUSE, f"{c.PS2_MOUSE_GUID}\\Mouse")
    else:
        _create_default(ctx, vm, c.SYNTHETIC_KEYBOARD, str(c.SYNTHETIC_KEYBOARD.template_id))
    _create_default(ctx, vm, c.SYNTHETIC_MOUSE, c.SYNTHETIC_MOUSE_GUID)
    if vm.generation == 1:
        _create_default(ctx, vm, c.S3_DISPLAY, c.S3_GUID)
    _create_default(ctx, vm, c.SYNTHETIC_DISPLAY, c.SYNTHETIC_DISPLAY_GUID)
    for component in c.INTEGRATION_COMPONENTS:
        if kind_class(ctx, component) is not None:
            _create_default(ctx, vm, component, str(component.template_id))
    if ctx.has_class("Msvm_SecuritySettingData"):
        ctx.create(ctx.new(
            "Msvm_SecuritySettingData", InstanceID=f"{vm.prefix}\\{new_guid()}",
            ElementName="Security Settings", Caption="Security Settings", TpmEnabled=False,
            KsdEnabled=False, ShieldingRequested=False, DataProtectionRequested=False,
            EncryptStateAndVmMigrationTraffic=False, VirtualizationBasedSecurityOptOut=False,
            BindToHostTpm=False, AppContainerLaunchOptOut=False,
        ), vm=vm.guid)


@method(VSMS, "DefineSystem")
def define_system(ctx: Ctx, service: Instance | None, args: Args) -> int:
    if args.given("ReferenceConfiguration"):
        raise Refused(NOT_SUPPORTED, "ReferenceConfiguration is not supported by the emulated "
                                     "host; pass the settings themselves", job=False)
    given = decode_all(ctx, (args.get("SystemSettings"),) if args.given("SystemSettings")
                       else None, "SystemSettings")
    if not given:
        raise Refused(INVALID_PARAMETER, "SystemSettings is required")
    requested = given[0]
    if not requested.is_a(VSSD):
        raise refuse(None, f"SystemSettings is a {requested.class_name}, not a {VSSD}")
    subtype = requested.get("VirtualSystemSubType") or SUBTYPE_GEN1
    if subtype not in (SUBTYPE_GEN1, SUBTYPE_GEN2):
        raise refuse(None, f"VirtualSystemSubType {subtype!r} is not {SUBTYPE_GEN1} or "
                           f"{SUBTYPE_GEN2}")
    generation = 2 if subtype == SUBTYPE_GEN2 else 1
    version = requested.get("Version") or ctx.profile.default_vm_version
    if version not in ctx.profile.supported_vm_versions:
        raise refuse(None, f"Version {version!r} is not a configuration version this host "
                           f"supports ({', '.join(ctx.profile.supported_vm_versions)})")
    guid = new_guid()
    vssd = ctx.new(VSSD, **_vssd_defaults(ctx, guid, generation))
    for lowered, value in requested.raw.items():
        if value is not None and lowered not in SERVER_OWNED:
            vssd.raw[lowered] = value
    vssd["Version"] = version
    vssd["VirtualSystemSubType"] = subtype
    _check_name(ctx, vssd, None)
    _check_firmware(ctx, vssd, generation, None)
    if generation == 1 and vssd.get("BootOrder") is not None:
        vm_stub = Vm(ctx.new("Msvm_ComputerSystem", Name=guid), vssd)
        boot.check_bios_order(vm_stub, tuple(vssd["BootOrder"]))
    check_values(vssd)
    stamp = now()
    cs = ctx.new(
        "Msvm_ComputerSystem", CreationClassName="Msvm_ComputerSystem", Name=guid,
        ElementName=vssd["ElementName"], Caption="Virtual Machine",
        Description="Microsoft Virtual Machine", EnabledState=OFF, RequestedState=12,
        EnabledDefault=2, HealthState=5, OperationalStatus=[2],
        StatusDescriptions=["Operating normally"], OnTimeInMilliseconds=0,
        NumberOfNumaNodes=1, EnhancedSessionModeState=3, TimeOfLastStateChange=stamp,
        TimeOfLastConfigurationChange=stamp, InstallDate=stamp, ReplicationState=0,
        ReplicationHealth=0, ReplicationMode=0, ResetCapability=1,
        AvailableRequestedStates=[2, 3, 6, 9, 10, 11],
    )
    ctx.create(cs, vm=guid)
    ctx.create(vssd, vm=guid)
    vm = Vm(cs, vssd)
    ctx.link("Msvm_SettingsDefineState", vm=guid, ManagedElement=cs, SettingData=vssd)
    _default_devices(ctx, vm)
    extra = decode_all(ctx, args.get("ResourceSettings"), "ResourceSettings", vm)
    if extra:
        add_settings(ctx, vm, extra)
    ctx.output("ResultingSystem", ctx.path(cs))
    return COMPLETED


@method(VSMS, "DestroySystem")
def destroy_system(ctx: Ctx, service: Instance | None, args: Args) -> int:
    vm = vm_of_configuration(ctx, args.get("AffectedSystem"), "AffectedSystem")
    if vm.state not in (OFF, SAVED):
        raise Refused(
            INVALID_STATE,
            f"{vm.describe()} is {STATE_NAMES.get(vm.state, vm.state)}; turn it off (or save "
            "it) before deleting it", job=False,
        )
    ctx.txn.delete_vm(vm.guid)
    start_job(ctx, 3, [])
    return JOB_STARTED


@method(VSMS, "ModifySystemSettings")
def modify_system_settings(ctx: Ctx, service: Instance | None, args: Args) -> int:
    given = decode_all(ctx, (args.get("SystemSettings"),) if args.given("SystemSettings")
                       else None, "SystemSettings")
    if not given or not given[0].is_a(VSSD):
        raise Refused(INVALID_PARAMETER,
                      "SystemSettings must be an embedded Msvm_VirtualSystemSettingData")
    requested = given[0]
    guid = guid_of_setting(requested.get("InstanceID"))
    vm = load_vm(ctx, guid) if guid else None
    if vm is None or str(requested.get("InstanceID")).upper() != f"MICROSOFT:{guid}":
        raise refuse(None, f"InstanceID {requested.get('InstanceID')!r} is not the settings of "
                           "a virtual machine of this host (ModifySystemSettings matches by "
                           "InstanceID)")
    changed = changed_values(vm.vssd, requested)
    for name in sorted(changed & (SERVER_OWNED | IMMUTABLE)):
        prop = vm.vssd.cls.props[name]
        raise refuse(vm, f"{prop.name} cannot be changed (from {vm.vssd[name]!r} to "
                         f"{requested[name]!r})")
    for name in sorted(changed & OFF_ONLY):
        require_off(vm, f"changing {vm.vssd.cls.props[name].name}")
    updated = vm.vssd.copy()
    for name in changed:
        updated.raw[name] = requested.raw[name]
    if "elementname" in changed:
        _check_name(ctx, updated, vm.guid, vm)
    _check_firmware(ctx, updated, vm.generation, vm)
    if "bootorder" in changed:
        boot.check_bios_order(vm, tuple(updated.get("BootOrder", ())))
    if "bootsourceorder" in changed:
        if vm.generation != 2:
            raise refuse(vm, "BootSourceOrder is a generation 2 setting; use BootOrder")
        updated["BootSourceOrder"] = boot.normalized_order(
            ctx, vm, tuple(updated.get("BootSourceOrder", ())))
    if "virtualnumaenabled" in changed and updated.get("VirtualNumaEnabled"):
        memory = settings_of_kind(ctx, vm, catalog.MEMORY)
        if memory and memory[0].get("DynamicMemoryEnabled"):
            raise refuse(vm, "virtual NUMA cannot be enabled while dynamic memory is enabled")
    check_values(updated, changed, affected=[vm.cs])
    ctx.save(updated)
    if "elementname" in changed:
        vm.cs["ElementName"] = updated["ElementName"]
    vm.cs["TimeOfLastConfigurationChange"] = now()
    ctx.save(vm.cs)
    if changed & {"lowmmiogapsize", "highmmiogapsize"}:
        # A real host ran MMIO changes as a job (reference notes §4.4).
        start_job(ctx, 2, [vm.cs])
        return JOB_STARTED
    return COMPLETED
