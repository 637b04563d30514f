"""Shielding data files and root/msps: reading, writing, provisioning a shielded VM."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.emulator.hvclient import Client, client_for
from tests.unit.emulator.test_security import Security

from hyperv_emulator.errors import CimError
from hyperv_emulator.profiles import PRESETS
from hyperv_emulator.shielding_data import (
    ShieldingDataError,
    read_fsk,
    read_pdk,
    write_fsk,
    write_pdk,
)

MSPS = "root/msps"
PROCESSOR = f"{MSPS}:Msps_ProvisioningFileProcessor"
SERVICE = f"{MSPS}:Msps_ProvisioningService"
NAME_KEY = "@@ComputerName@@"


def test_pdk_and_fsk_round_trip(tmp_path: Path) -> None:
    written = write_pdk(tmp_path / "a.pdk", name="tenant", owner="Owner1", policy="Shielded",
                        fsk_keys=[NAME_KEY])
    read = read_pdk(tmp_path / "a.pdk")
    assert read == written
    assert read.shielded and read.fsk_keys == (NAME_KEY,) and read.key_protector
    # Every PDK gets a key protector of its own.
    assert write_pdk(tmp_path / "b.pdk").key_protector != read.key_protector
    write_fsk(tmp_path / "a.fsk", {NAME_KEY: "vm1"})
    assert read_fsk(tmp_path / "a.fsk") == {NAME_KEY: "vm1"}


@pytest.mark.parametrize(("damage", "fragment"), [
    (lambda raw: raw[:-1] + bytes([raw[-1] ^ 1]), "corrupt"),
    (lambda raw: raw[:20], "corrupt"),
    (lambda raw: b"NOTAPDK!" + raw[8:], "not a shielding data"),
    (lambda raw: b"", "not a shielding data"),
])
def test_damaged_files_are_refused(tmp_path: Path, damage: object, fragment: str) -> None:
    path = tmp_path / "a.pdk"
    write_pdk(path)
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    with pytest.raises(ShieldingDataError, match=fragment):
        read_pdk(path)


def test_files_of_the_other_kind_and_missing_files(tmp_path: Path) -> None:
    write_fsk(tmp_path / "a.fsk", {})
    with pytest.raises(ShieldingDataError, match="not shielding data"):
        read_pdk(tmp_path / "a.fsk")
    write_pdk(tmp_path / "a.pdk")
    with pytest.raises(ShieldingDataError, match="not specialization data"):
        read_fsk(tmp_path / "a.pdk")
    with pytest.raises(ShieldingDataError, match="cannot be read"):
        read_pdk(tmp_path / "missing.pdk")
    with pytest.raises(ShieldingDataError, match="policy"):
        write_pdk(tmp_path / "c.pdk", policy="Secret")


def test_populate_from_file_and_serialize_to_file(client: Client, tmp_path: Path) -> None:
    pdk = write_pdk(tmp_path / "t.pdk")
    session = client.session
    found = session.invoke(PROCESSOR, "PopulateFromFile", FilePath=str(tmp_path / "t.pdk"))
    read = found["ProvisioningFile"]
    assert read.class_name == "Msps_PDK"
    assert bytes(read["KeyProtector"]) == pdk.key_protector
    assert bytes(read["PolicyData"]) == pdk.policy_data
    pair = session.new_instance("Msps_FabricData", MSPS)
    pair["key"] = NAME_KEY
    pair["Value"] = "vm1"
    fsk = session.new_instance("Msps_FSK", MSPS)
    fsk["FabricDataPairs"] = [pair]
    assert session.invoke(PROCESSOR, "SerializeToFile", FilePath=str(tmp_path / "t.fsk"),
                          ProvisioningFile=fsk).return_value == 0
    assert read_fsk(tmp_path / "t.fsk") == {NAME_KEY: "vm1"}
    back = session.invoke(PROCESSOR, "PopulateFromFile", FilePath=str(tmp_path / "t.fsk"))
    assert [(p["key"], p["Value"]) for p in back["ProvisioningFile"]["FabricDataPairs"]] == [
        (NAME_KEY, "vm1")]
    # A PDK written through WMI reads back with the same key protector and policy.
    assert session.invoke(PROCESSOR, "SerializeToFile", FilePath=str(tmp_path / "c.pdk"),
                          ProvisioningFile=read).return_value == 0
    assert read_pdk(tmp_path / "c.pdk").key_protector == pdk.key_protector
    (tmp_path / "bad.pdk").write_bytes(b"EMUPDK01garbage")
    with pytest.raises(CimError, match="corrupt"):
        session.invoke(PROCESSOR, "PopulateFromFile", FilePath=str(tmp_path / "bad.pdk"))
    with pytest.raises(CimError, match="cannot be written"):
        session.invoke(PROCESSOR, "SerializeToFile", FilePath=str(tmp_path / "no" / "x.fsk"),
                       ProvisioningFile=fsk)


class Provisioning:
    """A guarded (or not) host with one VM prepared from a PDK, as os-win's add_vtpm does."""

    def __init__(self, tmp_path: Path, guarded: bool = True) -> None:
        self.client = client_for(tmp_path, PRESETS["ws2022"].replace(guarded=guarded))
        self.security = Security(self.client)
        self.pdk_path = tmp_path / "t.pdk"
        self.fsk_path = tmp_path / "t.fsk"
        self.pdk = write_pdk(self.pdk_path, name="tenant", fsk_keys=[NAME_KEY])
        write_fsk(self.fsk_path, {NAME_KEY: "vm1"})
        self.system = self.client.define()
        self.guid = self.client.session.get(self.system)["Name"]

    def prepare(self) -> None:
        self.security.protect(self.system, list(self.pdk.key_protector))
        self.client.ok(self.security.modify(self.system, TpmEnabled=True,
                                            ShieldingRequested=True))

    def provision(self, machine_id: str | None = None, **paths: Path) -> tuple[int, dict]:
        inputs = {"FSKPath": str(self.fsk_path), "PDKPath": str(self.pdk_path),
                  "MachineID": machine_id or self.guid}
        inputs.update({k: str(v) for k, v in paths.items()})
        result = self.client.session.invoke(SERVICE, "ProvisionMachine", **inputs)
        job = result["ProvisioningJob"]
        return result.return_value, {k: job[k] for k in ("JobState", "ErrorCode",
                                                          "ErrorDescription")}


