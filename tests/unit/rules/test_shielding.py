"""Shielded VMs and vTPM: requirements, PDK reference precedence, FSK substitutions."""

from __future__ import annotations

import pytest

from nova_hyperv.rules import Image, RuleViolation
from nova_hyperv.rules.shielding import vtpm_property

from .builders import GEN2, make_host, plan

GUARDED = make_host(guarded=True)
READY = {**GEN2, "os_type": "windows", "os_secure_boot": "required", "img_pdk_reference": "img"}


def test_shielded_vm_gets_vtpm_shielding_and_the_image_pdk() -> None:
    tpm = plan(GUARDED, props={**READY, "os_shielded_vm": "required"}, hostname="web1").vtpm
    assert (tpm.enabled, tpm.shielded, tpm.pdk_reference) == (True, True, "img")
    assert tpm.fsk_substitutions == (("@@ComputerName@@", "web1"),)


def test_os_vtpm_is_encryption_only() -> None:
    tpm = plan(GUARDED, props={**READY, "os_vtpm": "required"}).vtpm
    assert (tpm.enabled, tpm.shielded) == (True, False)


def test_shielded_wins_when_both_are_asked_for() -> None:
    tpm = plan(GUARDED, props={**READY, "os_vtpm": "required", "os_shielded_vm": "required"}).vtpm
    assert tpm.shielded


def test_instance_metadata_pdk_reference_wins_over_the_image() -> None:
    tpm = plan(GUARDED, props={**READY, "os_vtpm": "required"},
               metadata={"img_pdk_reference": "tenant"}).vtpm
    assert tpm.pdk_reference == "tenant"


def test_pdk_reference_from_metadata_alone() -> None:
    props = {k: v for k, v in READY.items() if k != "img_pdk_reference"}
    tpm = plan(GUARDED, props={**props, "os_vtpm": "required"},
               metadata={"img_pdk_reference": "tenant"}).vtpm
    assert tpm.pdk_reference == "tenant"


def test_fsk_metadata_becomes_sorted_substitutions() -> None:
    tpm = plan(
        GUARDED, props={**READY, "os_shielded_vm": "required"}, hostname="web1",
        metadata={"fsk:ComputerName": "web1", "fsk:Domain": "corp.example", "other": "x"},
    ).vtpm
    assert tpm.fsk_substitutions == (
        ("@@ComputerName@@", "web1"), ("@@Domain@@", "corp.example"))


def test_fsk_metadata_is_ignored_without_a_vtpm() -> None:
    vm = plan(metadata={"fsk:ComputerName": "elsewhere", "fsk:": 1})
    assert not vm.vtpm.enabled and vm.vtpm.fsk_substitutions == ()


def test_disabled_means_off() -> None:
    assert not plan(props={"os_vtpm": "disabled", "os_shielded_vm": "disabled"}).vtpm.enabled


def test_the_property_that_gives_a_vm_a_vtpm() -> None:
    def of(**props: str) -> str | None:
        return vtpm_property(Image(properties=props))

    assert of() is None
    assert of(os_vtpm="disabled", os_shielded_vm="disabled") is None
    assert of(os_vtpm="required") == "os_vtpm"
    assert of(os_shielded_vm="required", os_vtpm="required") == "os_shielded_vm"
    with pytest.raises(RuleViolation, match="os_vtpm"):
        of(os_vtpm="maybe")
