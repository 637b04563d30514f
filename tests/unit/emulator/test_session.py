"""The session on a synthetic schema: WQL semantics and indexes, gets, associations,
method protocol, jobs, strictness and round-trip counting."""

from __future__ import annotations

from typing import Any

import pytest

from hyperv_emulator import jobs
from hyperv_emulator.errors import (
    WBEM_E_INVALID_CLASS,
    WBEM_E_INVALID_METHOD,
    WBEM_E_INVALID_NAMESPACE,
    WBEM_E_INVALID_PARAMETER,
    WBEM_E_INVALID_QUERY,
    WBEM_E_NOT_FOUND,
    WBEM_E_NOT_SUPPORTED,
    WBEM_E_TYPE_MISMATCH,
    CimError,
)
from hyperv_emulator.host import Host
from hyperv_emulator.instances import Instance
from hyperv_emulator.providers.base import Args, Ctx, Refused, continuation, method
from hyperv_emulator.session import Session

NS = "root/virtualization/v2"
SYSTEM = (
    '\\\\HV-WS2022\\root\\virtualization\\v2:Test_System.'
    'CreationClassName="Test_System",Name="S1"'
)


@method("Test_System", "DoIt")
def _do_it(ctx: Ctx, target: Instance | None, args: Args) -> int:
    assert target is not None
    ctx.output("Echo", args.get("Text"))
    made = ctx.create(ctx.new("Test_Setting", InstanceID=f"made:{args.get('Text')}"))
    jobs.start_job(ctx, 12, [target], then=("test.finish", {"iid": made["InstanceID"]}))
    return 4096


@continuation("test.finish", cancel=lambda ctx, data: ctx.delete(
    ctx.query("Test_Setting", hint=("eq", "InstanceID", data["iid"]))[0]))
def _finish(ctx: Ctx, data: dict[str, Any]) -> None:
    made = ctx.query("Test_Setting", hint=("eq", "InstanceID", data["iid"]))[0]
    made["Count"] = 42
    ctx.save(made)


@method("Test_System", "Fail")
def _fail(ctx: Ctx, target: Instance | None, args: Args) -> int:
    assert target is not None
    ctx.create(ctx.new("Test_Setting", InstanceID="left-behind"))
    raise Refused(args.get("Code"), "the test said no", affected=[target], subject="Test")


@method("Test_System", "Quick")
def _quick(ctx: Ctx, target: Instance | None, args: Args) -> int:
    if args.get("Code"):
        raise Refused(args.get("Code"), "quick no")
    ctx.output("Echo", "fine")
    return 0


@method("Test_System", "Make")
def _make(ctx: Ctx, target: Instance | None, args: Args) -> int:
    assert target is None
    ctx.create(ctx.new("Test_System", CreationClassName="Test_System", Name=args.get("Name")))
    return 0


def _fill(host: Host) -> Session:
    session = host.session()
    with session._txn(write=True) as txn:
        def make(cls: str, **values: Any) -> Instance:
            resolved = host.registry.get(cls)
            assert resolved is not None
            return txn.create(Instance(resolved, values))

        make("Test_Setting", InstanceID="Microsoft:AAA\\1", Count=3, Flag=True, Size=10,
             ElementName="First", Parent=SYSTEM, Names=["x"])
        make("Test_SubSetting", InstanceID="Microsoft:AAA\\2", Count=4, Flag=False,
             ElementName="Second", Extra="e")
        make("Test_Setting", InstanceID="Microsoft:BBB\\1", Count=5, ElementName="Third")
        make("Test_Other", InstanceID="Microsoft:AAA\\other", Count=3)
        make("Test_System", CreationClassName="Test_System", Name="S1", EnabledState=2,
             ElementName="sys")
        make("Test_System", CreationClassName="Test_System", Name="S2", EnabledState=3,
             Boss=SYSTEM)
        make("Test_Link", Antecedent=SYSTEM,
             Dependent='\\\\HV-WS2022\\root\\virtualization\\v2:Test_Setting.InstanceID='
                       '"Microsoft:AAA\\\\1"')
        make("Test_Link", Antecedent=SYSTEM.replace("S1", "S2"),
             Dependent='\\\\HV-WS2022\\root\\virtualization\\v2:Test_SubSetting.InstanceID='
                       '"Microsoft:AAA\\\\2"')
    return session


