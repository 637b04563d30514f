"""Injected faults: the Nth call of a method fails with a code, or its job hangs.

Faults live in the state file (meta `faults`), so every process sees them: a test
or the CLI adds them, the Nova driver in another process meets them. A call hook
counts the calls of each fault's method (before the call's savepoint, so the count
stays when the call is refused) and, at the fault's Nth call, either refuses the call
with the fault's code (synchronously as the ReturnValue, or as 4096 and a job that
ends in state 10 with that ErrorCode) or lets it run with its job hanging: the job
reports Running until a client kills it (`RequestStateChange(5)` on the job), which
undoes the work as cancelling does.

A fault fires `times` times (0: at every call from the Nth on). A fault that names
no class matches the method on any class except `Msvm_ConcreteJob` (so that killing
a hung job is never the call that fails); name `Msvm_ConcreteJob` to aim at jobs.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hyperv_emulator.instances import Instance
from hyperv_emulator.providers import base
from hyperv_emulator.providers.base import Args, Ctx, Refused
from hyperv_emulator.schema.model import Method, ResolvedClass

FAULTS_KEY = "faults"
JOB_CLASS = "msvm_concretejob"
FAIL, HANG = "fail", "hang"
# JobType of a failed RequestStateChange job, by requested state (as the real ones).
_STATE_JOB_TYPES = {2: 12, 3: 13, 6: 14, 9: 26, 10: 29, 11: 28}


def stored(ctx_or_txn: Any) -> dict[str, Any]:
    txn = getattr(ctx_or_txn, "txn", ctx_or_txn)
    found = txn.meta(FAULTS_KEY)
    return found if isinstance(found, dict) else {"next_id": 1, "items": []}


def _matches(fault: dict[str, Any], cls: ResolvedClass, method: Method) -> bool:
    if fault["method"].lower() != method.name.lower():
        return False
    chain = {name.lower() for name in cls.chain}
    wanted = fault.get("class_name")
    if wanted is None:
        return JOB_CLASS not in chain
    return wanted.lower() in chain


def _spent(fault: dict[str, Any]) -> bool:
    return bool(fault["times"]) and fault["fired"] >= fault["times"]


def inject(ctx: Ctx, cls: ResolvedClass, method: Method, instance: Instance | None,
           args: Args) -> None:
    """The call hook: count, and fire the first fault whose turn it is."""
    faults = ctx.txn.meta(FAULTS_KEY)
    if not faults or not faults.get("items"):
        return
    firing = None
    counted = False
    for fault in faults["items"]:
        if _spent(fault) or not _matches(fault, cls, method):
            continue
        fault["seen"] += 1
        counted = True
        if firing is None and fault["seen"] >= fault["nth"]:
            fault["fired"] += 1
            firing = fault
    if counted:
        ctx.txn.set_meta(FAULTS_KEY, faults)
    if firing is None:
        return
    if firing["kind"] == HANG:
        ctx.settings = dataclasses.replace(ctx.settings, job_polls=-1)
        return
    raise _refusal(firing, cls, method, instance, args)


def _refusal(fault: dict[str, Any], cls: ResolvedClass, method: Method,
             instance: Instance | None, args: Args) -> Refused:
    is_vm = (instance is not None and instance.is_a("Msvm_ComputerSystem")
             and instance.get("Caption") == "Virtual Machine")
    job_type = None
    if method.name.lower() == "requeststatechange" and is_vm:
        job_type = _STATE_JOB_TYPES.get(args.get("RequestedState"))
    subject = f"'{instance.get('ElementName')}'" if is_vm and instance is not None else ""
    return Refused(
        int(fault["code"]),
        f"Injected fault #{fault['id']}: call {fault['seen']} of {cls.name}.{method.name} "
        f"fails with error code {fault['code']}.",
        job=bool(fault["as_job"]),
        job_type=job_type,
        affected=[instance] if is_vm and instance is not None else [],
        subject=subject,
    )


# First of the call hooks: a call another hook refuses (a guard) still counts.
if inject not in base.CALL_HOOKS:
    base.CALL_HOOKS.insert(0, inject)
