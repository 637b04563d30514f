"""Cinder connection infos -> volume targets, and every refusal naming its key."""

from __future__ import annotations

from typing import Any

import pytest

from nova_hyperv.hyperv.volumes import (
    FcVolume,
    IscsiPath,
    IscsiVolume,
    SmbVolume,
    VolumeConfigError,
    parse_connection,
)

IQN = "iqn.2010-10.org.openstack:volume-1"


def iscsi(**data: Any) -> dict[str, Any]:
    return {"driver_volume_type": "iscsi",
            "data": {"target_portal": "10.0.0.5:3260", "target_iqn": IQN, "target_lun": 1,
                     **data}}


def test_iscsi_single_path() -> None:
    assert parse_connection(iscsi()) == IscsiVolume((IscsiPath("10.0.0.5", 3260, IQN, 1),))


def test_iscsi_default_port_ipv6_portal_and_text_lun() -> None:
    target = parse_connection(iscsi(target_portal="[fd00::5]", target_lun="7"))
    assert target.paths == (IscsiPath("fd00::5", 3260, IQN, 7),)  # type: ignore[union-attr]


def test_iscsi_chap() -> None:
    target = parse_connection(iscsi(auth_method="CHAP", auth_username="u",
                                    auth_password="p"))
    assert target.chap == ("u", "p")  # type: ignore[union-attr]


def test_iscsi_multipath_paths_only_when_multipath() -> None:
    info = iscsi(target_portals=["10.0.0.5:3260", "10.0.1.5:3261"],
                 target_iqns=[IQN, IQN], target_luns=[1, 1])
    assert len(parse_connection(info).paths) == 1  # type: ignore[union-attr]
    paths = parse_connection(info, multipath=True).paths  # type: ignore[union-attr]
    assert paths == (IscsiPath("10.0.0.5", 3260, IQN, 1), IscsiPath("10.0.1.5", 3261, IQN, 1))


def test_fc_one_or_many_wwpns() -> None:
    assert parse_connection({"driver_volume_type": "fibre_channel", "data": {
        "target_wwn": "50:0A:09:81:88:AD:7A:33", "target_lun": 2}}) == FcVolume(
        ("500a098188ad7a33",), 2)
    assert parse_connection({"driver_volume_type": "fibre_channel", "data": {
        "target_wwn": ["500a098188ad7a33", "500a098188ad7a34"], "target_lun": 0}}
    ).target_wwpns == ("500a098188ad7a33", "500a098188ad7a34")  # type: ignore[union-attr]


def test_smb_forward_slashes_credentials_and_format_from_the_name() -> None:
    target = parse_connection({"driver_volume_type": "smbfs", "data": {
        "export": "//filer/volumes/", "name": "volume-1.vhdx",
        "options": "-o username=cinder,password=s3cret"}})
    assert target == SmbVolume("\\\\filer\\volumes", "volume-1.vhdx", "vhdx", "cinder",
                               "s3cret")
    assert target.path == "\\\\filer\\volumes\\volume-1.vhdx"  # type: ignore[union-attr]


def test_smb_guest_means_no_credentials() -> None:
    target = parse_connection({"driver_volume_type": "smbfs", "data": {
        "export": "\\\\filer\\v", "name": "a.vhd", "options": "-o username=guest"}})
    assert target.username is None  # type: ignore[union-attr]


@pytest.mark.parametrize(("info", "key"), [
    ({"driver_volume_type": "rbd", "data": {}}, "driver_volume_type"),
    ({"driver_volume_type": "iscsi", "data": None}, "data"),
    (iscsi(target_portal="10.0.0.5:99999"), "target_portal"),
    (iscsi(target_portal=None), "target_portal"),
    (iscsi(target_iqn=""), "target_iqn"),
    (iscsi(target_lun=-1), "target_lun"),
    (iscsi(target_lun=255), "target_lun"),
    (iscsi(target_lun=True), "target_lun"),
    (iscsi(auth_method="kerberos"), "auth_method"),
    (iscsi(auth_method="CHAP", auth_username="u"), "auth_password"),
    ({"driver_volume_type": "fibre_channel", "data": {"target_wwn": "xyz",
                                                      "target_lun": 1}}, "target_wwn"),
    ({"driver_volume_type": "fibre_channel", "data": {"target_wwn": "500a098188ad7a33"}},
     "target_lun"),
    ({"driver_volume_type": "smbfs", "data": {"export": "filer:/v", "name": "a.vhdx"}},
     "export"),
    ({"driver_volume_type": "smbfs", "data": {"export": "//filer/v", "name": "../a.vhdx"}},
     "name"),
    ({"driver_volume_type": "smbfs", "data": {"export": "//filer/v", "name": "a.raw"}},
     "format"),
])
def test_unusable_connection_infos_name_the_key(info: dict[str, Any], key: str) -> None:
    with pytest.raises(VolumeConfigError) as caught:
        parse_connection(info)
    assert caught.value.key == key
    assert f"{key} = " in str(caught.value) and "allowed: " in str(caught.value)


def test_multipath_lists_of_different_lengths_are_refused() -> None:
    info = iscsi(target_portals=["10.0.0.5"], target_iqns=[IQN, IQN], target_luns=[1, 1])
    with pytest.raises(VolumeConfigError, match="same length"):
        parse_connection(info, multipath=True)