def _ids(instances: list[Instance]) -> list[str]:
    return [i["InstanceID"] for i in instances]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("", ["Microsoft:AAA\\1", "Microsoft:AAA\\2", "Microsoft:BBB\\1"]),
        ("WHERE instanceid LIKE 'microsoft:aaa%'", ["Microsoft:AAA\\1", "Microsoft:AAA\\2"]),
        ("WHERE InstanceID LIKE '%\\\\2'", ["Microsoft:AAA\\2"]),
        ("WHERE InstanceID = 'MICROSOFT:BBB\\\\1'", ["Microsoft:BBB\\1"]),
        ("WHERE Count = '4'", ["Microsoft:AAA\\2"]),
        ("WHERE Count > 3 AND NOT Count >= 5", ["Microsoft:AAA\\2"]),
        ("WHERE Flag = 'True'", ["Microsoft:AAA\\1"]),
        ("WHERE Flag = FALSE", ["Microsoft:AAA\\2"]),
        ("WHERE Flag <> TRUE", ["Microsoft:AAA\\2"]),
        ("WHERE Flag IS NULL", ["Microsoft:BBB\\1"]),
        ("WHERE Size = NULL", ["Microsoft:AAA\\2", "Microsoft:BBB\\1"]),
        ("WHERE ElementName = 'first' OR (Count = 5 AND ElementName <> 'x')",
         ["Microsoft:AAA\\1", "Microsoft:BBB\\1"]),
        ("WHERE __CLASS = 'Test_SubSetting'", ["Microsoft:AAA\\2"]),
        ("WHERE __THIS ISA 'Test_SubSetting'", ["Microsoft:AAA\\2"]),
        ("WHERE ElementName LIKE 'S_cond'", ["Microsoft:AAA\\2"]),
        ("WHERE Parent = '" + SYSTEM.replace("\\", "\\\\") + "'", ["Microsoft:AAA\\1"]),
        ("WHERE __PATH = '" + (
            '\\\\HV-WS2022\\root\\virtualization\\v2:Test_Setting.InstanceID="MICROSOFT:BBB\\\\1"'
        ).replace("\\", "\\\\") + "'", ["Microsoft:BBB\\1"]),
    ],
)
def test_select_semantics(synthetic_host: Host, where: str, expected: list[str]) -> None:
    session = _fill(synthetic_host)
    assert _ids(session.query(f"SELECT * FROM test_setting {where}")) == expected


def test_polymorphic_from_and_projection_keeps_keys(synthetic_host: Host) -> None:
    session = _fill(synthetic_host)
    rows = session.query(
        "SELECT ElementName FROM CIM_SettingData WHERE InstanceID LIKE 'Microsoft:AAA%'")
    assert [r.class_name for r in rows] == ["Test_Setting", "Test_SubSetting", "Test_Other"]
    assert rows[0].assigned() == {"InstanceID": "Microsoft:AAA\\1", "ElementName": "First"}
    assert str(rows[0].path).endswith('Test_Setting.InstanceID="Microsoft:AAA\\\\1"')
    systems = session.query("SELECT * FROM Test_System WHERE Boss = '" +
                            SYSTEM.upper().replace("\\", "\\\\") + "'")
    assert [s["Name"] for s in systems] == ["S2"]


