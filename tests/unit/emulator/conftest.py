"""Fixtures: a small made-up schema (`reg`, `synthetic_host`) to test the engine on its own,
and `client`, a driver-like client of a real emulated Hyper-V host for the provider tests.
After every test, whatever serial endpoints it left served are closed, and no serving
thread may outlive that (a leak fails the test)."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.unit.emulator.hvclient import Client

from hyperv_emulator import serial, store
from hyperv_emulator.host import Host, init_host, open_host
from hyperv_emulator.profiles import PRESETS, HostDisk, profile_to_mapping
from hyperv_emulator.schema.model import (
    IN,
    IN_REF,
    JOB,
    KEY,
    OUT,
    REF,
    ClassDef,
    Method,
    P,
    Prop,
    Registry,
)

NS = "root/virtualization/v2"


def _typed(*specs: str) -> tuple[Prop, ...]:
    """Properties from "Name:type" ("Name:type[]" for an array)."""
    props = []
    for spec in specs:
        name, cim_type = spec.split(":")
        props.append(P(name, cim_type.removesuffix("[]"), array=cim_type.endswith("[]")))
    return tuple(props)

CLASSES = [
    ClassDef(
        "CIM_ManagedElement", None,
        props=(P("InstanceID", "string"), P("Caption", "string"), P("Description", "string"),
               P("ElementName", "string")),
        abstract=True,
    ),
    ClassDef("CIM_SettingData", "CIM_ManagedElement", props=(KEY("InstanceID"),), abstract=True),
    ClassDef(
        "Test_Setting", "CIM_SettingData",
        props=(
            P("Count", "uint16"), P("Flag", "boolean"), P("Size", "uint64"),
            P("Names", "string", array=True), P("Parent", "string"), P("When", "datetime"),
            P("Ratio", "real64"), P("Letter", "char16"), P("Level", "sint8"),
        ),
    ),
    ClassDef("Test_SubSetting", "Test_Setting", props=(P("Extra", "string"),)),
    ClassDef("Test_Other", "CIM_SettingData", props=(P("Count", "uint32"),)),
    ClassDef("CIM_ConcreteJob", "CIM_ManagedElement",
             props=(KEY("InstanceID"), P("JobState", "uint16")), abstract=True),
    ClassDef(
        "Msvm_ConcreteJob", "CIM_ConcreteJob",
        props=_typed(
            "JobType:uint16", "JobStatus:string", "ErrorCode:uint16", "ErrorDescription:string",
            "ErrorSummaryDescription:string", "PercentComplete:uint16", "Cancellable:boolean",
            "DeleteOnCompletion:boolean", "TimeSubmitted:datetime", "StartTime:datetime",
            "ElapsedTime:datetime", "TimeOfLastStateChange:datetime",
            "TimeBeforeRemoval:datetime", "LocalOrUtcTime:uint16", "HealthState:uint16",
            "OperationalStatus:uint16[]", "StatusDescriptions:string[]",
        ),
        methods=(Method("RequestStateChange", (IN("RequestedState", "uint16"),)),
                 Method("GetErrorEx", (OUT("Errors", "string", array=True),))),
    ),
    ClassDef("Msvm_Error", None, props=_typed(
        "ErrorType:uint16", "OtherErrorType:string", "OwningEntity:string", "MessageID:string",
        "Message:string", "PerceivedSeverity:uint16", "ProbableCause:uint16",
        "ProbableCauseDescription:string", "ErrorSource:string", "ErrorSourceFormat:uint16",
        "CIMStatusCode:uint32", "CIMStatusCodeDescription:string", "MessageArguments:string[]",
        "RecommendedActions:string[]",
    )),
    ClassDef(
        "Msvm_AffectedJobElement", None,
        props=(REF("AffectedElement", "CIM_ManagedElement", key=True),
               REF("AffectingElement", "CIM_ConcreteJob", key=True),
               P("ElementEffects", "uint16", array=True)),
        association=True,
    ),
    ClassDef(
        "Test_System", "CIM_ManagedElement",
        props=(KEY("CreationClassName"), KEY("Name"), P("EnabledState", "uint16"),
               P("Boss", "ref", ref_class="Test_System")),
        methods=(
            Method("DoIt", (IN("Text", "string"), IN("Count", "uint16"),
                            IN_REF("Target", "Test_Setting"), OUT("Echo", "string"), JOB)),
            Method("Fail", (IN("Code", "uint32"), JOB)),
            Method("Quick", (IN("Code", "uint32"), OUT("Echo", "string"))),
            Method("Unserved", ()),
            Method("Make", (IN("Name", "string"),), static=True),
        ),
    ),
    ClassDef(
        "Test_Link", None,
        props=(REF("Antecedent", "Test_System", key=True),
               REF("Dependent", "CIM_SettingData", key=True)),
        association=True,
    ),
]


def registry() -> Registry:
    return Registry(CLASSES, build=20348)


def make_host(path: Path) -> Host:
    """An empty host file on the synthetic schema (no Hyper-V seeding)."""
    conn = store.connect(path)
    store.create_schema(conn)
    conn.execute("INSERT INTO meta VALUES ('profile', ?)",
                 (json.dumps(profile_to_mapping(PRESETS["ws2022"])),))
    conn.execute("INSERT INTO meta VALUES ('settings', '{}')")
    conn.close()
    return open_host(path, registry=registry())


@pytest.fixture
def reg() -> Registry:
    return registry()


@pytest.fixture
def synthetic_host(tmp_path: Path) -> Host:
    return make_host(tmp_path / "host.db")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    host = init_host(tmp_path / "hv.db", PRESETS["ws2022"].replace(
        disks=(HostDisk(3, 10 * 2**30, "SER-3"),)))
    with host.session() as session:
        yield Client(session)


@pytest.fixture(autouse=True)
def _no_serial_leftovers() -> Iterator[None]:
    yield
    serial.stop_serving()
    left = [t.name for t in threading.enumerate() if t.name.startswith("hyperv-emulator-serial")]
    assert left == [], f"serving threads left behind: {left}"


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A folder whose socket paths fit a socket address (plain clients can connect)."""
    folder = Path(tempfile.mkdtemp(prefix="hv", dir="/tmp"))
    yield folder
    serial.stop_serving()
    shutil.rmtree(folder, ignore_errors=True)
