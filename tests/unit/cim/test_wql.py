"""Quoting untrusted text into WQL, and reading keys out of object paths."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperv_emulator import wql as engine_wql
from hyperv_emulator.paths import ObjectPath as EnginePath
from nova_hyperv.cim import parse_path, quote
from nova_hyperv.cim.wmi import pymi_query_text


def _literal_value(literal: str) -> str:
    parsed = engine_wql.parse(f"SELECT * FROM X WHERE Name = {literal}")
    return parsed.where.right.value  # type: ignore[union-attr]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_quote_round_trips_through_a_wql_parser(text: str) -> None:
    assert _literal_value(quote(text)) == text


def test_quote_prefers_the_delimiter_that_needs_no_escape() -> None:
    assert quote("it's") == '"it\'s"'
    assert quote('say "x"') == "'say \"x\"'"
    assert quote("a\\b") == "'a\\\\b'"
    assert quote(5) == "'5'"


def test_pymi_text_halves_backslashes_and_refuses_escaped_quotes() -> None:
    assert pymi_query_text("Name = 'a\\\\b'") == "Name = 'a\\b'"
    assert pymi_query_text(r"LIKE '%\\Default'") == r"LIKE '%\Default'"
    with pytest.raises(Exception, match="cannot send"):
        pymi_query_text(quote("it's \"both\""))


def test_parse_canonical_path() -> None:
    text = ('\\\\HOST\\root\\virtualization\\v2:Msvm_ResourceAllocationSettingData.'
            'InstanceID="Microsoft:ABC\\\\83F8\\\\0\\\\0\\\\D"')
    path = parse_path(text)
    assert (path.server, path.namespace, path.class_name) == (
        "HOST", "root\\virtualization\\v2", "Msvm_ResourceAllocationSettingData")
    assert path.key("instanceid") == "Microsoft:ABC\\83F8\\0\\0\\D"


def test_parse_association_path_gives_both_ends() -> None:
    node = EnginePath.build("root/virtualization/v2", "Msvm_NumaNode",
                            [("CreationClassName", "Msvm_NumaNode"),
                             ("NodeID", "Microsoft:PhysicalNode\\0"),
                             ("SystemCreationClassName", "Msvm_ComputerSystem"),
                             ("SystemName", "HOST")], "HOST")
    memory = EnginePath.build("root/virtualization/v2", "Msvm_Memory",
                              [("CreationClassName", "Msvm_Memory"),
                               ("DeviceID", 'odd "id"\\0'),
                               ("SystemCreationClassName", "Msvm_ComputerSystem"),
                               ("SystemName", "HOST")], "HOST")
    link = EnginePath.build("root/virtualization/v2", "Msvm_HostedDependency",
                            [("Antecedent", str(node)), ("Dependent", str(memory))], "HOST")
    parsed = parse_path(str(link))
    assert parse_path(parsed.key("Antecedent") or "").key("NodeID") == \
        "Microsoft:PhysicalNode\\0"
    assert parse_path(parsed.key("Dependent") or "").key("DeviceID") == 'odd "id"\\0'


def test_parse_other_spellings() -> None:
    assert parse_path("root/cimv2:Win32_OperatingSystem=@").keys == {}
    assert parse_path("Msvm_Thing.Key=5,Other='x'").keys == {"Key": "5", "Other": "x"}
    cls = parse_path("root/Microsoft/Windows/Hgs:MSFT_HgsClientConfiguration")
    assert (cls.namespace, cls.class_name, cls.keys) == (
        "root\\Microsoft\\Windows\\Hgs", "MSFT_HgsClientConfiguration", {})
    for bad in ("", "not a path", 'Cls.Key="open', "Cls.Key", "Cls;x"):
        with pytest.raises(ValueError):
            parse_path(bad)
