"""Object paths: every spelling clients send parses to the same object."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperv_emulator.errors import WBEM_E_INVALID_OBJECT_PATH, CimError
from hyperv_emulator.paths import ObjectPath, parse_path, same_path

RASD = (
    '\\\\HOST\\root\\virtualization\\v2:Msvm_ResourceAllocationSettingData.'
    'InstanceID="Microsoft:VM\\\\83F8638B\\\\0"'
)


def test_canonical_form_sorts_keys_and_doubles_backslashes() -> None:
    path = ObjectPath.build(
        "root/virtualization/v2", "Msvm_ComputerSystem",
        {"Name": "ABC", "CreationClassName": "Msvm_ComputerSystem"}, "HOST",
    )
    assert str(path) == (
        '\\\\HOST\\root\\virtualization\\v2:Msvm_ComputerSystem.'
        'CreationClassName="Msvm_ComputerSystem",Name="ABC"'
    )
    rasd = ObjectPath.build("root\\virtualization\\v2", "Msvm_ResourceAllocationSettingData",
                            {"InstanceID": "Microsoft:VM\\83F8638B\\0"}, "HOST")
    assert str(rasd) == RASD
    assert rasd.relpath == (
        'Msvm_ResourceAllocationSettingData.InstanceID="Microsoft:VM\\\\83F8638B\\\\0"'
    )


def test_parse_reads_back_the_single_backslash_value() -> None:
    path = parse_path(RASD)
    assert path.server == "HOST"
    assert path.namespace == "root\\virtualization\\v2"
    assert path.key_value("instanceid") == "Microsoft:VM\\83F8638B\\0"
    assert str(path) == RASD


@pytest.mark.parametrize(
    "spelling",
    [
        RASD,
        RASD.upper(),
        RASD.replace("root\\virtualization\\v2", "Root\\Virtualization\\V2"),
        # os-win turns every backslash into a slash before fetching by path
        RASD.replace("\\", "/"),
        # a client that did not double the backslashes inside the value
        RASD.replace("\\\\83F8638B\\\\0", "\\83F8638B\\0"),
        "winmgmts:" + RASD.replace("\\", "/"),
    ],
)
def test_spellings_name_the_same_object(spelling: str) -> None:
    assert parse_path(spelling).key() == parse_path(RASD).key()
    assert same_path(spelling, RASD)


def test_slash_style_keeps_single_slashes_in_values() -> None:
    path = parse_path('//./root/cimv2:Win32_LogicalDisk.DeviceID="C:/x"')
    assert path.key_value("DeviceID") == "C:/x"
    assert path.server == "."


def test_numbers_booleans_singletons_and_classes() -> None:
    path = parse_path("root\\cimv2:Win32_X.Id=3,On=TRUE")
    assert path.key_value("id") == 3 and path.key_value("on") is True
    assert str(path) == "root\\cimv2:Win32_X.Id=3,On=TRUE"
    singleton = parse_path("root\\cimv2:Win32_WMISetting=@")
    assert singleton.singleton and str(singleton) == "root\\cimv2:Win32_WMISetting=@"
    cls = parse_path("\\\\.\\root\\cimv2:Win32_Processor")
    assert cls.is_class and cls.class_name == "Win32_Processor"


def test_quoted_values_may_hold_commas_quotes_and_paths() -> None:
    inner = RASD
    outer = ObjectPath.build("root\\virtualization\\v2", "Msvm_Link",
                             {"A": inner, "B": 'say "hi", ok'}, "HOST")
    back = parse_path(str(outer))
    assert back.key_value("A") == inner
    assert back.key_value("B") == 'say "hi", ok'
    assert back.key(["A"]) == parse_path(str(outer).upper()).key(["A"])


@pytest.mark.parametrize(
    "bad",
    ["", "   ", "\\\\HOST", "Msvm_X.", 'Msvm_X.Name', 'Msvm_X.Name="open', "Msvm X",
     "Msvm_X.Name=bare", 'Msvm_X.A="1" B="2"'],
)
def test_malformed_paths_are_invalid_object_path(bad: str) -> None:
    with pytest.raises(CimError) as info:
        parse_path(bad)
    assert info.value.hresult == WBEM_E_INVALID_OBJECT_PATH


_values = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=20)


@settings(max_examples=80, deadline=None)
@given(a=_values, b=_values)
def test_format_then_parse_is_identity(a: str, b: str) -> None:
    path = ObjectPath.build("root\\virtualization\\v2", "Msvm_X", {"B": b, "A": a}, "HOST")
    assert parse_path(str(path)) == path
