"""vTPM and shielded VM provisioning on emulated guarded hosts, over both adapters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.unit.hyperv.conftest import files_for, inventory, open_client, plan_for

from hyperv_emulator import Host, init_host, shielding_data
from hyperv_emulator import wmi as facade
from hyperv_emulator.profiles import PRESETS
from nova_hyperv.hyperv import HyperVClient, RequestedState, Vm
from nova_hyperv.hyperv.security import ShieldingFailed

SECURE = {"hw_machine_type": "hyperv-gen2", "os_secure_boot": "required",
          "os_type": "windows"}
PAIRS = (("@@ComputerName@@", "guest"), ("@@TimeZone@@", "UTC"))


@pytest.fixture(params=[True, False], ids=["guarded", "unguarded"])
def guarded(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture(params=["emulated", "wmi"])
def secure_client(request: pytest.FixtureRequest, tmp_path: Path,
                  guarded: bool) -> Iterator[tuple[HyperVClient, Host]]:
    host = init_host(tmp_path / "host.db", PRESETS["ws2022"].replace(guarded=guarded))
    client = open_client(host, request.param)
    try:
        yield client, host
    finally:
        client.session.close()
        if request.param == "wmi":
            facade.unbind()


def make(client: HyperVClient, tmp_path: Path) -> Vm:
    plan = plan_for(client, properties=SECURE)
    return client.create_vm(plan, files=files_for(plan, tmp_path / "vm"), switch=None,
                            data_root=str(tmp_path))


def pdk(tmp_path: Path, policy: str = "Shielded") -> str:
    path = tmp_path / "data.pdk"
    shielding_data.write_pdk(path, name="tenant", policy=policy,
                             fsk_keys=["@@ComputerName@@", "@@TimeZone@@"])
    return str(path)


def test_a_shielded_vm_is_provisioned_and_starts_on_a_guarded_host(
        secure_client: tuple[HyperVClient, Host], tmp_path: Path, guarded: bool) -> None:
    client, host = secure_client
    vm = make(client, tmp_path)
    assert not client.is_shielded(vm)
    fsk = tmp_path / "vm.fsk"
    apply = lambda: client.apply_vtpm(  # noqa: E731
        vm, pdk_path=pdk(tmp_path), fsk_path=str(fsk), shielded=True, substitutions=PAIRS)
    if not guarded:
        with pytest.raises(ShieldingFailed, match="not a guarded host"):
            apply()
        return
    apply()
    [found] = inventory(host)
    assert found["security"] == {"tpm": True, "shielded": True, "encrypted_state": True,
                                 "key_protector": True, "provisioned": True}
    assert client.is_shielded(vm)
    assert shielding_data.read_fsk(str(fsk)) == dict(PAIRS)
    assert client.set_state(vm, RequestedState.START).state.name == "RUNNING"


def test_an_encryption_only_vtpm_is_not_shielded(secure_client: tuple[HyperVClient, Host],
                                                 tmp_path: Path, guarded: bool) -> None:
    client, host = secure_client
    if not guarded:
        pytest.skip("provisioning needs a guarded host")
    vm = make(client, tmp_path)
    client.apply_vtpm(vm, pdk_path=pdk(tmp_path, "EncryptionSupported"),
                      fsk_path=str(tmp_path / "vm.fsk"), shielded=False, substitutions=PAIRS)
    assert inventory(host)[0]["security"] == {"tpm": True, "shielded": False,
                                              "encrypted_state": True, "key_protector": True,
                                              "provisioned": True}
    assert not client.is_shielded(vm)


def test_missing_fsk_values_are_refused_with_the_hosts_reason(
        secure_client: tuple[HyperVClient, Host], tmp_path: Path, guarded: bool) -> None:
    client, _ = secure_client
    if not guarded:
        pytest.skip("provisioning needs a guarded host")
    vm = make(client, tmp_path)
    with pytest.raises(ShieldingFailed, match="lacks values for @@TimeZone@@"):
        client.apply_vtpm(vm, pdk_path=pdk(tmp_path), fsk_path=str(tmp_path / "vm.fsk"),
                          shielded=True, substitutions=PAIRS[:1])


def test_an_unreadable_pdk_is_refused(secure_client: tuple[HyperVClient, Host],
                                      tmp_path: Path) -> None:
    client, _ = secure_client
    vm = make(client, tmp_path)
    broken = tmp_path / "broken.pdk"
    broken.write_bytes(b"not a shielding data file")
    with pytest.raises(Exception, match=r"broken\.pdk"):
        client.apply_vtpm(vm, pdk_path=str(broken), fsk_path=str(tmp_path / "vm.fsk"),
                          shielded=True, substitutions=PAIRS)