@pytest.mark.parametrize(
    ("query", "hresult"),
    [
        ("SELECT * FROM Nope", WBEM_E_INVALID_CLASS),
        ("SELECT Bogus FROM Test_Setting", WBEM_E_INVALID_QUERY),
        ("SELECT * FROM Test_Setting WHERE Bogus = 1", WBEM_E_INVALID_QUERY),
        ("SELECT * FROM Test_Setting WHERE Extra = 'e'", WBEM_E_INVALID_QUERY),  # subclass only
        ("SELECT * FROM Test_Setting WHERE Names = 'x'", WBEM_E_INVALID_QUERY),  # array
        ("SELECT * FROM Test_Setting WHERE Count = 'many'", WBEM_E_INVALID_QUERY),
        ("SELECT * FROM Test_Setting WHERE Flag = 'perhaps'", WBEM_E_INVALID_QUERY),
        ("SELECT * FROM __InstanceCreationEvent WITHIN 2", WBEM_E_NOT_SUPPORTED),
    ],
)
def test_query_errors(synthetic_host: Host, query: str, hresult: int) -> None:
    session = _fill(synthetic_host)
    with pytest.raises(CimError) as info:
        session.query(query)
    assert info.value.hresult == hresult


def test_unknown_namespace(synthetic_host: Host) -> None:
    with pytest.raises(CimError) as info:
        synthetic_host.session().query("SELECT * FROM Test_Setting", "root/nowhere")
    assert info.value.hresult == WBEM_E_INVALID_NAMESPACE


def test_get_by_any_spelling_and_its_errors(synthetic_host: Host) -> None:
    session = _fill(synthetic_host)
    assert session.get(SYSTEM.replace("\\", "/").lower())["Name"] == "S1"
    for path, hresult in [
        (SYSTEM.replace("S1", "S9"), WBEM_E_NOT_FOUND),
        ("root\\virtualization\\v2:Nope.A=\"1\"", WBEM_E_INVALID_CLASS),
        ("root\\virtualization\\v2:Test_System", WBEM_E_INVALID_PARAMETER),
    ]:
        with pytest.raises(CimError) as info:
            session.get(path)
        assert info.value.hresult == hresult


def test_associators_and_references(synthetic_host: Host) -> None:
    session = _fill(synthetic_host)
    assert _ids(session.associators(SYSTEM)) == ["Microsoft:AAA\\1"]
    assert _ids(session.query("ASSOCIATORS OF {" + SYSTEM + "} WHERE ResultClass = "
                              "CIM_SettingData AssocClass = Test_Link Role = Antecedent")) == [
        "Microsoft:AAA\\1"]
    assert session.associators(SYSTEM, role="Dependent") == []
    assert session.associators(SYSTEM, result_class="Test_SubSetting") == []
    setting = ('\\\\HV-WS2022\\root\\virtualization\\v2:Test_SubSetting.'
               'InstanceID="Microsoft:AAA\\\\2"')
    assert [s["Name"] for s in session.associators(setting, result_role="Antecedent")] == ["S2"]
    links = session.references(setting)
    assert [link.class_name for link in links] == ["Test_Link"]
    with pytest.raises(CimError) as info:
        session.associators(SYSTEM.replace("S1", "S9"))
    assert info.value.hresult == WBEM_E_NOT_FOUND


def test_deleting_an_end_deletes_its_associations(synthetic_host: Host) -> None:
    session = _fill(synthetic_host)
    with session._txn(write=True) as txn:
        assert txn.delete(SYSTEM.upper())
    assert [link["Dependent"] for link in session.query("SELECT * FROM Test_Link")] == [
        '\\\\HV-WS2022\\root\\virtualization\\v2:Test_SubSetting.InstanceID="Microsoft:AAA\\\\2"']


def test_method_with_job_and_outputs(synthetic_host: Host) -> None:
    session = _fill(synthetic_host)
    result = session.invoke(SYSTEM, "DoIt", Text="hello", count="2")
    assert result.return_value == 4096
    assert result["echo"] == "hello"
    job = session.get(result.job)
    assert job["JobState"] == jobs.COMPLETED and job["ErrorCode"] == 0
    made = session.query("SELECT * FROM Test_Setting WHERE InstanceID = 'made:hello'")
    assert made[0]["Count"] == 42  # the continuation ran
    affected = session.query("SELECT * FROM Msvm_AffectedJobElement")
    assert [a["AffectedElement"] for a in affected] == [SYSTEM]


