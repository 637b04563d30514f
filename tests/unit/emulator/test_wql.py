"""WQL parsing: the statement shapes clients send, and the errors WMI gives."""

from __future__ import annotations

import pytest

from hyperv_emulator import wql
from hyperv_emulator.errors import WBEM_E_INVALID_QUERY, CimError


def test_select_with_nested_boolean_logic() -> None:
    query = wql.parse(
        "select a, B from Cim_ResourceAllocationSettingData where "
        "(ResourceSubType='x' OR ResourceSubType = \"y\") and not Count <> 3"
    )
    assert isinstance(query, wql.Select)
    assert query.class_name == "Cim_ResourceAllocationSettingData"
    assert query.props == ("a", "B")
    assert isinstance(query.where, wql.And)
    assert isinstance(query.where.left, wql.Or)
    assert query.where.right == wql.Not(
        wql.Compare("<>", wql.Name(("Count",)), wql.Literal(3)))


def test_string_escapes_follow_pymi_backslash_doubling() -> None:
    # os-win writes LIKE '%\Default'; PyMI doubles the backslash before sending.
    sent = "SELECT * FROM X WHERE InstanceID LIKE '%\\Default'".replace("\\", "\\\\")
    query = wql.parse(sent)
    assert query.where == wql.Like(wql.Name(("InstanceID",)), "%\\Default")
    # A single backslash before an ordinary character stays literal.
    assert wql.parse("SELECT * FROM X WHERE A = 'a\\b'").where.right.value == "a\\b"
    assert wql.parse("SELECT * FROM X WHERE A = 'it\\'s'").where.right.value == "it's"
    assert wql.parse("SELECT * FROM X WHERE A = 'it''s'").where.right.value == "it's"


def test_operands_literals_and_unary_forms() -> None:
    where = wql.parse("SELECT * FROM X WHERE 3 < Count AND A != NULL AND B IS NOT NULL "
                      "AND C NOT LIKE 'a%' AND D ISA 'Msvm_Y' AND E = TRUE AND F = -2").where
    assert "Compare(op='<'" in repr(where) and "Compare(op='<>'" in repr(where)
    assert "IsNull(name=Name(parts=('B',)), negated=True)" in repr(where)
    assert "Like(name=Name(parts=('C',)), pattern='a%', negated=True)" in repr(where)
    assert "Isa(name=Name(parts=('D',)), class_name='Msvm_Y')" in repr(where)
    assert "Literal(value=True)" in repr(where) and "Literal(value=-2)" in repr(where)


def test_event_query_with_dotted_names() -> None:
    query = wql.parse(
        "SELECT EnabledState, TargetInstance FROM __InstanceModificationEvent WITHIN 60 "
        "WHERE TargetInstance ISA 'Msvm_ComputerSystem' AND "
        "TargetInstance.EnabledState != PreviousInstance.EnabledState"
    )
    assert query.within == 60.0
    assert wql.Name(("TargetInstance", "EnabledState")) in wql.names_in(query.where)


def test_associators_and_references() -> None:
    query = wql.parse('ASSOCIATORS OF {Msvm_X.Name="a,b"} WHERE AssocClass = Msvm_L '
                      "ResultClass='Msvm_Y' Role=Antecedent ResultRole = Dependent KeysOnly")
    assert query == wql.Associators(query.text, 'Msvm_X.Name="a,b"', "Msvm_L", "Msvm_Y",
                                    "Antecedent", "Dependent", True, False)
    refs = wql.parse("references of {Msvm_X.Name=\"a\"} where resultclass = Msvm_L")
    assert isinstance(refs, wql.References) and refs.result_class == "Msvm_L"


@pytest.mark.parametrize(
    "bad",
    [
        "", "DELETE FROM X", "SELECT FROM X", "SELECT * X", "SELECT * FROM X WHERE",
        "SELECT * FROM X WHERE (A = 1", "SELECT * FROM X WHERE A", "SELECT * FROM X WHERE 1 = 2",
        "SELECT * FROM X WHERE A LIKE 3", "SELECT * FROM X WHERE A = 'open",
        "SELECT * FROM X trailing", "ASSOCIATORS OF Msvm_X.A=1",
        "ASSOCIATORS OF {Msvm_X.A=1} WHERE Bogus = Y", "SELECT * FROM X WHERE A ; B",
    ],
)
def test_malformed_queries_are_invalid_query(bad: str) -> None:
    with pytest.raises(CimError) as info:
        wql.parse(bad)
    assert info.value.hresult == WBEM_E_INVALID_QUERY


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("Microsoft:ABC%", "microsoft:abc\\x", True),
        ("%\\Default", "Microsoft:Definition\\X\\Default", True),
        ("%\\Default", "Microsoft:Definition\\X\\Minimum", False),
        ("a_c", "abc", True),
        ("a_c", "abbc", False),
        ("[%]%", "%off", True),
        ("[%]%", "off", False),
        ("[a-c]x", "bx", True),
        ("[^a-c]x", "bx", False),
        ("a.b", "axb", False),
        ("", "", True),
    ],
)
def test_like_semantics(pattern: str, text: str, matches: bool) -> None:
    assert bool(wql.like_regex(pattern).fullmatch(text)) is matches


def test_like_prefix_feeds_indexes() -> None:
    assert wql.like_prefix("Microsoft:ABC%") == "Microsoft:ABC"
    assert wql.like_prefix("%\\Default") is None
    assert wql.like_prefix("a_b%") == "a"