def test_provisioning_a_prepared_vm(tmp_path: Path) -> None:
    setup = Provisioning(tmp_path)
    setup.prepare()
    code, job = setup.provision()
    assert (code, job["JobState"], job["ErrorCode"]) == (0, 7, 0)
    stored = setup.client.session.query("SELECT * FROM Msps_ProvisioningJob", MSPS)
    assert [j["AdditionalIdentifier"] for j in stored] == [setup.guid]
    setup.client.ok(setup.client.call("DestroySystem", AffectedSystem=setup.system))
    assert setup.client.session.query("SELECT * FROM Msps_ProvisioningJob", MSPS) == []


def test_provisioning_is_refused_on_a_host_that_is_not_guarded(tmp_path: Path) -> None:
    setup = Provisioning(tmp_path, guarded=False)
    setup.prepare()
    code, job = setup.provision()
    assert (code, job["JobState"], job["ErrorCode"]) == (32769, 10, 32769)
    assert "not a guarded host" in job["ErrorDescription"]


def test_provisioning_refusals(tmp_path: Path) -> None:
    setup = Provisioning(tmp_path)
    code, job = setup.provision()
    assert (code, job["ErrorCode"]) == (32775, 32775) and "no virtual TPM" in job[
        "ErrorDescription"]
    setup.prepare()
    assert setup.provision("5F7C3E1A-9D2B-4C8E-A1F0-6B3D2E4C5A79")[0] == 32773
    other = write_pdk(tmp_path / "other.pdk")
    code, job = setup.provision(PDKPath=tmp_path / "other.pdk")
    assert code == 32773 and "key protector" in job["ErrorDescription"], other
    write_fsk(tmp_path / "empty.fsk", {})
    code, job = setup.provision(FSKPath=tmp_path / "empty.fsk")
    assert code == 32773 and NAME_KEY in job["ErrorDescription"]
    code, job = setup.provision(FSKPath=tmp_path / "missing.fsk")
    assert code == 32779 and "cannot be read" in job["ErrorDescription"]
    setup.client.ok(setup.client.state(setup.system, 2))
    assert setup.provision()[0] == 32775
