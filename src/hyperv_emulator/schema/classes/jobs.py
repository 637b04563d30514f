"""Jobs that track asynchronous method calls, and the errors they carry."""

from hyperv_emulator.schema import common as C
from hyperv_emulator.schema import values as V
from hyperv_emulator.schema.model import (
    CODES,
    IN,
    KEY,
    OUT,
    ClassDef,
    Method,
    P,
)

CLASSES = [
    ClassDef(
        "CIM_Job",
        "CIM_LogicalElement",
        props=(
            P("JobStatus", "string"),
            P("TimeSubmitted", "datetime"),
            P("ScheduledStartTime", "datetime"),
            P("StartTime", "datetime"),
            P("ElapsedTime", "datetime"),
            P("JobRunTimes", "uint32", default=1),
            P("RunMonth", "uint8"),
            P("RunDay", "sint8"),
            P("RunDayOfWeek", "sint8"),
            P("RunStartInterval", "datetime"),
            P("LocalOrUtcTime", "uint16"),
            P("UntilTime", "datetime"),
            P("Notify", "string"),
            P("Owner", "string"),
            P("Priority", "uint32"),
            P("PercentComplete", "uint16"),
            P("DeleteOnCompletion", "boolean"),
            P("ErrorCode", "uint16"),
            P("ErrorDescription", "string"),
            P("RecoveryAction", "uint16"),
            P("OtherRecoveryAction", "string"),
        ),
        methods=(
            Method(
                "KillJob",
                (IN("DeleteOnKill", "boolean"),),
                return_codes=CODES(0, 1, 2, 3, 4, 6, 7, (32768, 32779)),
            ),
        ),
        abstract=True,
    ),
    ClassDef(
        "CIM_ConcreteJob",
        "CIM_Job",
        props=(
            KEY("InstanceID"),
            P("Name", "string"),
            P("JobState", "uint16", values=V.JOB_STATE),
            P("TimeOfLastStateChange", "datetime"),
            P("TimeBeforeRemoval", "datetime", default="00000000000500.000000:000"),
        ),
        methods=(
            Method(
                "RequestStateChange",
                (
                    IN("RequestedState", "uint16"),
                    IN("TimeoutPeriod", "datetime"),
                ),
                return_codes=CODES(0, 1, 2, 3, 4, 5, 6, 4096, 4097, 4098, 4099, (32768, 32779)),
            ),
            Method(
                "GetError",
                (OUT("Error", "string"),),
                return_codes=CODES(0, 1, 2, 3, 4, 5, 6, (32768, 32779)),
            ),
        ),
        abstract=True,
    ),
    ClassDef(
        "CIM_Error",
        None,
        props=(
            P("ErrorType", "uint16"),
            P("OtherErrorType", "string"),
            P("OwningEntity", "string"),
            P("MessageID", "string"),
            P("Message", "string"),
            P("MessageArguments", "string", array=True),
            P("PerceivedSeverity", "uint16"),
            P("ProbableCause", "uint16"),
            P("ProbableCauseDescription", "string"),
            P("RecommendedActions", "string", array=True),
            P("ErrorSource", "string"),
            P("ErrorSourceFormat", "uint16", default=0),
            P("OtherErrorSourceFormat", "string"),
            P("CIMStatusCode", "uint32"),
            P("CIMStatusCodeDescription", "string"),
        ),
        abstract=True,
    ),
    ClassDef(
        "Msvm_ConcreteJob",
        "CIM_ConcreteJob",
        props=(
            P("ErrorSummaryDescription", "string"),
            P("Cancellable", "boolean"),
            P("JobType", "uint16"),
        ),
        methods=(
            Method(
                "RequestStateChange",
                (
                    IN("RequestedState", "uint16", values=V.JOB_REQUESTED_STATE),
                    IN("TimeoutPeriod", "datetime"),
                ),
                return_codes=C.VENDOR_SYNC,
            ),
            Method(
                "GetError",
                (OUT("Error", "string", embedded="Msvm_Error"),),
                return_codes=C.VENDOR_SYNC,
            ),
            Method(
                "GetErrorEx",
                (OUT("Errors", "string", array=True, embedded="Msvm_Error"),),
                return_codes=C.VENDOR_SYNC,
            ),
        ),
    ),
    ClassDef(
        "Msvm_Error",
        "CIM_Error",
    ),
    ClassDef(
        "Msvm_CopyFileToGuestJob",
        "CIM_ConcreteJob",
        props=(
            P("CopyFileToGuestSettingData", "string", array=True),
            P("Cancellable", "boolean"),
            P("ErrorSummaryDescription", "string"),
            P("VirtualSystemName", "string"),
        ),
        methods=(
            Method(
                "RequestStateChange",
                (
                    IN("RequestedState", "uint16"),
                    IN("TimeoutPeriod", "datetime"),
                ),
                return_codes=C.VENDOR_SYNC,
            ),
            Method("GetError", (OUT("Error", "string"),), return_codes=C.VENDOR_SYNC),
            Method(
                "GetErrorEx",
                (OUT("Errors", "string", array=True),),
                return_codes=C.VENDOR_SYNC,
            ),
        ),
    ),
]
