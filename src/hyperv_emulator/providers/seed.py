"""What a freshly installed Hyper-V host shows before any VM exists.

The host system and its services, the management service's settings and
capabilities, the Secure Boot template VSSDs, a `\\Default` template (plus pool and
allocation capabilities) for every device kind the build has, the port-feature
templates, the NUMA topology (Msvm_NumaNode / Msvm_Memory / Msvm_Processor linked by
Msvm_HostedDependency), the virtual switches of the profile, and the root/cimv2
objects Windows itself serves (Win32_OperatingSystem and friends); then whatever the
`SEED_HOOKS` add (services, GPUs, PCI devices, host disks and initiator ports, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hyperv_emulator.cimtypes import now
from hyperv_emulator.instances import Instance
from hyperv_emulator.providers import catalog
from hyperv_emulator.providers.base import Ctx
from hyperv_emulator.providers.catalog import DeviceKind, our_guid
from hyperv_emulator.schema.model import NS_CIMV2

CS = "Msvm_ComputerSystem"
VSMS = "Msvm_VirtualSystemManagementService"
# DeviceID prefixes of host objects (reference notes §2.19 and our choices, see docs).
HOST_MEMORY_ID = f"Microsoft:{catalog.MEMORY_POOL}"
HOST_PROCESSOR_ID = f"Microsoft:{catalog.PROCESSOR_POOL}"


def host_cs_path(ctx: Ctx) -> str:
    return (f"\\\\{ctx.hostname}\\root\\virtualization\\v2:{CS}."
            f'CreationClassName="{CS}",Name="{ctx.hostname}"')


# What other provider modules add to a fresh host (the security service, GPUs, PCI
# devices, ...), run in registration order after the rest.
SEED_HOOKS: list[Callable[[Ctx], None]] = []


def seed_host(ctx: Ctx) -> None:
    host = _host_system(ctx)
    _management_service(ctx, host)
    for kind in catalog.KINDS.values():
        _device_templates(ctx, host, kind)
    _feature_templates(ctx)
    _numa(ctx, host)
    _switches(ctx)
    _cimv2(ctx)
    for hook in SEED_HOOKS:
        hook(ctx)


def _host_system(ctx: Ctx) -> Instance:
    profile = ctx.profile
    return ctx.create(ctx.new(
        CS, CreationClassName=CS, Name=ctx.hostname, ElementName=ctx.hostname,
        Caption="Hosting Computer System", Description="Microsoft Hosting Computer System",
        EnabledState=2, RequestedState=12, EnabledDefault=2, HealthState=5,
        OperationalStatus=[2], StatusDescriptions=["OK"], Dedicated=[0],
        NumberOfNumaNodes=len(profile.numa_nodes), PrimaryOwnerName="Administrators",
        ResetCapability=1, TimeOfLastStateChange=now(),
    ))


def _management_service(ctx: Ctx, host: Instance) -> None:
    service = ctx.create(ctx.new(
        VSMS, CreationClassName=VSMS, Name="vmms", SystemCreationClassName=CS,
        SystemName=ctx.hostname, ElementName="Virtual Machine Management Service",
        Caption="Virtual Machine Management Service",
        Description="Service for managing virtual machines", EnabledState=2,
        EnabledDefault=2, RequestedState=12, HealthState=5, OperationalStatus=[2],
        StatusDescriptions=["OK"], Started=True, StartMode="Automatic",
    ))
    if ctx.has_class("Msvm_HostedService"):
        ctx.link("Msvm_HostedService", Antecedent=host, Dependent=service)
    settings = ctx.create(ctx.new(
        "Msvm_VirtualSystemManagementServiceSettingData",
        InstanceID=f"Microsoft:{ctx.hostname}", ElementName="Hyper-V",
        Caption="Hyper-V Settings", NumaSpanningEnabled=True,
        DefaultVirtualHardDiskPath="C:\\ProgramData\\Microsoft\\Windows\\Virtual Hard Disks",
        DefaultExternalDataRoot="C:\\ProgramData\\Microsoft\\Windows\\Hyper-V",
        MinimumMacAddress="00155D380000", MaximumMacAddress="00155D38FFFF",
        PrimaryOwnerName="Administrators", EnhancedSessionModeEnabled=False,
        DefaultVirtualHardDiskCachingMode=2,
    ))
    if ctx.has_class("Msvm_ElementSettingData"):
        ctx.link("Msvm_ElementSettingData", ManagedElement=service, SettingData=settings,
                 IsDefault=1, IsCurrent=1, IsNext=1)
    capabilities = ctx.create(ctx.new(
        "Msvm_VirtualSystemManagementCapabilities",
        InstanceID="Microsoft:VirtualSystemManagementCapabilities",
        ElementName="Virtual System Management Capabilities", ElementNameEditSupported=True,
        MaxElementNameLen=100,
        VirtualSystemTypesSupported=["Microsoft:Hyper-V:System:Realized",
                                     "Microsoft:Hyper-V:System:Planned"],
        RequestedStatesSupported=[2, 3, 6, 9, 10, 11],
    ))
    ctx.link("Msvm_ElementCapabilities", ManagedElement=service, Capabilities=capabilities)
    default = ctx.create(ctx.new(
        "Msvm_VirtualSystemSettingData",
        InstanceID="Microsoft:Definition\\VirtualSystem\\Default",
        ElementName="New Virtual Machine", Caption="Virtual Machine Settings",
        Description="Default settings for a new virtual machine",
        Version=ctx.profile.default_vm_version, VirtualSystemSubType="Microsoft:Hyper-V:SubType:1",
        AutomaticStartupAction=3, AutomaticShutdownAction=3, AutomaticRecoveryAction=3,
        VirtualNumaEnabled=True,
    ))
    ctx.link("Msvm_SettingsDefineCapabilities", GroupComponent=capabilities, PartComponent=default,
             ValueRole=0, ValueRange=0, PropertyPolicy=0)
    if ctx.cls("Msvm_VirtualSystemSettingData").prop("SecureBootTemplateId") is None:
        return
    for name, (guid, friendly) in catalog.SECURE_BOOT_TEMPLATES.items():
        template = ctx.create(ctx.new(
            "Msvm_VirtualSystemSettingData",
            InstanceID=f"Microsoft:Definition\\VirtualSystem\\SecureBootTemplateId\\{guid}",
            ElementName=name, Description=friendly, Caption="Secure Boot Template",
            SecureBootTemplateId=guid, SecureBootEnabled=True,
            VirtualSystemSubType="Microsoft:Hyper-V:SubType:2",
        ))
        ctx.link("Msvm_SettingsDefineCapabilities", GroupComponent=capabilities,
                 PartComponent=template, ValueRole=3, ValueRange=0, PropertyPolicy=0)


def kind_class(ctx: Ctx, kind: DeviceKind) -> str | None:
    if not kind.exists_on(ctx.build):
        return None
    name = kind.class_for(ctx.build)
    return name if ctx.has_class(name) else None


def template_values(ctx: Ctx, kind: DeviceKind, class_name: str) -> dict[str, Any]:
    """What a kind's `\\Default` template holds (and what Add fills in when unset).

    Values the build's class lacks are left out: a generation 1 serial port on 9600 is
    a plain RASD without DebuggerMode.
    """
    values: dict[str, Any] = {**kind.identity(), "PoolID": "", "Caption": kind.caption,
                              "Description": kind.description,
                              "ElementName": kind.element_name, **kind.template}
    nodes = ctx.profile.numa_nodes
    if kind is catalog.PROCESSOR:
        values["MaxProcessorsPerNumaNode"] = max(n.logical_processors for n in nodes)
    if kind is catalog.MEMORY:
        values["MaxMemoryBlocksPerNumaNode"] = max(n.memory_mb for n in nodes)
    cls = ctx.cls(class_name)
    return {k: v for k, v in values.items() if cls.prop(k) is not None}


def _device_templates(ctx: Ctx, host: Instance, kind: DeviceKind) -> None:
    class_name = kind_class(ctx, kind)
    if class_name is None or kind.template_id is None:
        return
    values = template_values(ctx, kind, class_name)
    prefix = f"Microsoft:Definition\\{kind.template_id}"
    default = ctx.create(ctx.new(class_name, InstanceID=f"{prefix}\\Default", **values))
    ranges: list[tuple[Instance, int, int]] = [(default, 0, 0)]
    if kind in (catalog.PROCESSOR, catalog.MEMORY):
        lowest, highest, step = _limits(ctx, kind)
        for suffix, quantity, value_range in (("Minimum", lowest, 1), ("Maximum", highest, 2),
                                              ("Increment", step, 3)):
            extreme = ctx.create(ctx.new(class_name, InstanceID=f"{prefix}\\{suffix}",
                                         **{**values, "VirtualQuantity": quantity}))
            ranges.append((extreme, 3, value_range))
    if not kind.pool:
        return
    pool_class = "Msvm_ProcessorPool" if kind is catalog.PROCESSOR else kind.pool_class
    pool = ctx.create(ctx.new(
        pool_class, InstanceID=f"Microsoft:{kind.template_id}", PoolID="", Primordial=True,
        ElementName=kind.type_label, Caption=kind.caption, HealthState=5,
        OperationalStatus=[2], **kind.identity(), **_pool_amounts(ctx, kind),
    ))
    if ctx.has_class("Msvm_HostedResourcePool"):
        ctx.link("Msvm_HostedResourcePool", GroupComponent=host, PartComponent=pool)
    capabilities = ctx.create(ctx.new(
        "Msvm_AllocationCapabilities", InstanceID=f"Microsoft:{kind.template_id}",
        ElementName=kind.type_label, RequestTypesSupported=3, SharingMode=3,
        SupportedAddStates=[2, 3], SupportedRemoveStates=[2, 3], **kind.identity(),
    ))
    ctx.link("Msvm_ElementCapabilities", ManagedElement=pool, Capabilities=capabilities)
    for setting, role, value_range in ranges:
        ctx.link("Msvm_SettingsDefineCapabilities", GroupComponent=capabilities,
                 PartComponent=setting, ValueRole=role, ValueRange=value_range, PropertyPolicy=0)


def _limits(ctx: Ctx, kind: DeviceKind) -> tuple[int, int, int]:
    if kind is catalog.PROCESSOR:
        # A VM gets at most as many virtual processors as the host has logical ones.
        return 1, ctx.profile.logical_processors, 1
    return 32, ctx.profile.memory_mb, 2


def _pool_amounts(ctx: Ctx, kind: DeviceKind) -> dict[str, Any]:
    if kind is catalog.PROCESSOR:
        total = ctx.profile.logical_processors * 100000
        return {"Capacity": total, "MaxConsumableResource": total, "Reserved": 0,
                "CurrentlyConsumedResource": 0, "AllocationUnits": "percent / 1000"}
    if kind is catalog.MEMORY:
        total = ctx.profile.memory_mb
        return {"Capacity": total, "MaxConsumableResource": total, "Reserved": 0,
                "CurrentlyConsumedResource": 0, "AllocationUnits": "byte * 2^20"}
    return {}


def _feature_templates(ctx: Ctx) -> None:
    for class_name, feature_id in catalog.FEATURES.items():
        if not ctx.has_class(class_name):
            continue
        template = ctx.create(ctx.new(
            class_name, InstanceID=f"Microsoft:Definition\\{feature_id}\\Default",
            ElementName=class_name.removeprefix("Msvm_EthernetSwitchPort").removesuffix(
                "SettingData") + " Settings",
        ))
        if ctx.has_class("Msvm_EthernetSwitchFeatureCapabilities"):
            capabilities = ctx.create(ctx.new(
                "Msvm_EthernetSwitchFeatureCapabilities", InstanceID=f"Microsoft:{feature_id}",
                FeatureId=feature_id, ElementName=template["ElementName"], Applicability=1,
            ))
            ctx.link("Msvm_FeatureSettingsDefineCapabilities", GroupComponent=capabilities,
                     PartComponent=template, ValueRole=0, ValueRange=0, PropertyPolicy=0)


def _numa(ctx: Ctx, host: Instance) -> None:
    profile = ctx.profile
    processor_index = 0
    for number, node in enumerate(profile.numa_nodes):
        numa = ctx.create(ctx.new(
            "Msvm_NumaNode", CreationClassName="Msvm_NumaNode",
            NodeID=f"Microsoft:PhysicalNode\\{number}",
            SystemCreationClassName=CS, SystemName=ctx.hostname, ElementName=f"Numa Node {number}",
            NumberOfLogicalProcessors=node.logical_processors,
            NumberOfProcessorCores=min(profile.cores_per_node, node.logical_processors),
            CurrentlyConsumableMemoryBlocks=node.memory_mb, CurrentlyAssignedVirtualProcessors=0,
            EnabledState=2, HealthState=5, OperationalStatus=[2],
        ))
        memory = ctx.create(ctx.new(
            "Msvm_Memory", CreationClassName="Msvm_Memory", DeviceID=f"{HOST_MEMORY_ID}\\{number}",
            SystemCreationClassName=CS, SystemName=ctx.hostname, ElementName="Memory",
            BlockSize=1048576, NumberOfBlocks=node.memory_mb, ConsumableBlocks=node.memory_mb,
            Primordial=True, EnabledState=2, HealthState=5, OperationalStatus=[2],
        ))
        ctx.link("Msvm_HostedDependency", Antecedent=numa, Dependent=memory)
        ctx.link("Msvm_SystemDevice", GroupComponent=host, PartComponent=memory)
        for _ in range(node.logical_processors):
            processor = ctx.create(ctx.new(
                "Msvm_Processor", CreationClassName="Msvm_Processor",
                DeviceID=f"{HOST_PROCESSOR_ID}\\0\\{processor_index}",
                SystemCreationClassName=CS, SystemName=ctx.hostname,
                ElementName=f"Logical Processor {processor_index}", Name=profile.processor_name,
                MaxClockSpeed=profile.processor_clock_mhz,
                CurrentClockSpeed=profile.processor_clock_mhz, LoadPercentage=0,
                EnabledState=2, HealthState=5, OperationalStatus=[2],
            ))
            processor_index += 1
            ctx.link("Msvm_HostedDependency", Antecedent=numa, Dependent=processor)
            ctx.link("Msvm_SystemDevice", GroupComponent=host, PartComponent=processor)


def switch_guid(name: str) -> str:
    return our_guid(f"vswitch {name}")


def _switches(ctx: Ctx) -> None:
    for index, switch in enumerate(ctx.profile.vswitches):
        guid = switch_guid(switch.name)
        vswitch = ctx.create(ctx.new(
            "Msvm_VirtualEthernetSwitch", CreationClassName="Msvm_VirtualEthernetSwitch",
            Name=guid, ElementName=switch.name, Caption="Virtual Switch",
            Description="Microsoft Virtual Switch", EnabledState=5, RequestedState=12,
            HealthState=5, OperationalStatus=[2], Dedicated=[38], ResetCapability=5,
            OtherIdentifyingInfo=[f"{{{guid.lower()}}}"], MaxVMQOffloads=0, MaxIOVOffloads=0,
        ))
        if ctx.has_class("Msvm_VirtualEthernetSwitchSettingData"):
            ctx.create(ctx.new(
                "Msvm_VirtualEthernetSwitchSettingData", InstanceID=f"Microsoft:{guid}",
                ElementName=switch.name, VirtualSystemIdentifier=guid,
                VirtualSystemType="DMTF:Ethernet", IOVPreferred=False,
                Notes=[f"{switch.switch_type} switch"],
            ))
        if switch.switch_type == "external":
            _external_port(ctx, vswitch, switch.name, index)


def _external_port(ctx: Ctx, vswitch: Instance, name: str, index: int) -> None:
    """The physical adapter an external switch is bound to, as clients find it.

    The chain os-win (`get_external_vswitch`, `_get_vswitch_external_port`) and our
    driver follow: Msvm_ExternalEthernetPort (IsBound) -> Msvm_EthernetDeviceSAP-
    Implementation -> its Msvm_LANEndpoint -> Msvm_ActiveConnection -> the switch
    port's Msvm_LANEndpoint (SystemName = the switch's Name) -> Msvm_EthernetDevice-
    SAPImplementation -> the switch's Msvm_EthernetSwitchPort (Msvm_SystemDevice of
    the switch). Internal switches' host adapters are not emulated.
    """
    adapter = our_guid(f"external adapter {name}")
    port_guid = our_guid(f"external switch port {name}")
    mac = f"00155D{0xA00000 + index:06X}"
    external = ctx.create(ctx.new(
        "Msvm_ExternalEthernetPort", CreationClassName="Msvm_ExternalEthernetPort",
        DeviceID=f"Microsoft:{adapter}", SystemCreationClassName=CS,
        SystemName=ctx.hostname, Name=f"Emulated Ethernet Adapter #{index + 1}",
        ElementName=f"Emulated Ethernet Adapter #{index + 1}", Caption="Ethernet Port",
        Description="Microsoft External Ethernet Port", IsBound=True,
        PermanentAddress=mac, EnabledState=2, RequestedState=12, HealthState=5,
        OperationalStatus=[2],
    ))
    external_endpoint = ctx.create(ctx.new(
        "Msvm_LANEndpoint", CreationClassName="Msvm_LANEndpoint",
        Name=f"Microsoft:{adapter}", SystemCreationClassName=CS, SystemName=ctx.hostname,
        ElementName=external["ElementName"], MACAddress=mac, EnabledState=2,
    ))
    switch_port = ctx.create(ctx.new(
        "Msvm_EthernetSwitchPort", CreationClassName="Msvm_EthernetSwitchPort",
        DeviceID=f"Microsoft:{port_guid}", Name=port_guid,
        SystemCreationClassName="Msvm_VirtualEthernetSwitch", SystemName=vswitch["Name"],
        ElementName=external["ElementName"], EnabledState=2, HealthState=5,
        OperationalStatus=[2],
    ))
    switch_endpoint = ctx.create(ctx.new(
        "Msvm_LANEndpoint", CreationClassName="Msvm_LANEndpoint",
        Name=f"Microsoft:{port_guid}", SystemCreationClassName="Msvm_VirtualEthernetSwitch",
        SystemName=vswitch["Name"], ElementName=external["ElementName"], EnabledState=2,
    ))
    ctx.link("Msvm_SystemDevice", GroupComponent=vswitch, PartComponent=switch_port)
    ctx.link("Msvm_EthernetDeviceSAPImplementation", Antecedent=external,
             Dependent=external_endpoint)
    ctx.link("Msvm_EthernetDeviceSAPImplementation", Antecedent=switch_port,
             Dependent=switch_endpoint)
    ctx.link("Msvm_ActiveConnection", Antecedent=switch_endpoint, Dependent=external_endpoint)


def _cimv2(ctx: Ctx) -> None:
    profile = ctx.profile
    build = profile.version_tuple[2]
    total_kb = profile.memory_mb * 1024
    if ctx.has_class("Win32_OperatingSystem", NS_CIMV2):
        ctx.create(ctx.new(
            "Win32_OperatingSystem", NS_CIMV2,
            Name=f"{profile.caption}|C:\\Windows|\\Device\\Harddisk0\\Partition2",
            Caption=profile.caption, Version=profile.windows_version, BuildNumber=str(build),
            CSName=ctx.hostname, CSCreationClassName="Win32_ComputerSystem",
            CreationClassName="Win32_OperatingSystem", OSType=18, ProductType=3,
            OSArchitecture="64-bit", Manufacturer="Microsoft Corporation",
            TotalVisibleMemorySize=total_kb, FreePhysicalMemory=total_kb,
            TotalVirtualMemorySize=total_kb, FreeVirtualMemory=total_kb,
            SystemDirectory="C:\\Windows\\system32", WindowsDirectory="C:\\Windows",
            SystemDrive="C:", Status="OK", LastBootUpTime=now(), Primary=True,
        ))
    if ctx.has_class("Win32_ComputerSystem", NS_CIMV2):
        ctx.create(ctx.new(
            "Win32_ComputerSystem", NS_CIMV2, Name=ctx.hostname, DNSHostName=ctx.hostname.lower(),
            Domain="WORKGROUP", Workgroup="WORKGROUP", PartOfDomain=False,
            Manufacturer="Emulated", Model="Hyper-V host", HypervisorPresent=True,
            NumberOfProcessors=len(profile.numa_nodes),
            NumberOfLogicalProcessors=profile.logical_processors,
            TotalPhysicalMemory=profile.memory_mb * 1024 * 1024, SystemType="x64-based PC",
            CreationClassName="Win32_ComputerSystem", Status="OK",
        ))
    if ctx.has_class("Win32_Processor", NS_CIMV2):
        for socket, node in enumerate(profile.numa_nodes):
            ctx.create(ctx.new(
                "Win32_Processor", NS_CIMV2, DeviceID=f"CPU{socket}", Name=profile.processor_name,
                Manufacturer="GenuineIntel", Architecture=9, ProcessorType=3,
                MaxClockSpeed=profile.processor_clock_mhz,
                CurrentClockSpeed=profile.processor_clock_mhz,
                NumberOfCores=min(profile.cores_per_node, node.logical_processors),
                NumberOfEnabledCore=min(profile.cores_per_node, node.logical_processors),
                NumberOfLogicalProcessors=node.logical_processors,
                ThreadCount=node.logical_processors, SocketDesignation=f"CPU{socket}",
                AddressWidth=64, DataWidth=64, Status="OK", LoadPercentage=0,
                VirtualizationFirmwareEnabled=True, VMMonitorModeExtensions=True,
                SecondLevelAddressTranslationExtensions=True,
                CreationClassName="Win32_Processor",
                SystemCreationClassName="Win32_ComputerSystem", SystemName=ctx.hostname,
            ))
    if ctx.has_class("Win32_ServerFeature", NS_CIMV2):
        from hyperv_emulator.profiles import SERVER_FEATURE_NAMES

        for feature_id in profile.server_feature_ids:
            ctx.create(ctx.new("Win32_ServerFeature", NS_CIMV2, ID=feature_id, ParentID=0,
                               Name=SERVER_FEATURE_NAMES.get(feature_id, str(feature_id))))
    if ctx.has_class("Win32_LogicalDisk", NS_CIMV2):
        size = profile.local_disk_gb * 1024 ** 3
        ctx.create(ctx.new(
            "Win32_LogicalDisk", NS_CIMV2, DeviceID="C:", Name="C:", DriveType=3,
            FileSystem="NTFS", Size=size, FreeSpace=size, VolumeName="",
            CreationClassName="Win32_LogicalDisk", SystemCreationClassName="Win32_ComputerSystem",
            SystemName=ctx.hostname,
        ))
