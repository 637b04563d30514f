"""Resource metering: the metric service, metric definitions and values."""

from hyperv_emulator.schema import common as C
from hyperv_emulator.schema import values as V
from hyperv_emulator.schema.model import (
    IN,
    IN_REF,
    JOB,
    KEY,
    OUT,
    OUT_REF,
    ClassDef,
    Method,
    P,
)

CLASSES = [
    ClassDef(
        "CIM_MetricService",
        "CIM_Service",
        methods=(
            Method(
                "ShowMetrics",
                (
                    IN_REF("Subject", "CIM_ManagedElement"),
                    IN_REF("Definition", "CIM_BaseMetricDefinition"),
                    OUT_REF("ManagedElements", "CIM_ManagedElement", array=True),
                    OUT_REF("DefinitionList", "CIM_BaseMetricDefinition", array=True),
                    OUT("MetricNames", "string", array=True),
                    OUT("MetricCollectionEnabled", "uint16", array=True),
                ),
                return_codes=C.DMTF_QUERY,
            ),
            Method(
                "ShowMetricsByClass",
                (
                    IN_REF("Subject", "CIM_ManagedElement"),
                    IN_REF("Definition", "CIM_BaseMetricDefinition"),
                    OUT_REF("DefinitionList", "CIM_BaseMetricDefinition", array=True),
                    OUT("MetricNames", "string", array=True),
                    OUT("MetricCollectionEnabled", "uint16", array=True),
                ),
                return_codes=C.DMTF_QUERY,
            ),
            Method(
                "ControlMetrics",
                (
                    IN_REF("Subject", "CIM_ManagedElement"),
                    IN_REF("Definition", "CIM_BaseMetricDefinition"),
                    IN("MetricCollectionEnabled", "uint16"),
                ),
                return_codes=C.DMTF_QUERY,
            ),
            Method(
                "ControlMetricsByClass",
                (
                    IN_REF("Subject", "CIM_ManagedElement"),
                    IN_REF("Definition", "CIM_BaseMetricDefinition"),
                    IN("MetricCollectionEnabled", "uint16"),
                ),
                return_codes=C.DMTF_QUERY,
            ),
            Method(
                "GetMetricValues",
                (
                    IN_REF("Definition", "CIM_BaseMetricDefinition"),
                    IN("Range", "uint16"),
                    IN("Count", "uint16"),
                    OUT_REF("Values", "CIM_BaseMetricValue", array=True),
                ),
                return_codes=C.DMTF_QUERY,
            ),
            Method(
                "ControlSampleTimes",
                (
                    IN("StartSampleTime", "datetime"),
                    IN("PreferredSampleInterval", "datetime"),
                    IN("RestartGathering", "boolean"),
                ),
                return_codes=C.DMTF_QUERY,
            ),
        ),
        abstract=True,
    ),
    ClassDef(
        "Msvm_MetricService",
        "CIM_MetricService",
        methods=(
            Method(
                "ShowMetrics",
                (
                    IN_REF("Subject", "CIM_ManagedElement"),
                    IN_REF("Definition", "CIM_BaseMetricDefinition"),
                    OUT_REF("ManagedElements", "CIM_ManagedElement", array=True),
                    OUT_REF("DefinitionList", "CIM_BaseMetricDefinition", array=True),
                    OUT("MetricNames", "string", array=True),
                    OUT("MetricCollectionEnabled", "uint16", array=True),
                ),
                return_codes=C.DMTF_QUERY,
            ),
            Method(
                "ShowMetricsByClass",
                (
                    IN_REF("Subject", "CIM_ManagedElement"),
                    IN_REF("Definition", "CIM_BaseMetricDefinition"),
                    OUT_REF("DefinitionList", "CIM_BaseMetricDefinition", array=True),
                    OUT("MetricNames", "string", array=True),
                    OUT("MetricCollectionEnabled", "uint16", array=True),
                ),
            ),
            Method(
                "ControlMetrics",
                (
                    IN_REF("Subject", "CIM_ManagedElement"),
                    IN_REF("Definition", "CIM_BaseMetricDefinition"),
                    IN("MetricCollectionEnabled", "uint16", values=V.METRIC_COLLECTION),
                ),
                return_codes=C.DMTF_QUERY,
            ),
            Method(
                "ControlMetricsByClass",
                (
                    IN_REF("Subject", "CIM_ManagedElement"),
                    IN_REF("Definition", "CIM_BaseMetricDefinition"),
                    IN("MetricCollectionEnabled", "uint16", values=V.METRIC_COLLECTION),
                ),
                return_codes=C.DMTF_QUERY,
            ),
            Method(
                "GetMetricValues",
                (
                    IN_REF("Definition", "CIM_BaseMetricDefinition"),
                    IN("Range", "uint16"),
                    IN("Count", "uint16"),
                    OUT_REF("Values", "CIM_BaseMetricValue", array=True),
                ),
                return_codes=C.DMTF_QUERY,
            ),
            Method(
                "ControlSampleTimes",
                (
                    IN("StartSampleTime", "datetime"),
                    IN("PreferredSampleInterval", "datetime"),
                    IN("RestartGathering", "boolean"),
                ),
                return_codes=C.DMTF_QUERY,
            ),
            C.DEVICE_REQUEST_STATE_CHANGE,
            Method(
                "ModifyServiceSettings",
                (
                    IN("SettingData", "string", embedded="Msvm_MetricServiceSettingData"),
                    JOB,
                ),
                return_codes=C.VENDOR,
            ),
            C.START_SERVICE,
            C.STOP_SERVICE,
        ),
    ),
    ClassDef(
        "CIM_MetricServiceCapabilities",
        "CIM_EnabledLogicalElementCapabilities",
        props=(
            P("ControllableMetrics", "string", array=True),
            P("MetricsControlTypes", "uint16", array=True),
            P("ControllableManagedElements", "string", array=True),
            P("ManagedElementControlTypes", "uint16", array=True),
            P("SupportedMethods", "uint16", array=True),
        ),
        abstract=True,
    ),
    ClassDef(
        "Msvm_MetricServiceCapabilities",
        "CIM_MetricServiceCapabilities",
    ),
    ClassDef(
        "Msvm_MetricServiceSettingData",
        "CIM_SettingData",
        props=(P("MetricsFlushInterval", "datetime"),),
    ),
    ClassDef(
        "CIM_BaseMetricDefinition",
        "CIM_ManagedElement",
        props=(
            KEY("Id"),
            P("Name", "string"),
            P("DataType", "uint16"),
            P("Calculable", "uint16"),
            P("Units", "string"),
            P("BreakdownDimensions", "string", array=True),
            P("IsContinuous", "boolean"),
            P("ChangeType", "uint16"),
            P("TimeScope", "uint16"),
            P("GatheringType", "uint16"),
            P("ProgrammaticUnits", "string"),
        ),
        abstract=True,
    ),
    ClassDef(
        "Msvm_BaseMetricDefinition",
        "CIM_BaseMetricDefinition",
    ),
    ClassDef(
        "CIM_AggregationMetricDefinition",
        "CIM_BaseMetricDefinition",
        props=(
            P("ChangeType", "uint16", default=5),
            P("SimpleFunction", "uint16"),
        ),
        abstract=True,
    ),
    ClassDef(
        "Msvm_AggregationMetricDefinition",
        "CIM_AggregationMetricDefinition",
    ),
    ClassDef(
        "CIM_BaseMetricValue",
        "CIM_ManagedElement",
        props=(
            KEY("InstanceID"),
            P("MetricDefinitionId", "string"),
            P("MeasuredElementName", "string"),
            P("TimeStamp", "datetime"),
            P("Duration", "datetime"),
            P("MetricValue", "string"),
            P("BreakdownDimension", "string"),
            P("BreakdownValue", "string"),
            P("Volatile", "boolean"),
        ),
        abstract=True,
    ),
    ClassDef(
        "Msvm_BaseMetricValue",
        "CIM_BaseMetricValue",
    ),
    ClassDef(
        "CIM_AggregationMetricValue",
        "CIM_BaseMetricValue",
        props=(
            P("AggregationTimeStamp", "datetime"),
            P("AggregationDuration", "datetime"),
        ),
        abstract=True,
    ),
    ClassDef(
        "Msvm_AggregationMetricValue",
        "CIM_AggregationMetricValue",
    ),
]
