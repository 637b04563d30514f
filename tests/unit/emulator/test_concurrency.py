"""Two processes on one host file: every call is one transaction, writers serialize."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from tests.unit.emulator import hvworkers

from hyperv_emulator import init_host, open_host


def test_two_processes_define_vms_at_once(tmp_path: Path) -> None:
    state = tmp_path / "host.db"
    init_host(state, "ws2022")
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        results = pool.starmap(hvworkers.define_many, [(str(state), "a", 15),
                                                       (str(state), "b", 15)])
    assert results == [[0] * 30, [0] * 30]
    with open_host(state).session() as session:
        names = sorted(v["ElementName"] for v in session.query(
            "SELECT * FROM Msvm_VirtualSystemSettingData WHERE "
            "VirtualSystemType = 'Microsoft:Hyper-V:System:Realized'"))
        assert names == sorted([f"a-{i}" for i in range(15)] + [f"b-{i}" for i in range(15)])
        controllers = session.query(
            "SELECT * FROM Msvm_ResourceAllocationSettingData WHERE ResourceSubType = "
            "'Microsoft:Hyper-V:Synthetic SCSI Controller'")
        assert len(controllers) == 31  # one per VM, plus the template


def test_the_same_name_from_two_processes_is_created_once(tmp_path: Path) -> None:
    state = tmp_path / "host.db"
    # With unique names asked for, the check and the insert must be one transaction:
    # four processes racing on one name leave exactly one VM.
    init_host(state, "ws2022").update_settings(unique_vm_names=True)
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        outcomes = pool.starmap(hvworkers.define_same, [(str(state), "twin")] * 4)
    assert sorted(outcomes) == ["code 0", "job 32773", "job 32773", "job 32773"]
