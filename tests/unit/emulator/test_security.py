"""The security service: vTPM, shielding, encryption, key protectors, the guarded host."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.emulator.hvclient import Client, client_for

from hyperv_emulator.errors import CimError
from hyperv_emulator.instances import Instance
from hyperv_emulator.profiles import PRESETS
from hyperv_emulator.session import MethodResult

HGS = "root/Microsoft/Windows/Hgs:MSFT_HgsClientConfiguration"
KEY_PROTECTOR = [7, 1, 2, 3, 4, 5]
UEFI_CA = "272E7447-90A4-4563-A4B9-8E4AB00526CE"


class Security:
    """The security service of a client's host, as a driver would call it."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.service = str(client.session.query("SELECT * FROM Msvm_SecurityService")[0].path)

    def setting(self, system: str) -> Instance:
        found = self.client.devices(system, "Msvm_SecuritySettingData")
        assert len(found) == 1, found
        return found[0]

    def call(self, method: str, system: str, setting: Instance | None = None,
             **inputs: object) -> MethodResult:
        return self.client.session.invoke(self.service, method,
                                          SecuritySettingData=setting or self.setting(system),
                                          **inputs)

    def modify(self, system: str, **flags: object) -> MethodResult:
        setting = self.setting(system)
        setting.update(flags)
        return self.call("ModifySecuritySettings", system, setting)

    def protect(self, system: str, key: list[int] = KEY_PROTECTOR) -> None:
        self.client.ok(self.call("SetKeyProtector", system, KeyProtector=key))

    def vtpm(self, system: str) -> None:
        self.protect(system)
        self.client.ok(self.modify(system, TpmEnabled=True))


@pytest.fixture
def security(client: Client) -> Security:
    return Security(client)


def test_a_new_vm_has_one_security_setting_with_every_flag_off(client: Client,
                                                                security: Security) -> None:
    system = client.define()
    setting = security.setting(system)
    flags = ("TpmEnabled", "ShieldingRequested", "EncryptStateAndVmMigrationTraffic",
             "KsdEnabled", "DataProtectionRequested")
    assert [setting[f] for f in flags] == [False] * len(flags)
    guid = client.session.get(system)["Name"]
    assert setting["InstanceID"].startswith(f"Microsoft:{guid}\\")
    # No key protector yet: a 4-byte placeholder.
    assert security.call("GetKeyProtector", system)["KeyProtector"] == (0, 0, 0, 0)


def test_the_vtpm_needs_a_key_protector_first(client: Client, security: Security) -> None:
    system = client.define()
    job = client.refused(security.modify(system, TpmEnabled=True), 32768)
    assert "no key protector" in job["ErrorDescription"]
    assert security.setting(system)["TpmEnabled"] is False
    security.protect(system)
    assert security.call("GetKeyProtector", system)["KeyProtector"] == tuple(KEY_PROTECTOR)
    result = security.modify(system, TpmEnabled=True, EncryptStateAndVmMigrationTraffic=True)
    assert result.return_value == 0  # synchronously, as on a real host
    stored = security.setting(system)
    assert (stored["TpmEnabled"], stored["EncryptStateAndVmMigrationTraffic"]) == (True, True)


@pytest.mark.parametrize("flag", ["EncryptStateAndVmMigrationTraffic", "ShieldingRequested",
                                  "DataProtectionRequested"])
def test_every_sealing_feature_needs_a_key_protector(client: Client, security: Security,
                                                     flag: str) -> None:
    system = client.define()
    assert flag in client.refused(security.modify(system, **{flag: True}), 32768)[
        "ErrorDescription"]


def test_the_vtpm_needs_generation_2_with_secure_boot(client: Client, security: Security) -> None:
    gen1 = client.define("gen1", 1)
    security.protect(gen1)
    assert "generation 2" in client.refused(security.modify(gen1, TpmEnabled=True), 32773)[
        "ErrorDescription"]
    client.ok(security.modify(gen1, KsdEnabled=True))  # generation 1 has a key storage drive
    no_secure_boot = client.define("plain", SecureBootEnabled=False)
    security.protect(no_secure_boot)
    assert "Secure Boot" in client.refused(security.modify(no_secure_boot, TpmEnabled=True),
                                           32773)["ErrorDescription"]
    gen2 = client.define("gen2")
    security.vtpm(gen2)
    assert "KsdEnabled" in client.refused(security.modify(gen2, KsdEnabled=True), 32773)[
        "ErrorDescription"]
    vssd = client.vssd(gen2)
    vssd["SecureBootEnabled"] = False
    job = client.refused(client.call("ModifySystemSettings", SystemSettings=vssd), 32773)
    assert "while the virtual TPM is enabled" in job["ErrorDescription"]
    assert client.vssd(gen2)["SecureBootEnabled"] is True


def test_the_vtpm_needs_configuration_version_7(tmp_path: Path) -> None:
    client = client_for(tmp_path, "ws2016")
    security = Security(client)
    old = client.define("old", Version="6.2")
    security.protect(old)
    assert "configuration version 7.0" in client.refused(security.modify(old, TpmEnabled=True),
                                                          32773)["ErrorDescription"]
    current = client.define("current", Version="7.0")
    security.vtpm(current)


def test_shielding_needs_the_vtpm(client: Client, security: Security) -> None:
    system = client.define()
    security.protect(system)
    assert "virtual TPM" in client.refused(security.modify(system, ShieldingRequested=True),
                                           32773)["ErrorDescription"]
    client.ok(security.modify(system, TpmEnabled=True, ShieldingRequested=True))
    client.refused(security.modify(system, TpmEnabled=False), 32773)


