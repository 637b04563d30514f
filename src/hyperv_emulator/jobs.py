"""Msvm_ConcreteJob: how a method that returns 4096 reports its outcome.

A job is born Running (4) and ends Completed (7), Exception (10, with ErrorCode and
the error texts), Killed (9) or Terminated (8). How long it stays Running is the
host setting `job_polls`: with 0 (the default, and the fastest for tests) a job is
already finished when the method returns, which a real host can also do for quick
work; with N it reports Running for N reads and finishes on the next one. Work that
should only happen when the job finishes (a VM reaching Running) is a named
continuation, run by whichever process reads the job at that moment. A finished job
stays readable for TimeBeforeRemoval (5 minutes), like on a real host.

`Msvm_AffectedJobElement` links the job to what it touched; os-win finds a new
snapshot and running jobs through it.
"""

from __future__ import annotations

import datetime as _dt
import time
from typing import Any

from hyperv_emulator.cimtypes import format_interval, now, parse_datetime
from hyperv_emulator.instances import Instance
from hyperv_emulator.providers.base import (
    CANCELLERS,
    CONTINUATIONS,
    INVALID_PARAMETER,
    INVALID_STATE,
    NOT_SUPPORTED_VENDOR,
    Args,
    Ctx,
    Refused,
    method,
    new_guid,
)

JOB_CLASS = "Msvm_ConcreteJob"
RUNNING = 4
COMPLETED = 7
TERMINATED = 8
KILLED = 9
EXCEPTION = 10
FINISHED = frozenset({COMPLETED, TERMINATED, KILLED, EXCEPTION, 32768})
RETENTION_SECONDS = 300.0

# JobType values (reference notes §2.16) and the words a job describes itself with.
JOB_TYPES: dict[int, str] = {
    1: "Creating Virtual Machine",
    2: "Modifying Virtual Machine",
    3: "Deleting Virtual Machine",
    4: "Modifying Service Settings",
    12: "Turning On Virtual Machine",
    13: "Turning Off Virtual Machine",
    14: "Saving Virtual Machine",
    15: "Restoring Virtual Machine",
    16: "Shutting Down Virtual Machine",
    26: "Pausing Virtual Machine",
    27: "Resuming Virtual Machine",
    28: "Resetting Virtual Machine",
    29: "Rebooting Virtual Machine",
    30: "Adding Resources",
    31: "Modifying Resources",
    32: "Removing Resources",
    33: "Adding Features",
    34: "Modifying Features",
    35: "Removing Features",
}


def start_job(
    ctx: Ctx,
    job_type: int,
    affected: list[Instance],
    *,
    then: tuple[str, dict[str, Any]] | None = None,
    failure: Refused | None = None,
    subject: str = "",
) -> str:
    """Create the job for a method that returns 4096; sets the Job output; returns its path.

    `then` is the continuation that finishes the work; `failure` makes the job end
    in Exception with that error (the method's effects were rolled back).
    """
    description = JOB_TYPES.get(job_type, "Virtual Machine Management Job")
    polls = ctx.settings.job_polls
    stamp = now()
    job = ctx.new(
        JOB_CLASS,
        InstanceID=new_guid(),
        Caption=description,
        Description=description,
        ElementName=description,
        JobType=job_type,
        JobState=RUNNING,
        JobStatus="Job is running",
        PercentComplete=0,
        # A job that hangs (a fault) can always be killed: that is how a client gives up.
        Cancellable=then is not None or polls < 0,
        DeleteOnCompletion=False,
        ErrorCode=0,
        ErrorDescription="",
        ErrorSummaryDescription="",
        TimeSubmitted=stamp,
        StartTime=stamp,
        TimeOfLastStateChange=stamp,
        ElapsedTime=format_interval(_dt.timedelta(0)),
        TimeBeforeRemoval=format_interval(_dt.timedelta(seconds=RETENTION_SECONDS)),
        LocalOrUtcTime=2,
        OperationalStatus=[2],
        StatusDescriptions=["Job is running"],
        HealthState=5,
    )
    ctx.create(job)
    for element in affected:
        ctx.link("Msvm_AffectedJobElement", AffectedElement=element, AffectingElement=job,
                 ElementEffects=[5] if job_type == 1 else [1])
    plan: dict[str, Any] = {"polls": polls, "subject": subject}
    if then is not None:
        plan["then"] = [then[0], then[1]]
    if failure is not None:
        plan["failure"] = [failure.code, failure.message]
    ctx.set_aux(job, plan)
    if plan["polls"] == 0:
        finish(ctx, job)
    # (job_polls < 0 makes every job hang until it is killed: how a test makes one time out)
    path = ctx.path(job)
    ctx.output("Job", path)
    return path


def is_pending(ctx: Ctx, job: Instance) -> bool:
    return job.get("JobState") == RUNNING and bool(ctx.aux(job))


def advance(ctx: Ctx, job: Instance) -> Instance:
    """One poll of a running job: count down, and finish it when its time has come."""
    plan = ctx.aux(job)
    if job.get("JobState") != RUNNING or not plan:
        return job
    polls = int(plan.get("polls", 0))
    if polls < 0:
        return job  # a job told to hang (a fault) runs until it is killed
    if polls > 0:
        plan["polls"] = polls - 1
        total = max(1, ctx.settings.job_polls)
        ctx.set(job, PercentComplete=min(99, int(100 * (total - polls + 1) / (total + 1))))
        _touch(ctx, job)
        ctx.save(job)
        ctx.set_aux(job, plan)
        return job
    finish(ctx, job)
    return job


