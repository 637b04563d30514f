"""The wmi adapter's table of output parameters matches the methods' MOF.

PyMI returns outputs as a tuple sorted by name and never their names, so the adapter
names them from this table; the emulated host's schema is written from Microsoft's MOF.
"""

from __future__ import annotations

import pytest

from hyperv_emulator.host import registry_for
from nova_hyperv.cim.errors import CimNotSupported
from nova_hyperv.cim.wmi import CLASS_OUTPUTS, OBJECT_INPUTS, OUTPUTS, output_names

CLASSES = {
    "definesystem": "Msvm_VirtualSystemManagementService",
    "destroysystem": "Msvm_VirtualSystemManagementService",
    "modifysystemsettings": "Msvm_VirtualSystemManagementService",
    "addresourcesettings": "Msvm_VirtualSystemManagementService",
    "modifyresourcesettings": "Msvm_VirtualSystemManagementService",
    "removeresourcesettings": "Msvm_VirtualSystemManagementService",
    "addfeaturesettings": "Msvm_VirtualSystemManagementService",
    "modifyfeaturesettings": "Msvm_VirtualSystemManagementService",
    "removefeaturesettings": "Msvm_VirtualSystemManagementService",
    "modifyservicesettings": "Msvm_VirtualSystemManagementService",
    "getsummaryinformation": "Msvm_VirtualSystemManagementService",
    "requeststatechange": "Msvm_ComputerSystem",
    "initiateshutdown": "Msvm_ShutdownComponent",
    "initiatereboot": "Msvm_ShutdownComponent",
    "geterror": "Msvm_ConcreteJob",
    "geterrorex": "Msvm_ConcreteJob",
    "get": "MSFT_HgsClientConfiguration",
    "getdeviceproperties": "Win32_PnPEntity",
    "setkeyprotector": "Msvm_SecurityService",
    "setsecuritypolicy": "Msvm_SecurityService",
    "modifysecuritysettings": "Msvm_SecurityService",
    "populatefromfile": "Msps_ProvisioningFileProcessor",
    "serializetofile": "Msps_ProvisioningFileProcessor",
    "provisionmachine": "Msps_ProvisioningService",
}
NAMESPACES = {"MSFT_HgsClientConfiguration": "root/microsoft/windows/hgs",
              "Win32_PnPEntity": "root/cimv2",
              "Msps_ProvisioningFileProcessor": "root/msps",
              "Msps_ProvisioningService": "root/msps",
              "MSFT_iSCSITargetPortal": "root/Microsoft/Windows/Storage",
              "MSFT_iSCSITarget": "root/Microsoft/Windows/Storage",
              "MSFT_iSCSISession": "root/Microsoft/Windows/Storage",
              "MSFT_Disk": "root/Microsoft/Windows/Storage",
              "MSFT_StorageSetting": "root/Microsoft/Windows/Storage",
              "MSFT_SmbMapping": "root/Microsoft/Windows/SMB",
              "MSFC_HBAFCPInfo": "root/WMI"}
CLASS_NAMES = ("Msvm_ConcreteJob", *NAMESPACES)


def _schema_outputs(class_name: str, method: str) -> tuple[str, ...]:
    registry = registry_for(20348)
    cls = registry.get(class_name, NAMESPACES.get(class_name, "root/virtualization/v2"))
    assert cls is not None, class_name
    found = cls.method(method)
    assert found is not None, f"{class_name}.{method}"
    return tuple(sorted([p.name for p in found.params if p.is_output] + ["ReturnValue"]))


@pytest.mark.parametrize("method", sorted(OUTPUTS))
def test_outputs_match_the_schema(method: str) -> None:
    assert set(CLASSES) == set(OUTPUTS)
    class_name = CLASSES[method]
    assert output_names(class_name, method) == _schema_outputs(class_name, method)


@pytest.mark.parametrize(("class_name", "method"), sorted(CLASS_OUTPUTS))
def test_class_overrides_match_the_schema(class_name: str, method: str) -> None:
    real = next(c for c in CLASS_NAMES if c.lower() == class_name)
    assert output_names(real, method) == _schema_outputs(real, method)


@pytest.mark.parametrize("method", sorted(OBJECT_INPUTS))
def test_object_inputs_are_object_typed_in_the_schema(method: str) -> None:
    registry = registry_for(20348)
    cls = registry.get(CLASSES[method], NAMESPACES.get(CLASSES[method], "root/virtualization/v2"))
    found = cls.method(method)  # type: ignore[union-attr]
    assert found is not None
    typed = {p.name.lower(): p.type for p in found.params if not p.is_output}
    assert {typed[name] for name in OBJECT_INPUTS[method]} == {"object"}


def test_unknown_method_is_refused_by_name() -> None:
    with pytest.raises(CimNotSupported, match=r"Msvm_X\.Frobnicate"):
        output_names("Msvm_X", "Frobnicate")
