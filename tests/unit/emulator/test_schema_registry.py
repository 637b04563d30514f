"""The whole schema resolves on every preset's build, and names what it refers to."""

from __future__ import annotations

from collections import Counter

import pytest

from hyperv_emulator.profiles import PRESETS
from hyperv_emulator.schema.classes import all_definitions
from hyperv_emulator.schema.model import (
    KEY,
    NS_CIMV2,
    NS_HGS,
    NS_MSPS,
    NS_STANDARD_CIMV2,
    NS_STORAGE,
    NS_VIRTUALIZATION,
    REF,
    ClassDef,
    P,
    Registry,
    SchemaError,
    available,
    in_namespace,
)

PRESET_BUILDS = sorted({profile.version_tuple[2] for profile in PRESETS.values()})
# Classes the real MOF names as embedded instances without defining them in the
# namespace (CIM_TPM's credential parameters); the emulator cannot validate those.
UNDEFINED_IN_REAL_SCHEMA = frozenset({"cim_credential"})


@pytest.fixture(scope="module", params=PRESET_BUILDS)
def registry(request: pytest.FixtureRequest) -> Registry:
    return Registry(all_definitions(), request.param)


def test_every_class_resolves_and_refers_to_defined_classes(registry: Registry) -> None:
    unknown = []
    for cls in registry.classes():
        members = [*cls.props.values()]
        members += [p for _, method in cls.methods.values() for p in method.params]
        for item in members:
            for target in (item.ref_class, item.embedded):
                if target and target.lower() in UNDEFINED_IN_REAL_SCHEMA:
                    continue
                if target and registry.get(target, cls.namespace) is None:
                    unknown.append(f"{cls.name}.{item.name} -> {target}")
    assert not unknown, "references to classes not defined on build " + (
        f"{registry.build}:\n" + "\n".join(sorted(set(unknown)))
    )


def test_classes_are_unique_per_namespace_and_build() -> None:
    for build in PRESET_BUILDS:
        names = Counter(
            (d.namespace.lower(), d.name.lower()) for d in all_definitions() if available(d, build)
        )
        assert [key for key, count in names.items() if count > 1] == []


def test_a_class_defined_twice_on_one_build_is_refused() -> None:
    base = ClassDef("CIM_Base", None)
    early = ClassDef("Msvm_Shape", "CIM_Base", until=10240)
    late = ClassDef("Msvm_Shape", "CIM_Base", since=10586)
    Registry([base, early, late], 9600)  # disjoint builds: one class per build
    with pytest.raises(SchemaError, match="defined twice"):
        Registry([base, early, ClassDef("Msvm_Shape", "CIM_Base", since=10240)], 9600)


def test_a_superclass_missing_on_the_build_is_refused() -> None:
    base = ClassDef("CIM_Base", None, since=10586)
    with pytest.raises(SchemaError, match="not defined on build 9600"):
        Registry([base, ClassDef("Msvm_Early", "CIM_Base")], 9600)


def test_an_override_keeps_the_key_it_overrides() -> None:
    dependency = ClassDef(
        "CIM_Dep", None, props=(KEY("Antecedent", "ref", ref_class="CIM_X"),), association=True
    )
    narrowed = ClassDef(
        "Msvm_Dep", "CIM_Dep", props=(REF("Antecedent", "CIM_Y"),), association=True
    )
    cls = Registry([dependency, narrowed], 9600).get("Msvm_Dep")
    assert cls is not None
    assert cls.keys == ("Antecedent",)
    prop = cls.prop("antecedent")
    assert prop is not None and prop.ref_class == "CIM_Y"


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("Msvm_ComputerSystem", ("CreationClassName", "Name")),
        (
            "Msvm_VirtualSystemManagementService",
            ("SystemCreationClassName", "SystemName", "CreationClassName", "Name"),
        ),
        ("Msvm_VirtualSystemSettingData", ("InstanceID",)),
        ("Msvm_ProcessorSettingData", ("InstanceID",)),
        ("Msvm_ConcreteJob", ("InstanceID",)),
        (
            "Msvm_DiskDrive",
            ("SystemCreationClassName", "SystemName", "CreationClassName", "DeviceID"),
        ),
        ("Msvm_NumaNode", ("SystemCreationClassName", "SystemName", "CreationClassName", "NodeID")),
        ("Msvm_SettingsDefineState", ("ManagedElement", "SettingData")),
        ("Msvm_AffectedJobElement", ("AffectedElement", "AffectingElement")),
        ("Msvm_SystemDevice", ("GroupComponent", "PartComponent")),
        ("Msvm_VirtualSystemSettingDataComponent", ("GroupComponent", "PartComponent")),
        ("Msvm_HostedDependency", ("Antecedent", "Dependent")),
        (
            "Msvm_LANEndpoint",
            ("SystemCreationClassName", "SystemName", "CreationClassName", "Name"),
        ),
    ],
)
def test_keys_of_the_classes_clients_address(name: str, keys: tuple[str, ...]) -> None:
    for build in PRESET_BUILDS:
        cls = Registry(all_definitions(), build).get(name)
        assert cls is not None, f"{name} missing on {build}"
        assert sorted(cls.keys) == sorted(keys), f"{name} on {build}"