def test_jobs_report_running_for_job_polls_then_finish(synthetic_host: Host) -> None:
    synthetic_host.update_settings(job_polls=2)
    session = _fill(synthetic_host)
    result = session.invoke(SYSTEM, "DoIt", Text="slow")
    states = [session.get(result.job)["JobState"] for _ in range(4)]
    assert states == [4, 4, 7, 7]
    assert session.counters.total.job_polls == 4
    killed = session.invoke(SYSTEM, "DoIt", Text="killme")
    assert session.invoke(killed.job, "RequestStateChange", RequestedState=5).return_value == 0
    assert session.get(killed.job)["JobState"] == jobs.KILLED
    assert session.query("SELECT * FROM Test_Setting WHERE InstanceID = 'made:killme'") == []
    assert session.invoke(killed.job, "RequestStateChange", RequestedState=5).return_value == \
        32775


def test_refusal_rolls_back_and_fails_as_a_job(synthetic_host: Host) -> None:
    session = _fill(synthetic_host)
    result = session.invoke(SYSTEM, "Fail", Code=32773)
    assert result.return_value == 4096
    job = session.get(result.job)
    assert job["JobState"] == 10 and job["ErrorCode"] == 32773
    assert "the test said no" in job["ErrorDescription"]
    assert session.query("SELECT * FROM Test_Setting WHERE InstanceID = 'left-behind'") == []
    errors = session.invoke(result.job, "GetErrorEx")["Errors"]
    assert len(errors) == 1 and "32773" in errors[0]
    # Without a Job output, the same refusal is the ReturnValue itself.
    quick = session.invoke(SYSTEM, "Quick", Code=32775)
    assert (quick.return_value, quick["Echo"]) == (32775, None)


@pytest.mark.parametrize(
    ("target", "name", "inputs", "hresult"),
    [
        (SYSTEM, "Nope", {}, WBEM_E_INVALID_METHOD),
        (SYSTEM, "DoIt", {"Bogus": 1}, WBEM_E_INVALID_PARAMETER),
        (SYSTEM, "DoIt", {"Echo": "x"}, WBEM_E_INVALID_PARAMETER),  # an output
        (SYSTEM, "DoIt", {"Count": "lots"}, WBEM_E_TYPE_MISMATCH),
        (SYSTEM, "Unserved", {}, WBEM_E_NOT_SUPPORTED),
        (SYSTEM.replace("S1", "S9"), "Quick", {}, WBEM_E_NOT_FOUND),
        ("root\\virtualization\\v2:Test_System", "Quick", {}, WBEM_E_INVALID_METHOD),
    ],
)
def test_method_strictness(synthetic_host: Host, target: str, name: str,
                           inputs: dict[str, Any], hresult: int) -> None:
    session = _fill(synthetic_host)
    with pytest.raises(CimError) as info:
        session.invoke(target, name, **inputs)
    assert info.value.hresult == hresult


def test_static_method_on_the_class(synthetic_host: Host) -> None:
    session = _fill(synthetic_host)
    assert session.invoke("root\\virtualization\\v2:Test_System", "Make",
                          Name="S3").return_value == 0
    assert session.get(SYSTEM.replace("S1", "S3"))["Name"] == "S3"


def test_round_trips_are_counted_per_operation(synthetic_host: Host,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    session = _fill(synthetic_host)
    slept: list[float] = []
    monkeypatch.setattr("hyperv_emulator.session.time.sleep", slept.append)
    session.latency_ms = 5
    with session.operation("outer") as outer:
        session.query("SELECT * FROM Test_Setting")
        with session.operation("inner"):
            session.get(SYSTEM)
            session.invoke(SYSTEM, "Quick")
    snapshot = session.counters.snapshot()
    assert snapshot["inner"] == {"queries": 0, "gets": 1, "calls": 1, "job_polls": 0, "total": 2}
    assert outer.total == 3 and snapshot["total"]["total"] == 3
    assert slept == [0.005, 0.005, 0.005]
    session.counters.reset()
    assert session.round_trips.total == 0