def finish(ctx: Ctx, job: Instance) -> None:
    plan = ctx.aux(job)
    failure = plan.get("failure")
    then = plan.get("then")
    if failure is None and then is not None:
        run = CONTINUATIONS[then[0]]
        ctx.txn.conn.execute("SAVEPOINT job_work")
        try:
            run(ctx, then[1])
        except Refused as refusal:
            ctx.txn.conn.execute("ROLLBACK TO job_work")
            failure = [refusal.code, refusal.message, refusal.subject]
            if then[0] in CANCELLERS:
                CANCELLERS[then[0]](ctx, then[1])
        ctx.txn.conn.execute("RELEASE job_work")
    if failure is None:
        _end(ctx, job, COMPLETED, "Job completed successfully")
    else:
        subject = failure[2] if len(failure) > 2 and failure[2] else plan.get("subject", "")
        _end(ctx, job, EXCEPTION, "Job failed", code=int(failure[0]), message=str(failure[1]),
             subject=subject)


def _end(ctx: Ctx, job: Instance, state: int, status: str, *, code: int = 0,
         message: str = "", subject: str = "") -> None:
    ctx.set(job, JobState=state, JobStatus=status, StatusDescriptions=[status],
            PercentComplete=100)
    _touch(ctx, job)
    if state == COMPLETED:
        ctx.set(job, OperationalStatus=[2])
    else:
        ctx.set(job, OperationalStatus=[6], HealthState=20 if state == EXCEPTION else 5)
    if code:
        # A subject is who failed ("'vm1'") or a whole sentence ("'vm1' failed to start.").
        what = subject or "The operation"
        summary = what if what.endswith(".") else f"{what} failed."
        ctx.set(
            job,
            ErrorCode=code,
            ErrorSummaryDescription=summary,
            ErrorDescription=(
                f"{summary} {message} (Job ID {job.get('InstanceID')}; error code {code})"
            ),
        )
    ctx.save(job)
    ctx.set_aux(job, {})
    ctx.txn.set_expiry(job, time.time() + RETENTION_SECONDS)


def _touch(ctx: Ctx, job: Instance) -> None:
    started = job.get("StartTime")
    if started:
        elapsed = _dt.datetime.now(_dt.UTC) - parse_datetime(started)
        ctx.set(job, ElapsedTime=format_interval(max(elapsed, _dt.timedelta(0))))
    ctx.set(job, TimeOfLastStateChange=now())


# -- the job's own methods ------------------------------------------------------------


@method("Msvm_ConcreteJob", "RequestStateChange")
def request_state_change(ctx: Ctx, job: Instance | None, args: Args) -> int:
    assert job is not None
    requested = args.get("RequestedState")
    if requested not in (2, 3, 4, 5, 6):
        raise Refused(INVALID_PARAMETER, f"RequestedState {requested} is not 2, 3, 4, 5 or 6")
    if job.get("JobState") in FINISHED:
        raise Refused(INVALID_STATE, "the job has already finished")
    if requested in (2, 3, 6):
        raise Refused(NOT_SUPPORTED_VENDOR, "Hyper-V jobs can only be killed or terminated")
    if not job.get("Cancellable"):
        raise Refused(NOT_SUPPORTED_VENDOR, "this job cannot be cancelled")
    plan = ctx.aux(job)
    then = plan.get("then")
    if then is not None and then[0] in CANCELLERS:
        CANCELLERS[then[0]](ctx, then[1])
    state = KILLED if requested == 5 else TERMINATED
    _end(ctx, job, state, "Job was cancelled")
    return 0


@method("Msvm_ConcreteJob", "GetErrorEx")
def get_error_ex(ctx: Ctx, job: Instance | None, args: Args) -> int:
    assert job is not None
    error = _error_instance(ctx, job)
    ctx.output("Errors", None if error is None else [error.to_xml()])
    return 0


@method("Msvm_ConcreteJob", "GetError")
def get_error(ctx: Ctx, job: Instance | None, args: Args) -> int:
    assert job is not None
    error = _error_instance(ctx, job)
    ctx.output("Error", None if error is None else error.to_xml())
    return 0


def _error_instance(ctx: Ctx, job: Instance) -> Instance | None:
    if job.get("JobState") != EXCEPTION or not job.get("ErrorCode"):
        return None
    return ctx.new(
        "Msvm_Error",
        ErrorType=1,
        OtherErrorType="Hyper-V",
        OwningEntity="Microsoft-Windows-Hyper-V-VMMS",
        MessageID=str(job.get("ErrorCode")),
        Message=job.get("ErrorDescription"),
        MessageArguments=[],
        PerceivedSeverity=6,
        ProbableCause=1,
        ProbableCauseDescription=job.get("ErrorSummaryDescription"),
        RecommendedActions=[],
        ErrorSource=ctx.path(job),
        ErrorSourceFormat=2,
        CIMStatusCode=1,
        CIMStatusCodeDescription="CIM_ERR_FAILED",
    )