def test_polymorphic_setting_queries_see_every_device_class() -> None:
    registry = Registry(all_definitions(), 20348)
    rasd = {c.name for c in registry.subclasses("CIM_ResourceAllocationSettingData")}
    assert {
        "Msvm_ResourceAllocationSettingData",
        "Msvm_ProcessorSettingData",
        "Msvm_MemorySettingData",
        "Msvm_StorageAllocationSettingData",
        "Msvm_SyntheticEthernetPortSettingData",
        "Msvm_EthernetPortAllocationSettingData",
        "Msvm_SerialPortSettingData",
        "Msvm_SyntheticDisplayControllerSettingData",
        "Msvm_PciExpressSettingData",
        "Msvm_ShutdownComponentSettingData",
    } <= rasd
    # Siblings, not subclasses, of the generic Msvm RASD (a real-host surprise).
    generic = {c.name for c in registry.subclasses("Msvm_ResourceAllocationSettingData")}
    assert generic == {"Msvm_ResourceAllocationSettingData"}


def test_build_specific_classes() -> None:
    old, new = Registry(all_definitions(), 9600), Registry(all_definitions(), 26100)
    assert old.get("Msvm_SerialPortSettingData") is None
    assert old.get("Msvm_SecuritySettingData") is None
    assert new.get("Msvm_SerialPortSettingData") is not None
    summary_old, summary_new = (
        old.get("Msvm_SummaryInformation"),
        new.get("Msvm_SummaryInformation"),
    )
    assert summary_old is not None and summary_new is not None
    assert "Msvm_SummaryInformationBase" not in summary_old.chain
    assert "Msvm_SummaryInformationBase" in summary_new.chain
    # ... and GetSummaryInformation answered with the class of its day.
    for registry, embedded in (
        (old, "Msvm_SummaryInformation"),
        (new, "Msvm_SummaryInformationBase"),
    ):
        vsms = registry.get("Msvm_VirtualSystemManagementService")
        assert vsms is not None
        method = vsms.method("GetSummaryInformation")
        assert method is not None
        output = method.param("SummaryInformation")
        assert output is not None and output.type == "object" and output.embedded == embedded
    assert new.get("Win32_OperatingSystem", NS_CIMV2) is not None
    assert new.get("Win32_OperatingSystem", NS_VIRTUALIZATION) is None


def test_one_name_declared_twice_in_a_class_is_refused() -> None:
    twice = ClassDef(
        "Msvm_Twice", None, props=(P("PnPDeviceID", "string"), P("PNPDeviceID", "string"))
    )
    with pytest.raises(SchemaError, match="declares property PNPDeviceID twice"):
        Registry([twice], 9600)
    # The same name on disjoint builds is one property that changed shape.
    early, late = P("Size", "uint32", until=10240), P("Size", "uint64", since=10586)
    cls = Registry([ClassDef("Msvm_Shape", None, props=(early, late))], 14393).get("Msvm_Shape")
    assert cls is not None and cls.prop("size") == late


def test_dmtf_classes_copied_into_another_namespace() -> None:
    base = ClassDef("CIM_Base", None, props=(KEY("Name"),))
    (copy,) = in_namespace("root/StandardCimv2", [base], ["cim_base"])
    assert copy.namespace == "root/StandardCimv2" and copy.props == base.props
    with pytest.raises(SchemaError, match="CIM_Missing"):
        in_namespace("root/StandardCimv2", [base], ["CIM_Missing"])


def test_the_other_namespaces_a_driver_reads() -> None:
    old, new = Registry(all_definitions(), 9600), Registry(all_definitions(), 20348)
    os_class = new.get("Win32_OperatingSystem", NS_CIMV2)
    assert os_class is not None and os_class.definition.singleton
    assert {
        "Version",
        "Caption",
        "TotalVisibleMemorySize",
        "FreePhysicalMemory",
        "LastBootUpTime",
    } <= {p.name for p in os_class.props.values()}
    assert os_class.method("Win32Shutdown") is not None
    adapter = new.get("MSFT_NetAdapter", NS_STANDARD_CIMV2)
    assert adapter is not None and adapter.prop("PnPDeviceID") is not None
    assert sorted(adapter.keys) == [
        "CreationClassName",
        "DeviceID",
        "SystemCreationClassName",
        "SystemName",
    ]
    disk = new.get("MSFT_Disk", NS_STORAGE)
    assert disk is not None and disk.keys == ("ObjectId",)
    assert disk.prop("Number") is not None and disk.prop("SerialNumber") is not None
    connect = new.get("MSFT_iSCSITarget", NS_STORAGE)
    assert connect is not None and (method := connect.method("Connect")) and method.static
    # Guarded hosts and shielded VM provisioning came with Windows Server 2016.
    assert old.get("MSFT_HgsClientConfiguration", NS_HGS) is None
    hgs = new.get("MSFT_HgsClientConfiguration", NS_HGS)
    assert hgs is not None and (get := hgs.method("Get")) is not None and get.static
    provision = new.get("Msps_ProvisioningService", NS_MSPS)
    assert provision is not None
    assert [p.name for p in provision.method("ProvisionMachine").params] == [
        "PDKPath",
        "FSKPath",
        "MachineID",
        "ProvisioningJob",
    ]