def test_security_changes_only_while_off(client: Client, security: Security) -> None:
    system = client.define()
    security.protect(system)
    client.ok(client.state(system, 2))
    for result in (security.modify(system, TpmEnabled=True),
                   security.call("SetKeyProtector", system, KeyProtector=[1, 2]),
                   security.call("SetSecurityPolicy", system, SecurityPolicy=[1]),
                   security.call("RestoreLastKnownGoodKeyProtector", system)):
        assert "to be off" in client.refused(result, 32775)["ErrorDescription"]
    # Nothing changed, and re-sending the settings as they are is no change at all.
    assert security.modify(system).return_value == 0
    assert security.call("GetKeyProtector", system)["KeyProtector"] == tuple(KEY_PROTECTOR)


def test_secure_boot_template_is_frozen_once_the_vtpm_is_initialized(
        client: Client, security: Security) -> None:
    system = client.define()
    vssd = client.vssd(system)
    vssd["SecureBootTemplateId"] = UEFI_CA
    client.ok(client.call("ModifySystemSettings", SystemSettings=vssd))  # no vTPM yet
    security.vtpm(system)
    vssd = client.vssd(system)
    vssd["SecureBootTemplateId"] = "1734C6E8-3154-4DDA-BA5F-A874CC483422"
    job = client.refused(client.call("ModifySystemSettings", SystemSettings=vssd), 32775)
    assert ("Cannot modify the secure boot template ID property after the virtual TPM is "
            "initialized.") in job["ErrorDescription"]
    # Turning the vTPM off does not un-initialize it.
    client.ok(security.modify(system, TpmEnabled=False))
    client.refused(client.call("ModifySystemSettings", SystemSettings=vssd), 32775)
    assert client.vssd(system)["SecureBootTemplateId"] == UEFI_CA
    vssd["SecureBootTemplateId"] = UEFI_CA.lower()  # the same template, spelt otherwise
    client.ok(client.call("ModifySystemSettings", SystemSettings=vssd))


def test_key_protector_and_policy_bytes(client: Client, security: Security) -> None:
    system = client.define()
    for method, name in (("SetKeyProtector", "KeyProtector"),
                         ("SetSecurityPolicy", "SecurityPolicy")):
        job = client.refused(security.call(method, system, **{name: []}), 32773)
        assert f"{name} is empty" in job["ErrorDescription"]
    client.ok(security.call("SetSecurityPolicy", system, SecurityPolicy=[9, 9]))
    assert "no earlier key protector" in client.refused(
        security.call("RestoreLastKnownGoodKeyProtector", system), 32768)["ErrorDescription"]
    security.protect(system, [1, 1, 1])
    security.protect(system, [2, 2, 2])
    client.ok(security.call("RestoreLastKnownGoodKeyProtector", system))
    assert security.call("GetKeyProtector", system)["KeyProtector"] == (1, 1, 1)


def test_a_setting_is_named_by_its_instance_id(client: Client, security: Security) -> None:
    system = client.define()
    stranger = client.session.new_instance("Msvm_SecuritySettingData")
    stranger["InstanceID"] = "Microsoft:00000000-0000-0000-0000-000000000000\\X"
    job = client.refused(security.call("SetKeyProtector", system, stranger,
                                       KeyProtector=[1]), 32773)
    assert "matched by InstanceID" in job["ErrorDescription"]
    setting = security.setting(system)
    setting["Caption"] = "mine"
    assert "cannot be changed" in client.refused(
        security.call("ModifySecuritySettings", system, setting), 32773)["ErrorDescription"]
    result = client.session.invoke(security.service, "GetKeyProtector",
                                   SecuritySettingData=stranger)
    assert result.return_value == 32773  # no job for GetKeyProtector: the code itself


@pytest.mark.parametrize("guarded", [True, False])
def test_the_guarded_host_state(tmp_path: Path, guarded: bool) -> None:
    client = client_for(tmp_path, PRESETS["ws2022"].replace(guarded=guarded))
    result = client.session.invoke(HGS, "Get")
    config = result["cmdletOutput"]
    assert result.return_value == 0
    assert config["IsHostGuarded"] is guarded
    assert config["AttestationStatus"] == (1 if guarded else 0)
    assert bool(config["KeyProtectionServerUrl"]) is guarded


@pytest.mark.parametrize("guarded", [True, False])
def test_a_shielded_vm_starts_only_on_a_guarded_host(tmp_path: Path, guarded: bool) -> None:
    client = client_for(tmp_path, PRESETS["ws2022"].replace(guarded=guarded))
    security = Security(client)
    system = client.define()
    security.vtpm(system)
    client.ok(security.modify(system, ShieldingRequested=True))
    result = client.state(system, 2)
    if guarded:
        client.ok(result)
        assert client.enabled_state(system) == 2
    else:
        job = client.refused(result, 32768)
        assert "not a guarded host" in job["ErrorDescription"]
        assert client.enabled_state(system) == 3


def test_no_security_service_before_2016(tmp_path: Path) -> None:
    client = client_for(tmp_path, "ws2012r2")
    with pytest.raises(CimError):
        client.session.query("SELECT * FROM Msvm_SecurityService")


def test_a_10586_host_has_the_vtpm_but_no_key_storage_drive(tmp_path: Path) -> None:
    profile = PRESETS["ws2016"].replace(windows_version="10.0.10586", hostname="TH2",
                                        default_vm_version="7.0",
                                        supported_vm_versions=("5.0", "6.2", "7.0"))
    client = client_for(tmp_path, profile)
    security = Security(client)
    system = client.define()
    security.vtpm(system)
    assert security.setting(system)["TpmEnabled"] is True
    with pytest.raises(CimError, match="KsdEnabled"):
        security.setting(system)["KsdEnabled"] = True
