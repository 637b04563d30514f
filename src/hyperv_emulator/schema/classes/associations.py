"""Hyper-V's association classes: how systems, devices and settings link up."""

from hyperv_emulator.schema.model import (
    REF,
    ClassDef,
    P,
)

CLASSES = [
    ClassDef(
        "Msvm_AffectedJobElement",
        "CIM_AffectedJobElement",
        association=True,
    ),
    ClassDef(
        "Msvm_OwningJobElement",
        "CIM_OwningJobElement",
        association=True,
    ),
    ClassDef(
        "Msvm_SettingsDefineState",
        "CIM_SettingsDefineState",
        association=True,
    ),
    ClassDef(
        "Msvm_VirtualSystemSettingDataComponent",
        "CIM_VirtualSystemSettingDataComponent",
        association=True,
    ),
    ClassDef(
        "Msvm_LogicalIdentity",
        "CIM_LogicalIdentity",
        association=True,
    ),
    ClassDef(
        "Msvm_SystemDevice",
        "CIM_SystemDevice",
        association=True,
    ),
    ClassDef(
        "Msvm_ElementSettingData",
        "CIM_ElementSettingData",
        association=True,
    ),
    ClassDef(
        "Msvm_SettingsDefineCapabilities",
        "CIM_SettingsDefineCapabilities",
        props=(P("SupportStatement", "uint16", since=14393),),
        association=True,
    ),
    ClassDef(
        "Msvm_ElementCapabilities",
        "CIM_ElementCapabilities",
        association=True,
    ),
    ClassDef(
        "Msvm_HostedDependency",
        "CIM_HostedDependency",
        association=True,
    ),
    ClassDef(
        "Msvm_HostedService",
        "CIM_HostedService",
        association=True,
    ),
    ClassDef(
        "Msvm_HostedResourcePool",
        "CIM_SystemComponent",
        props=(
            REF("GroupComponent", "Msvm_ComputerSystem"),
            REF("PartComponent", "CIM_ResourcePool"),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_SnapshotOfVirtualSystem",
        "CIM_SnapshotOfVirtualSystem",
        association=True,
    ),
    ClassDef(
        "Msvm_MostCurrentSnapshotInBranch",
        "CIM_MostCurrentSnapshotInBranch",
        props=(
            REF("Antecedent", "CIM_ComputerSystem"),
            REF("Dependent", "Msvm_VirtualSystemSettingData"),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_LastAppliedSnapshot",
        "CIM_LastAppliedSnapshot",
        association=True,
    ),
    ClassDef(
        "Msvm_ParentChildSettingData",
        "CIM_Dependency",
        props=(
            REF("Antecedent", "Msvm_VirtualSystemSettingData"),
            REF("Dependent", "Msvm_VirtualSystemSettingData"),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_FeatureSettingsDefineCapabilities",
        "CIM_SettingsDefineCapabilities",
        props=(
            REF("GroupComponent", "Msvm_EthernetSwitchFeatureCapabilities"),
            REF("PartComponent", "Msvm_FeatureSettingData"),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_SerialPortOnSerialController",
        "CIM_PortOnDevice",
        association=True,
    ),
    ClassDef(
        "Msvm_SystemComponent",
        "CIM_SystemComponent",
        association=True,
    ),
    ClassDef(
        "Msvm_ServiceAffectsElement",
        "CIM_ServiceAffectsElement",
        association=True,
    ),
    ClassDef(
        "Msvm_ElementAllocatedFromPool",
        "CIM_ElementAllocatedFromPool",
        association=True,
    ),
    ClassDef(
        "Msvm_ResourceAllocationFromPool",
        "CIM_ResourceAllocationFromPool",
        association=True,
    ),
    ClassDef(
        "Msvm_ElementAllocatedFromNumaNode",
        "CIM_Dependency",
        props=(
            REF("Antecedent", "Msvm_NumaNode"),
            REF("Dependent", "CIM_LogicalElement"),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_ConcreteComponent",
        "CIM_ConcreteComponent",
        association=True,
    ),
    ClassDef(
        "Msvm_ConcreteDependency",
        "CIM_ConcreteDependency",
        props=(
            REF("Antecedent", "Msvm_InstalledEthernetSwitchExtension"),
            REF("Dependent", "Msvm_EthernetSwitchExtension"),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_ControlledBy",
        "CIM_ControlledBy",
        association=True,
    ),
    ClassDef(
        "Msvm_ProtocolControllerForUnit",
        "CIM_ProtocolControllerForUnit",
        association=True,
    ),
    ClassDef(
        "Msvm_MediaPresent",
        "CIM_MediaPresent",
        association=True,
    ),
    ClassDef(
        "Msvm_BasedOn",
        "CIM_BasedOn",
        association=True,
    ),
    ClassDef(
        "Msvm_DeviceSAPImplementation",
        "CIM_DeviceSAPImplementation",
        association=True,
    ),
    ClassDef(
        "Msvm_EthernetDeviceSAPImplementation",
        "CIM_DeviceSAPImplementation",
        props=(
            REF("Antecedent", "CIM_EthernetPort"),
            REF("Dependent", "Msvm_LANEndpoint"),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_ActiveConnection",
        "CIM_ActiveConnection",
        props=(
            REF("Antecedent", "Msvm_LANEndpoint"),
            REF("Dependent", "CIM_LANEndpoint"),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_BindsToLANEndpoint",
        "CIM_BindsToLANEndpoint",
        props=(
            REF("Antecedent", "Msvm_LANEndpoint"),
            REF("Dependent", "Msvm_VLANEndpoint"),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_SettingDataComponent",
        "CIM_Component",
        props=(
            REF("GroupComponent", "CIM_ResourceAllocationSettingData", key=True),
            REF("PartComponent", "Msvm_GuestNetworkAdapterConfiguration", key=True),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_BootSourceComponent",
        "CIM_Component",
        association=True,
    ),
    ClassDef(
        "Msvm_SystemExportSettingData",
        "CIM_ElementSettingData",
        props=(
            REF("ManagedElement", "CIM_ComputerSystem"),
            REF("SettingData", "Msvm_VirtualSystemExportSettingData"),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_VideoHeadOnController",
        "CIM_VideoHeadOnController",
        props=(
            REF("Antecedent", "CIM_DisplayController"),
            REF("Dependent", "Msvm_VideoHead"),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_SystemBIOS",
        "CIM_SystemBIOS",
        props=(
            REF("GroupComponent", "CIM_ComputerSystem"),
            REF("PartComponent", "Msvm_BIOSElement"),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_ComputerSystemSummaryInformation",
        "CIM_ElementView",
        props=(
            REF("Antecedent", "CIM_ComputerSystem", key=True),
            REF("Dependent", "Msvm_SummaryInformationBase", key=True),
        ),
        association=True,
        since=10240,
    ),
    ClassDef(
        "Msvm_ResourceDependentOnResource",
        "CIM_Dependency",
        props=(
            REF("Antecedent", "CIM_ResourceAllocationSettingData", key=True),
            REF("Dependent", "CIM_ResourceAllocationSettingData", key=True),
        ),
        association=True,
        since=10240,
    ),
    ClassDef(
        "Msvm_EthernetPortSettingDataComponent",
        "CIM_Component",
        props=(
            REF("GroupComponent", "Msvm_EthernetPortAllocationSettingData", key=True),
            REF("PartComponent", "Msvm_EthernetSwitchPortFeatureSettingData", key=True),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_EthernetSwitchExtensionCapabilities",
        "CIM_ElementCapabilities",
        props=(
            REF("ManagedElement", "Msvm_InstalledEthernetSwitchExtension"),
            REF("Capabilities", "Msvm_EthernetSwitchFeatureCapabilities"),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_HostedEthernetSwitchExtension",
        "CIM_HostedDependency",
        props=(
            REF("Antecedent", "Msvm_VirtualEthernetSwitch", key=True),
            REF("Dependent", "Msvm_EthernetSwitchExtension", key=True),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_ParentEthernetSwitchExtension",
        "CIM_Dependency",
        props=(
            REF("Antecedent", "Msvm_EthernetSwitchExtension"),
            REF("Dependent", "Msvm_EthernetSwitchExtension"),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_HostedSwitchService",
        "CIM_HostedService",
        props=(
            REF("Antecedent", "Msvm_VirtualEthernetSwitch"),
            REF("Dependent", "CIM_Service"),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_VirtualEthernetSwitchSettingDataComponent",
        "CIM_Component",
        props=(
            REF("GroupComponent", "Msvm_VirtualEthernetSwitchSettingData", key=True),
            REF("PartComponent", "Msvm_EthernetSwitchFeatureSettingData", key=True),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_EthernetSwitchInfo",
        "CIM_Dependency",
        props=(
            REF("Antecedent", "Msvm_VirtualEthernetSwitch"),
            REF("Dependent", "Msvm_EthernetSwitchData"),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_EthernetPortInfo",
        "CIM_Dependency",
        props=(
            REF("Antecedent", "Msvm_EthernetSwitchPort"),
            REF("Dependent", "Msvm_EthernetPortData"),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_SwitchPortDynamicForwarding",
        "CIM_SwitchPortDynamicForwarding",
        props=(
            REF("Antecedent", "Msvm_EthernetSwitchPort"),
            REF("Dependent", "Msvm_DynamicForwardingEntry"),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_TransparentBridgingDynamicForwarding",
        "CIM_TransparentBridgingDynamicForwarding",
        props=(
            REF("Antecedent", "Msvm_TransparentBridgingService"),
            REF("Dependent", "Msvm_DynamicForwardingEntry"),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_SystemTerminalConnection",
        "CIM_HostedDependency",
        props=(
            REF("Antecedent", "Msvm_ComputerSystem"),
            REF("Dependent", "Msvm_TerminalConnection"),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_MetricDefForME",
        "CIM_MetricDefForME",
        association=True,
    ),
    ClassDef(
        "Msvm_MetricForME",
        "CIM_MetricForME",
        association=True,
    ),
    ClassDef(
        "Msvm_MetricInstance",
        "CIM_MetricInstance",
        association=True,
    ),
    ClassDef(
        "Msvm_MetricCollectionDependency",
        "CIM_Dependency",
        association=True,
    ),
    ClassDef(
        "Msvm_AffectedStorageJobElement",
        "CIM_AffectedJobElement",
        props=(REF("AffectingElement", "Msvm_StorageJob", key=True),),
        association=True,
    ),
    ClassDef(
        "Msvm_VirtualSystemMigrationServiceSettingDataComponent",
        "CIM_Component",
        props=(
            REF("GroupComponent", "Msvm_VirtualSystemMigrationServiceSettingData", key=True),
            REF("PartComponent", "Msvm_VirtualSystemMigrationNetworkSettingData", key=True),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_EthernetPortFailoverSettingDataComponent",
        "CIM_Component",
        props=(
            REF("GroupComponent", "CIM_ResourceAllocationSettingData", key=True),
            REF("PartComponent", "Msvm_FailoverNetworkAdapterSettingData", key=True),
        ),
        association=True,
    ),
    ClassDef(
        "Msvm_GuestServiceInterfaceSettingDataComponent",
        "CIM_Component",
        props=(
            REF("GroupComponent", "Msvm_GuestServiceInterfaceComponentSettingData", key=True),
            REF("PartComponent", "CIM_SettingData", key=True),
        ),
        association=True,
        since=10240,
    ),
]
