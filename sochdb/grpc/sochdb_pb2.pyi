from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DistanceMetric(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISTANCE_METRIC_UNSPECIFIED: _ClassVar[DistanceMetric]
    DISTANCE_METRIC_L2: _ClassVar[DistanceMetric]
    DISTANCE_METRIC_COSINE: _ClassVar[DistanceMetric]
    DISTANCE_METRIC_DOT_PRODUCT: _ClassVar[DistanceMetric]

class EdgeDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EDGE_DIRECTION_OUTGOING: _ClassVar[EdgeDirection]
    EDGE_DIRECTION_INCOMING: _ClassVar[EdgeDirection]
    EDGE_DIRECTION_BOTH: _ClassVar[EdgeDirection]

class TraversalOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRAVERSAL_ORDER_BFS: _ClassVar[TraversalOrder]
    TRAVERSAL_ORDER_DFS: _ClassVar[TraversalOrder]

class TemporalQueryMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TEMPORAL_QUERY_MODE_POINT_IN_TIME: _ClassVar[TemporalQueryMode]
    TEMPORAL_QUERY_MODE_RANGE: _ClassVar[TemporalQueryMode]
    TEMPORAL_QUERY_MODE_CURRENT: _ClassVar[TemporalQueryMode]

class PolicyTrigger(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    POLICY_TRIGGER_BEFORE_READ: _ClassVar[PolicyTrigger]
    POLICY_TRIGGER_AFTER_READ: _ClassVar[PolicyTrigger]
    POLICY_TRIGGER_BEFORE_WRITE: _ClassVar[PolicyTrigger]
    POLICY_TRIGGER_AFTER_WRITE: _ClassVar[PolicyTrigger]
    POLICY_TRIGGER_BEFORE_DELETE: _ClassVar[PolicyTrigger]
    POLICY_TRIGGER_AFTER_DELETE: _ClassVar[PolicyTrigger]

class PolicyActionType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    POLICY_ACTION_ALLOW: _ClassVar[PolicyActionType]
    POLICY_ACTION_DENY: _ClassVar[PolicyActionType]
    POLICY_ACTION_LOG: _ClassVar[PolicyActionType]

class ContextSectionType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTEXT_SECTION_GET: _ClassVar[ContextSectionType]
    CONTEXT_SECTION_LAST: _ClassVar[ContextSectionType]
    CONTEXT_SECTION_SEARCH: _ClassVar[ContextSectionType]
    CONTEXT_SECTION_SELECT: _ClassVar[ContextSectionType]

class OutputFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTPUT_FORMAT_TOON: _ClassVar[OutputFormat]
    OUTPUT_FORMAT_JSON: _ClassVar[OutputFormat]
    OUTPUT_FORMAT_MARKDOWN: _ClassVar[OutputFormat]
    OUTPUT_FORMAT_TEXT: _ClassVar[OutputFormat]

class SpanStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SPAN_STATUS_UNSET: _ClassVar[SpanStatus]
    SPAN_STATUS_OK: _ClassVar[SpanStatus]
    SPAN_STATUS_ERROR: _ClassVar[SpanStatus]

class ExportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_FORMAT_BINARY: _ClassVar[ExportFormat]
    EXPORT_FORMAT_JSON: _ClassVar[ExportFormat]

class OperationType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OPERATION_UNSPECIFIED: _ClassVar[OperationType]
    OPERATION_INSERT: _ClassVar[OperationType]
    OPERATION_UPDATE: _ClassVar[OperationType]
    OPERATION_DELETE: _ClassVar[OperationType]
    OPERATION_SCHEMA_CHANGE: _ClassVar[OperationType]
DISTANCE_METRIC_UNSPECIFIED: DistanceMetric
DISTANCE_METRIC_L2: DistanceMetric
DISTANCE_METRIC_COSINE: DistanceMetric
DISTANCE_METRIC_DOT_PRODUCT: DistanceMetric
EDGE_DIRECTION_OUTGOING: EdgeDirection
EDGE_DIRECTION_INCOMING: EdgeDirection
EDGE_DIRECTION_BOTH: EdgeDirection
TRAVERSAL_ORDER_BFS: TraversalOrder
TRAVERSAL_ORDER_DFS: TraversalOrder
TEMPORAL_QUERY_MODE_POINT_IN_TIME: TemporalQueryMode
TEMPORAL_QUERY_MODE_RANGE: TemporalQueryMode
TEMPORAL_QUERY_MODE_CURRENT: TemporalQueryMode
POLICY_TRIGGER_BEFORE_READ: PolicyTrigger
POLICY_TRIGGER_AFTER_READ: PolicyTrigger
POLICY_TRIGGER_BEFORE_WRITE: PolicyTrigger
POLICY_TRIGGER_AFTER_WRITE: PolicyTrigger
POLICY_TRIGGER_BEFORE_DELETE: PolicyTrigger
POLICY_TRIGGER_AFTER_DELETE: PolicyTrigger
POLICY_ACTION_ALLOW: PolicyActionType
POLICY_ACTION_DENY: PolicyActionType
POLICY_ACTION_LOG: PolicyActionType
CONTEXT_SECTION_GET: ContextSectionType
CONTEXT_SECTION_LAST: ContextSectionType
CONTEXT_SECTION_SEARCH: ContextSectionType
CONTEXT_SECTION_SELECT: ContextSectionType
OUTPUT_FORMAT_TOON: OutputFormat
OUTPUT_FORMAT_JSON: OutputFormat
OUTPUT_FORMAT_MARKDOWN: OutputFormat
OUTPUT_FORMAT_TEXT: OutputFormat
SPAN_STATUS_UNSET: SpanStatus
SPAN_STATUS_OK: SpanStatus
SPAN_STATUS_ERROR: SpanStatus
EXPORT_FORMAT_BINARY: ExportFormat
EXPORT_FORMAT_JSON: ExportFormat
OPERATION_UNSPECIFIED: OperationType
OPERATION_INSERT: OperationType
OPERATION_UPDATE: OperationType
OPERATION_DELETE: OperationType
OPERATION_SCHEMA_CHANGE: OperationType

class CreateIndexRequest(_message.Message):
    __slots__ = ("name", "dimension", "config", "metric")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    name: str
    dimension: int
    config: HnswConfig
    metric: DistanceMetric
    def __init__(self, name: _Optional[str] = ..., dimension: _Optional[int] = ..., config: _Optional[_Union[HnswConfig, _Mapping]] = ..., metric: _Optional[_Union[DistanceMetric, str]] = ...) -> None: ...

class CreateIndexResponse(_message.Message):
    __slots__ = ("success", "error", "info")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error: str
    info: IndexInfo
    def __init__(self, success: _Optional[bool] = ..., error: _Optional[str] = ..., info: _Optional[_Union[IndexInfo, _Mapping]] = ...) -> None: ...

class DropIndexRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DropIndexResponse(_message.Message):
    __slots__ = ("success", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error: str
    def __init__(self, success: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class InsertBatchRequest(_message.Message):
    __slots__ = ("index_name", "ids", "vectors")
    INDEX_NAME_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    index_name: str
    ids: _containers.RepeatedScalarFieldContainer[int]
    vectors: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, index_name: _Optional[str] = ..., ids: _Optional[_Iterable[int]] = ..., vectors: _Optional[_Iterable[float]] = ...) -> None: ...

class InsertBatchResponse(_message.Message):
    __slots__ = ("inserted_count", "error", "duration_us")
    INSERTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DURATION_US_FIELD_NUMBER: _ClassVar[int]
    inserted_count: int
    error: str
    duration_us: int
    def __init__(self, inserted_count: _Optional[int] = ..., error: _Optional[str] = ..., duration_us: _Optional[int] = ...) -> None: ...

class InsertStreamRequest(_message.Message):
    __slots__ = ("index_name", "id", "vector")
    INDEX_NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    index_name: str
    id: int
    vector: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, index_name: _Optional[str] = ..., id: _Optional[int] = ..., vector: _Optional[_Iterable[float]] = ...) -> None: ...

class InsertStreamResponse(_message.Message):
    __slots__ = ("total_inserted", "errors", "duration_us")
    TOTAL_INSERTED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    DURATION_US_FIELD_NUMBER: _ClassVar[int]
    total_inserted: int
    errors: _containers.RepeatedScalarFieldContainer[str]
    duration_us: int
    def __init__(self, total_inserted: _Optional[int] = ..., errors: _Optional[_Iterable[str]] = ..., duration_us: _Optional[int] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("index_name", "query", "k", "ef")
    INDEX_NAME_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    EF_FIELD_NUMBER: _ClassVar[int]
    index_name: str
    query: _containers.RepeatedScalarFieldContainer[float]
    k: int
    ef: int
    def __init__(self, index_name: _Optional[str] = ..., query: _Optional[_Iterable[float]] = ..., k: _Optional[int] = ..., ef: _Optional[int] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("results", "duration_us", "error")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    DURATION_US_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SearchResult]
    duration_us: int
    error: str
    def __init__(self, results: _Optional[_Iterable[_Union[SearchResult, _Mapping]]] = ..., duration_us: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class SearchResult(_message.Message):
    __slots__ = ("id", "distance", "metric")
    ID_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    id: int
    distance: float
    metric: str
    def __init__(self, id: _Optional[int] = ..., distance: _Optional[float] = ..., metric: _Optional[str] = ...) -> None: ...

class SearchBatchRequest(_message.Message):
    __slots__ = ("index_name", "queries", "num_queries", "k", "ef")
    INDEX_NAME_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    NUM_QUERIES_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    EF_FIELD_NUMBER: _ClassVar[int]
    index_name: str
    queries: _containers.RepeatedScalarFieldContainer[float]
    num_queries: int
    k: int
    ef: int
    def __init__(self, index_name: _Optional[str] = ..., queries: _Optional[_Iterable[float]] = ..., num_queries: _Optional[int] = ..., k: _Optional[int] = ..., ef: _Optional[int] = ...) -> None: ...

class SearchBatchResponse(_message.Message):
    __slots__ = ("results", "duration_us")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    DURATION_US_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[QueryResults]
    duration_us: int
    def __init__(self, results: _Optional[_Iterable[_Union[QueryResults, _Mapping]]] = ..., duration_us: _Optional[int] = ...) -> None: ...

class QueryResults(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SearchResult]
    def __init__(self, results: _Optional[_Iterable[_Union[SearchResult, _Mapping]]] = ...) -> None: ...

class GetStatsRequest(_message.Message):
    __slots__ = ("index_name",)
    INDEX_NAME_FIELD_NUMBER: _ClassVar[int]
    index_name: str
    def __init__(self, index_name: _Optional[str] = ...) -> None: ...

class GetStatsResponse(_message.Message):
    __slots__ = ("stats", "error")
    STATS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    stats: IndexStats
    error: str
    def __init__(self, stats: _Optional[_Union[IndexStats, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class IndexStats(_message.Message):
    __slots__ = ("num_vectors", "dimension", "max_layer", "memory_bytes", "avg_connections")
    NUM_VECTORS_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    MAX_LAYER_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    AVG_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    num_vectors: int
    dimension: int
    max_layer: int
    memory_bytes: int
    avg_connections: float
    def __init__(self, num_vectors: _Optional[int] = ..., dimension: _Optional[int] = ..., max_layer: _Optional[int] = ..., memory_bytes: _Optional[int] = ..., avg_connections: _Optional[float] = ...) -> None: ...

class HealthCheckRequest(_message.Message):
    __slots__ = ("index_name",)
    INDEX_NAME_FIELD_NUMBER: _ClassVar[int]
    index_name: str
    def __init__(self, index_name: _Optional[str] = ...) -> None: ...

class HealthCheckResponse(_message.Message):
    __slots__ = ("status", "version", "indexes")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        UNKNOWN: _ClassVar[HealthCheckResponse.Status]
        SERVING: _ClassVar[HealthCheckResponse.Status]
        NOT_SERVING: _ClassVar[HealthCheckResponse.Status]
    UNKNOWN: HealthCheckResponse.Status
    SERVING: HealthCheckResponse.Status
    NOT_SERVING: HealthCheckResponse.Status
    STATUS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    INDEXES_FIELD_NUMBER: _ClassVar[int]
    status: HealthCheckResponse.Status
    version: str
    indexes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, status: _Optional[_Union[HealthCheckResponse.Status, str]] = ..., version: _Optional[str] = ..., indexes: _Optional[_Iterable[str]] = ...) -> None: ...

class HnswConfig(_message.Message):
    __slots__ = ("max_connections", "max_connections_layer0", "ef_construction", "ef_search")
    MAX_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONNECTIONS_LAYER0_FIELD_NUMBER: _ClassVar[int]
    EF_CONSTRUCTION_FIELD_NUMBER: _ClassVar[int]
    EF_SEARCH_FIELD_NUMBER: _ClassVar[int]
    max_connections: int
    max_connections_layer0: int
    ef_construction: int
    ef_search: int
    def __init__(self, max_connections: _Optional[int] = ..., max_connections_layer0: _Optional[int] = ..., ef_construction: _Optional[int] = ..., ef_search: _Optional[int] = ...) -> None: ...

class IndexInfo(_message.Message):
    __slots__ = ("name", "dimension", "metric", "config", "created_at")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    name: str
    dimension: int
    metric: DistanceMetric
    config: HnswConfig
    created_at: int
    def __init__(self, name: _Optional[str] = ..., dimension: _Optional[int] = ..., metric: _Optional[_Union[DistanceMetric, str]] = ..., config: _Optional[_Union[HnswConfig, _Mapping]] = ..., created_at: _Optional[int] = ...) -> None: ...

class GraphNode(_message.Message):
    __slots__ = ("id", "node_type", "properties")
    class PropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NODE_TYPE_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    id: str
    node_type: str
    properties: _containers.ScalarMap[str, str]
    def __init__(self, id: _Optional[str] = ..., node_type: _Optional[str] = ..., properties: _Optional[_Mapping[str, str]] = ...) -> None: ...

class GraphEdge(_message.Message):
    __slots__ = ("from_id", "edge_type", "to_id", "properties")
    class PropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    FROM_ID_FIELD_NUMBER: _ClassVar[int]
    EDGE_TYPE_FIELD_NUMBER: _ClassVar[int]
    TO_ID_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    from_id: str
    edge_type: str
    to_id: str
    properties: _containers.ScalarMap[str, str]
    def __init__(self, from_id: _Optional[str] = ..., edge_type: _Optional[str] = ..., to_id: _Optional[str] = ..., properties: _Optional[_Mapping[str, str]] = ...) -> None: ...

class AddNodeRequest(_message.Message):
    __slots__ = ("namespace", "node")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    node: GraphNode
    def __init__(self, namespace: _Optional[str] = ..., node: _Optional[_Union[GraphNode, _Mapping]] = ...) -> None: ...

class AddNodeResponse(_message.Message):
    __slots__ = ("success", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error: str
    def __init__(self, success: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class GetNodeRequest(_message.Message):
    __slots__ = ("namespace", "node_id")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    node_id: str
    def __init__(self, namespace: _Optional[str] = ..., node_id: _Optional[str] = ...) -> None: ...

class GetNodeResponse(_message.Message):
    __slots__ = ("node", "error")
    NODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    node: GraphNode
    error: str
    def __init__(self, node: _Optional[_Union[GraphNode, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class DeleteNodeRequest(_message.Message):
    __slots__ = ("namespace", "node_id")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    node_id: str
    def __init__(self, namespace: _Optional[str] = ..., node_id: _Optional[str] = ...) -> None: ...

class DeleteNodeResponse(_message.Message):
    __slots__ = ("success", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error: str
    def __init__(self, success: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class AddEdgeRequest(_message.Message):
    __slots__ = ("namespace", "edge")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    EDGE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    edge: GraphEdge
    def __init__(self, namespace: _Optional[str] = ..., edge: _Optional[_Union[GraphEdge, _Mapping]] = ...) -> None: ...

class AddEdgeResponse(_message.Message):
    __slots__ = ("success", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error: str
    def __init__(self, success: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class GetEdgesRequest(_message.Message):
    __slots__ = ("namespace", "node_id", "edge_type", "direction")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    EDGE_TYPE_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    node_id: str
    edge_type: str
    direction: EdgeDirection
    def __init__(self, namespace: _Optional[str] = ..., node_id: _Optional[str] = ..., edge_type: _Optional[str] = ..., direction: _Optional[_Union[EdgeDirection, str]] = ...) -> None: ...

class GetEdgesResponse(_message.Message):
    __slots__ = ("edges", "error")
    EDGES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    edges: _containers.RepeatedCompositeFieldContainer[GraphEdge]
    error: str
    def __init__(self, edges: _Optional[_Iterable[_Union[GraphEdge, _Mapping]]] = ..., error: _Optional[str] = ...) -> None: ...

class DeleteEdgeRequest(_message.Message):
    __slots__ = ("namespace", "from_id", "edge_type", "to_id")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    FROM_ID_FIELD_NUMBER: _ClassVar[int]
    EDGE_TYPE_FIELD_NUMBER: _ClassVar[int]
    TO_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    from_id: str
    edge_type: str
    to_id: str
    def __init__(self, namespace: _Optional[str] = ..., from_id: _Optional[str] = ..., edge_type: _Optional[str] = ..., to_id: _Optional[str] = ...) -> None: ...

class DeleteEdgeResponse(_message.Message):
    __slots__ = ("success", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error: str
    def __init__(self, success: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class TraverseRequest(_message.Message):
    __slots__ = ("namespace", "start_node_id", "order", "max_depth", "edge_types")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    START_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    MAX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    EDGE_TYPES_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    start_node_id: str
    order: TraversalOrder
    max_depth: int
    edge_types: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, namespace: _Optional[str] = ..., start_node_id: _Optional[str] = ..., order: _Optional[_Union[TraversalOrder, str]] = ..., max_depth: _Optional[int] = ..., edge_types: _Optional[_Iterable[str]] = ...) -> None: ...

class TraverseResponse(_message.Message):
    __slots__ = ("nodes", "edges", "error")
    NODES_FIELD_NUMBER: _ClassVar[int]
    EDGES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[GraphNode]
    edges: _containers.RepeatedCompositeFieldContainer[GraphEdge]
    error: str
    def __init__(self, nodes: _Optional[_Iterable[_Union[GraphNode, _Mapping]]] = ..., edges: _Optional[_Iterable[_Union[GraphEdge, _Mapping]]] = ..., error: _Optional[str] = ...) -> None: ...

class ShortestPathRequest(_message.Message):
    __slots__ = ("namespace", "from_id", "to_id", "max_depth", "edge_types")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    FROM_ID_FIELD_NUMBER: _ClassVar[int]
    TO_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    EDGE_TYPES_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    from_id: str
    to_id: str
    max_depth: int
    edge_types: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, namespace: _Optional[str] = ..., from_id: _Optional[str] = ..., to_id: _Optional[str] = ..., max_depth: _Optional[int] = ..., edge_types: _Optional[_Iterable[str]] = ...) -> None: ...

class ShortestPathResponse(_message.Message):
    __slots__ = ("path", "edges", "error")
    PATH_FIELD_NUMBER: _ClassVar[int]
    EDGES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    path: _containers.RepeatedScalarFieldContainer[str]
    edges: _containers.RepeatedCompositeFieldContainer[GraphEdge]
    error: str
    def __init__(self, path: _Optional[_Iterable[str]] = ..., edges: _Optional[_Iterable[_Union[GraphEdge, _Mapping]]] = ..., error: _Optional[str] = ...) -> None: ...

class GetNeighborsRequest(_message.Message):
    __slots__ = ("namespace", "node_id", "direction", "edge_types")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    EDGE_TYPES_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    node_id: str
    direction: EdgeDirection
    edge_types: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, namespace: _Optional[str] = ..., node_id: _Optional[str] = ..., direction: _Optional[_Union[EdgeDirection, str]] = ..., edge_types: _Optional[_Iterable[str]] = ...) -> None: ...

class GetNeighborsResponse(_message.Message):
    __slots__ = ("nodes", "edges", "error")
    NODES_FIELD_NUMBER: _ClassVar[int]
    EDGES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[GraphNode]
    edges: _containers.RepeatedCompositeFieldContainer[GraphEdge]
    error: str
    def __init__(self, nodes: _Optional[_Iterable[_Union[GraphNode, _Mapping]]] = ..., edges: _Optional[_Iterable[_Union[GraphEdge, _Mapping]]] = ..., error: _Optional[str] = ...) -> None: ...

class AddTemporalEdgeRequest(_message.Message):
    __slots__ = ("namespace", "from_id", "edge_type", "to_id", "properties", "valid_from", "valid_until")
    class PropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    FROM_ID_FIELD_NUMBER: _ClassVar[int]
    EDGE_TYPE_FIELD_NUMBER: _ClassVar[int]
    TO_ID_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    from_id: str
    edge_type: str
    to_id: str
    properties: _containers.ScalarMap[str, str]
    valid_from: int
    valid_until: int
    def __init__(self, namespace: _Optional[str] = ..., from_id: _Optional[str] = ..., edge_type: _Optional[str] = ..., to_id: _Optional[str] = ..., properties: _Optional[_Mapping[str, str]] = ..., valid_from: _Optional[int] = ..., valid_until: _Optional[int] = ...) -> None: ...

class AddTemporalEdgeResponse(_message.Message):
    __slots__ = ("success", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error: str
    def __init__(self, success: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class QueryTemporalGraphRequest(_message.Message):
    __slots__ = ("namespace", "node_id", "mode", "timestamp", "start_time", "end_time", "edge_types", "direction")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    EDGE_TYPES_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    node_id: str
    mode: TemporalQueryMode
    timestamp: int
    start_time: int
    end_time: int
    edge_types: _containers.RepeatedScalarFieldContainer[str]
    direction: EdgeDirection
    def __init__(self, namespace: _Optional[str] = ..., node_id: _Optional[str] = ..., mode: _Optional[_Union[TemporalQueryMode, str]] = ..., timestamp: _Optional[int] = ..., start_time: _Optional[int] = ..., end_time: _Optional[int] = ..., edge_types: _Optional[_Iterable[str]] = ..., direction: _Optional[_Union[EdgeDirection, str]] = ...) -> None: ...

class QueryTemporalGraphResponse(_message.Message):
    __slots__ = ("edges", "error")
    EDGES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    edges: _containers.RepeatedCompositeFieldContainer[TemporalEdge]
    error: str
    def __init__(self, edges: _Optional[_Iterable[_Union[TemporalEdge, _Mapping]]] = ..., error: _Optional[str] = ...) -> None: ...

class TemporalEdge(_message.Message):
    __slots__ = ("from_id", "edge_type", "to_id", "properties", "valid_from", "valid_until")
    class PropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    FROM_ID_FIELD_NUMBER: _ClassVar[int]
    EDGE_TYPE_FIELD_NUMBER: _ClassVar[int]
    TO_ID_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    from_id: str
    edge_type: str
    to_id: str
    properties: _containers.ScalarMap[str, str]
    valid_from: int
    valid_until: int
    def __init__(self, from_id: _Optional[str] = ..., edge_type: _Optional[str] = ..., to_id: _Optional[str] = ..., properties: _Optional[_Mapping[str, str]] = ..., valid_from: _Optional[int] = ..., valid_until: _Optional[int] = ...) -> None: ...

class PolicyRule(_message.Message):
    __slots__ = ("id", "name", "pattern", "trigger", "default_action", "expression", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_ACTION_FIELD_NUMBER: _ClassVar[int]
    EXPRESSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    pattern: str
    trigger: PolicyTrigger
    default_action: PolicyActionType
    expression: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., pattern: _Optional[str] = ..., trigger: _Optional[_Union[PolicyTrigger, str]] = ..., default_action: _Optional[_Union[PolicyActionType, str]] = ..., expression: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class RegisterPolicyRequest(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: PolicyRule
    def __init__(self, policy: _Optional[_Union[PolicyRule, _Mapping]] = ...) -> None: ...

class RegisterPolicyResponse(_message.Message):
    __slots__ = ("success", "policy_id", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    policy_id: str
    error: str
    def __init__(self, success: _Optional[bool] = ..., policy_id: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class EvaluatePolicyRequest(_message.Message):
    __slots__ = ("operation", "key", "value", "agent_id", "session_id", "context")
    class ContextEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    operation: str
    key: bytes
    value: bytes
    agent_id: str
    session_id: str
    context: _containers.ScalarMap[str, str]
    def __init__(self, operation: _Optional[str] = ..., key: _Optional[bytes] = ..., value: _Optional[bytes] = ..., agent_id: _Optional[str] = ..., session_id: _Optional[str] = ..., context: _Optional[_Mapping[str, str]] = ...) -> None: ...

class EvaluatePolicyResponse(_message.Message):
    __slots__ = ("action", "modified_value", "reason", "matched_policies")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_VALUE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MATCHED_POLICIES_FIELD_NUMBER: _ClassVar[int]
    action: PolicyActionType
    modified_value: bytes
    reason: str
    matched_policies: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, action: _Optional[_Union[PolicyActionType, str]] = ..., modified_value: _Optional[bytes] = ..., reason: _Optional[str] = ..., matched_policies: _Optional[_Iterable[str]] = ...) -> None: ...

class ListPoliciesRequest(_message.Message):
    __slots__ = ("pattern",)
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    pattern: str
    def __init__(self, pattern: _Optional[str] = ...) -> None: ...

class ListPoliciesResponse(_message.Message):
    __slots__ = ("policies",)
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    policies: _containers.RepeatedCompositeFieldContainer[PolicyRule]
    def __init__(self, policies: _Optional[_Iterable[_Union[PolicyRule, _Mapping]]] = ...) -> None: ...

class DeletePolicyRequest(_message.Message):
    __slots__ = ("policy_id",)
    POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    policy_id: str
    def __init__(self, policy_id: _Optional[str] = ...) -> None: ...

class DeletePolicyResponse(_message.Message):
    __slots__ = ("success", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error: str
    def __init__(self, success: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class ContextSection(_message.Message):
    __slots__ = ("name", "priority", "section_type", "query", "options")
    class OptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    SECTION_TYPE_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    priority: int
    section_type: ContextSectionType
    query: str
    options: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., priority: _Optional[int] = ..., section_type: _Optional[_Union[ContextSectionType, str]] = ..., query: _Optional[str] = ..., options: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ContextQueryRequest(_message.Message):
    __slots__ = ("session_id", "token_limit", "sections", "format", "include_schema")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    TOKEN_LIMIT_FIELD_NUMBER: _ClassVar[int]
    SECTIONS_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    token_limit: int
    sections: _containers.RepeatedCompositeFieldContainer[ContextSection]
    format: OutputFormat
    include_schema: bool
    def __init__(self, session_id: _Optional[str] = ..., token_limit: _Optional[int] = ..., sections: _Optional[_Iterable[_Union[ContextSection, _Mapping]]] = ..., format: _Optional[_Union[OutputFormat, str]] = ..., include_schema: _Optional[bool] = ...) -> None: ...

class ContextQueryResponse(_message.Message):
    __slots__ = ("context", "total_tokens", "section_results", "error")
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    SECTION_RESULTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    context: str
    total_tokens: int
    section_results: _containers.RepeatedCompositeFieldContainer[SectionResult]
    error: str
    def __init__(self, context: _Optional[str] = ..., total_tokens: _Optional[int] = ..., section_results: _Optional[_Iterable[_Union[SectionResult, _Mapping]]] = ..., error: _Optional[str] = ...) -> None: ...

class SectionResult(_message.Message):
    __slots__ = ("name", "tokens_used", "truncated", "content")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TOKENS_USED_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    name: str
    tokens_used: int
    truncated: bool
    content: str
    def __init__(self, name: _Optional[str] = ..., tokens_used: _Optional[int] = ..., truncated: _Optional[bool] = ..., content: _Optional[str] = ...) -> None: ...

class EstimateTokensRequest(_message.Message):
    __slots__ = ("content", "model")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    content: str
    model: str
    def __init__(self, content: _Optional[str] = ..., model: _Optional[str] = ...) -> None: ...

class EstimateTokensResponse(_message.Message):
    __slots__ = ("token_count",)
    TOKEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    token_count: int
    def __init__(self, token_count: _Optional[int] = ...) -> None: ...

class FormatContextRequest(_message.Message):
    __slots__ = ("content", "format")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    content: str
    format: OutputFormat
    def __init__(self, content: _Optional[str] = ..., format: _Optional[_Union[OutputFormat, str]] = ...) -> None: ...

class FormatContextResponse(_message.Message):
    __slots__ = ("formatted",)
    FORMATTED_FIELD_NUMBER: _ClassVar[int]
    formatted: str
    def __init__(self, formatted: _Optional[str] = ...) -> None: ...

class WriteEpisodeRequest(_message.Message):
    __slots__ = ("namespace", "text", "t_valid_from", "metadata_json")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    T_VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    text: str
    t_valid_from: int
    metadata_json: str
    def __init__(self, namespace: _Optional[str] = ..., text: _Optional[str] = ..., t_valid_from: _Optional[int] = ..., metadata_json: _Optional[str] = ...) -> None: ...

class WriteEpisodeResponse(_message.Message):
    __slots__ = ("episode_id", "t_created", "lexical_indexed", "ingestion_lag_us", "enrichment_queued", "error")
    EPISODE_ID_FIELD_NUMBER: _ClassVar[int]
    T_CREATED_FIELD_NUMBER: _ClassVar[int]
    LEXICAL_INDEXED_FIELD_NUMBER: _ClassVar[int]
    INGESTION_LAG_US_FIELD_NUMBER: _ClassVar[int]
    ENRICHMENT_QUEUED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    episode_id: int
    t_created: int
    lexical_indexed: bool
    ingestion_lag_us: int
    enrichment_queued: bool
    error: str
    def __init__(self, episode_id: _Optional[int] = ..., t_created: _Optional[int] = ..., lexical_indexed: _Optional[bool] = ..., ingestion_lag_us: _Optional[int] = ..., enrichment_queued: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class Collection(_message.Message):
    __slots__ = ("name", "namespace", "dimension", "metric", "document_count", "created_at", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    name: str
    namespace: str
    dimension: int
    metric: DistanceMetric
    document_count: int
    created_at: int
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., namespace: _Optional[str] = ..., dimension: _Optional[int] = ..., metric: _Optional[_Union[DistanceMetric, str]] = ..., document_count: _Optional[int] = ..., created_at: _Optional[int] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Document(_message.Message):
    __slots__ = ("id", "embedding", "content", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    id: str
    embedding: _containers.RepeatedScalarFieldContainer[float]
    content: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, id: _Optional[str] = ..., embedding: _Optional[_Iterable[float]] = ..., content: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateCollectionRequest(_message.Message):
    __slots__ = ("name", "namespace", "dimension", "metric", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    name: str
    namespace: str
    dimension: int
    metric: DistanceMetric
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., namespace: _Optional[str] = ..., dimension: _Optional[int] = ..., metric: _Optional[_Union[DistanceMetric, str]] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateCollectionResponse(_message.Message):
    __slots__ = ("success", "collection", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    collection: Collection
    error: str
    def __init__(self, success: _Optional[bool] = ..., collection: _Optional[_Union[Collection, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class GetCollectionRequest(_message.Message):
    __slots__ = ("name", "namespace")
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    name: str
    namespace: str
    def __init__(self, name: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class GetCollectionResponse(_message.Message):
    __slots__ = ("collection", "error")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    collection: Collection
    error: str
    def __init__(self, collection: _Optional[_Union[Collection, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class ListCollectionsRequest(_message.Message):
    __slots__ = ("namespace",)
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    def __init__(self, namespace: _Optional[str] = ...) -> None: ...

class ListCollectionsResponse(_message.Message):
    __slots__ = ("collections",)
    COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    collections: _containers.RepeatedCompositeFieldContainer[Collection]
    def __init__(self, collections: _Optional[_Iterable[_Union[Collection, _Mapping]]] = ...) -> None: ...

class DeleteCollectionRequest(_message.Message):
    __slots__ = ("name", "namespace")
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    name: str
    namespace: str
    def __init__(self, name: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class DeleteCollectionResponse(_message.Message):
    __slots__ = ("success", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error: str
    def __init__(self, success: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class AddDocumentsRequest(_message.Message):
    __slots__ = ("collection_name", "namespace", "documents")
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    namespace: str
    documents: _containers.RepeatedCompositeFieldContainer[Document]
    def __init__(self, collection_name: _Optional[str] = ..., namespace: _Optional[str] = ..., documents: _Optional[_Iterable[_Union[Document, _Mapping]]] = ...) -> None: ...

class AddDocumentsResponse(_message.Message):
    __slots__ = ("added_count", "ids", "error")
    ADDED_COUNT_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    added_count: int
    ids: _containers.RepeatedScalarFieldContainer[str]
    error: str
    def __init__(self, added_count: _Optional[int] = ..., ids: _Optional[_Iterable[str]] = ..., error: _Optional[str] = ...) -> None: ...

class SearchCollectionRequest(_message.Message):
    __slots__ = ("collection_name", "namespace", "query", "k", "filter")
    class FilterEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    namespace: str
    query: _containers.RepeatedScalarFieldContainer[float]
    k: int
    filter: _containers.ScalarMap[str, str]
    def __init__(self, collection_name: _Optional[str] = ..., namespace: _Optional[str] = ..., query: _Optional[_Iterable[float]] = ..., k: _Optional[int] = ..., filter: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SearchCollectionResponse(_message.Message):
    __slots__ = ("results", "duration_us", "error")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    DURATION_US_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[DocumentResult]
    duration_us: int
    error: str
    def __init__(self, results: _Optional[_Iterable[_Union[DocumentResult, _Mapping]]] = ..., duration_us: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class DocumentResult(_message.Message):
    __slots__ = ("document", "score")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    document: Document
    score: float
    def __init__(self, document: _Optional[_Union[Document, _Mapping]] = ..., score: _Optional[float] = ...) -> None: ...

class GetDocumentRequest(_message.Message):
    __slots__ = ("collection_name", "namespace", "document_id")
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    namespace: str
    document_id: str
    def __init__(self, collection_name: _Optional[str] = ..., namespace: _Optional[str] = ..., document_id: _Optional[str] = ...) -> None: ...

class GetDocumentResponse(_message.Message):
    __slots__ = ("document", "error")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    document: Document
    error: str
    def __init__(self, document: _Optional[_Union[Document, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class DeleteDocumentRequest(_message.Message):
    __slots__ = ("collection_name", "namespace", "document_id")
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    namespace: str
    document_id: str
    def __init__(self, collection_name: _Optional[str] = ..., namespace: _Optional[str] = ..., document_id: _Optional[str] = ...) -> None: ...

class DeleteDocumentResponse(_message.Message):
    __slots__ = ("success", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error: str
    def __init__(self, success: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class Namespace(_message.Message):
    __slots__ = ("name", "description", "created_at", "quota", "stats", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    QUOTA_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    created_at: int
    quota: NamespaceQuota
    stats: NamespaceStats
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., created_at: _Optional[int] = ..., quota: _Optional[_Union[NamespaceQuota, _Mapping]] = ..., stats: _Optional[_Union[NamespaceStats, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class NamespaceQuota(_message.Message):
    __slots__ = ("max_storage_bytes", "max_vectors", "max_collections")
    MAX_STORAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_VECTORS_FIELD_NUMBER: _ClassVar[int]
    MAX_COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    max_storage_bytes: int
    max_vectors: int
    max_collections: int
    def __init__(self, max_storage_bytes: _Optional[int] = ..., max_vectors: _Optional[int] = ..., max_collections: _Optional[int] = ...) -> None: ...

class NamespaceStats(_message.Message):
    __slots__ = ("storage_bytes", "vector_count", "collection_count")
    STORAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    VECTOR_COUNT_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    storage_bytes: int
    vector_count: int
    collection_count: int
    def __init__(self, storage_bytes: _Optional[int] = ..., vector_count: _Optional[int] = ..., collection_count: _Optional[int] = ...) -> None: ...

class CreateNamespaceRequest(_message.Message):
    __slots__ = ("name", "description", "quota", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    QUOTA_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    quota: NamespaceQuota
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., quota: _Optional[_Union[NamespaceQuota, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateNamespaceResponse(_message.Message):
    __slots__ = ("success", "namespace", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    namespace: Namespace
    error: str
    def __init__(self, success: _Optional[bool] = ..., namespace: _Optional[_Union[Namespace, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class GetNamespaceRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetNamespaceResponse(_message.Message):
    __slots__ = ("namespace", "error")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    namespace: Namespace
    error: str
    def __init__(self, namespace: _Optional[_Union[Namespace, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class ListNamespacesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListNamespacesResponse(_message.Message):
    __slots__ = ("namespaces",)
    NAMESPACES_FIELD_NUMBER: _ClassVar[int]
    namespaces: _containers.RepeatedCompositeFieldContainer[Namespace]
    def __init__(self, namespaces: _Optional[_Iterable[_Union[Namespace, _Mapping]]] = ...) -> None: ...

class DeleteNamespaceRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteNamespaceResponse(_message.Message):
    __slots__ = ("success", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error: str
    def __init__(self, success: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class SetQuotaRequest(_message.Message):
    __slots__ = ("namespace", "quota")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    QUOTA_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    quota: NamespaceQuota
    def __init__(self, namespace: _Optional[str] = ..., quota: _Optional[_Union[NamespaceQuota, _Mapping]] = ...) -> None: ...

class SetQuotaResponse(_message.Message):
    __slots__ = ("success", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error: str
    def __init__(self, success: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class SemanticCacheGetRequest(_message.Message):
    __slots__ = ("cache_name", "query", "query_embedding", "similarity_threshold")
    CACHE_NAME_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    QUERY_EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    SIMILARITY_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    cache_name: str
    query: str
    query_embedding: _containers.RepeatedScalarFieldContainer[float]
    similarity_threshold: float
    def __init__(self, cache_name: _Optional[str] = ..., query: _Optional[str] = ..., query_embedding: _Optional[_Iterable[float]] = ..., similarity_threshold: _Optional[float] = ...) -> None: ...

class SemanticCacheGetResponse(_message.Message):
    __slots__ = ("hit", "cached_value", "similarity_score", "matched_key")
    HIT_FIELD_NUMBER: _ClassVar[int]
    CACHED_VALUE_FIELD_NUMBER: _ClassVar[int]
    SIMILARITY_SCORE_FIELD_NUMBER: _ClassVar[int]
    MATCHED_KEY_FIELD_NUMBER: _ClassVar[int]
    hit: bool
    cached_value: str
    similarity_score: float
    matched_key: str
    def __init__(self, hit: _Optional[bool] = ..., cached_value: _Optional[str] = ..., similarity_score: _Optional[float] = ..., matched_key: _Optional[str] = ...) -> None: ...

class SemanticCachePutRequest(_message.Message):
    __slots__ = ("cache_name", "key", "value", "key_embedding", "ttl_seconds")
    CACHE_NAME_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    KEY_EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    cache_name: str
    key: str
    value: str
    key_embedding: _containers.RepeatedScalarFieldContainer[float]
    ttl_seconds: int
    def __init__(self, cache_name: _Optional[str] = ..., key: _Optional[str] = ..., value: _Optional[str] = ..., key_embedding: _Optional[_Iterable[float]] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class SemanticCachePutResponse(_message.Message):
    __slots__ = ("success", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error: str
    def __init__(self, success: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class SemanticCacheInvalidateRequest(_message.Message):
    __slots__ = ("cache_name", "pattern")
    CACHE_NAME_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    cache_name: str
    pattern: str
    def __init__(self, cache_name: _Optional[str] = ..., pattern: _Optional[str] = ...) -> None: ...

class SemanticCacheInvalidateResponse(_message.Message):
    __slots__ = ("invalidated_count",)
    INVALIDATED_COUNT_FIELD_NUMBER: _ClassVar[int]
    invalidated_count: int
    def __init__(self, invalidated_count: _Optional[int] = ...) -> None: ...

class SemanticCacheStatsRequest(_message.Message):
    __slots__ = ("cache_name",)
    CACHE_NAME_FIELD_NUMBER: _ClassVar[int]
    cache_name: str
    def __init__(self, cache_name: _Optional[str] = ...) -> None: ...

class SemanticCacheStatsResponse(_message.Message):
    __slots__ = ("hits", "misses", "entry_count", "hit_rate")
    HITS_FIELD_NUMBER: _ClassVar[int]
    MISSES_FIELD_NUMBER: _ClassVar[int]
    ENTRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    HIT_RATE_FIELD_NUMBER: _ClassVar[int]
    hits: int
    misses: int
    entry_count: int
    hit_rate: float
    def __init__(self, hits: _Optional[int] = ..., misses: _Optional[int] = ..., entry_count: _Optional[int] = ..., hit_rate: _Optional[float] = ...) -> None: ...

class Trace(_message.Message):
    __slots__ = ("trace_id", "name", "start_time_us", "end_time_us", "spans", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_US_FIELD_NUMBER: _ClassVar[int]
    END_TIME_US_FIELD_NUMBER: _ClassVar[int]
    SPANS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    trace_id: str
    name: str
    start_time_us: int
    end_time_us: int
    spans: _containers.RepeatedCompositeFieldContainer[Span]
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, trace_id: _Optional[str] = ..., name: _Optional[str] = ..., start_time_us: _Optional[int] = ..., end_time_us: _Optional[int] = ..., spans: _Optional[_Iterable[_Union[Span, _Mapping]]] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Span(_message.Message):
    __slots__ = ("span_id", "trace_id", "parent_span_id", "name", "start_time_us", "end_time_us", "status", "events", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_US_FIELD_NUMBER: _ClassVar[int]
    END_TIME_US_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    span_id: str
    trace_id: str
    parent_span_id: str
    name: str
    start_time_us: int
    end_time_us: int
    status: SpanStatus
    events: _containers.RepeatedCompositeFieldContainer[SpanEvent]
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, span_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., parent_span_id: _Optional[str] = ..., name: _Optional[str] = ..., start_time_us: _Optional[int] = ..., end_time_us: _Optional[int] = ..., status: _Optional[_Union[SpanStatus, str]] = ..., events: _Optional[_Iterable[_Union[SpanEvent, _Mapping]]] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SpanEvent(_message.Message):
    __slots__ = ("name", "timestamp_us", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_US_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    name: str
    timestamp_us: int
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., timestamp_us: _Optional[int] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class StartTraceRequest(_message.Message):
    __slots__ = ("name", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    name: str
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class StartTraceResponse(_message.Message):
    __slots__ = ("trace_id", "root_span_id")
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    ROOT_SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    trace_id: str
    root_span_id: str
    def __init__(self, trace_id: _Optional[str] = ..., root_span_id: _Optional[str] = ...) -> None: ...

class StartSpanRequest(_message.Message):
    __slots__ = ("trace_id", "parent_span_id", "name", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    trace_id: str
    parent_span_id: str
    name: str
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, trace_id: _Optional[str] = ..., parent_span_id: _Optional[str] = ..., name: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class StartSpanResponse(_message.Message):
    __slots__ = ("span_id",)
    SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    span_id: str
    def __init__(self, span_id: _Optional[str] = ...) -> None: ...

class EndSpanRequest(_message.Message):
    __slots__ = ("trace_id", "span_id", "status", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    trace_id: str
    span_id: str
    status: SpanStatus
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, trace_id: _Optional[str] = ..., span_id: _Optional[str] = ..., status: _Optional[_Union[SpanStatus, str]] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class EndSpanResponse(_message.Message):
    __slots__ = ("success", "duration_us")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    DURATION_US_FIELD_NUMBER: _ClassVar[int]
    success: bool
    duration_us: int
    def __init__(self, success: _Optional[bool] = ..., duration_us: _Optional[int] = ...) -> None: ...

class AddEventRequest(_message.Message):
    __slots__ = ("trace_id", "span_id", "event_name", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_NAME_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    trace_id: str
    span_id: str
    event_name: str
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, trace_id: _Optional[str] = ..., span_id: _Optional[str] = ..., event_name: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class AddEventResponse(_message.Message):
    __slots__ = ("success",)
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    success: bool
    def __init__(self, success: _Optional[bool] = ...) -> None: ...

class GetTraceRequest(_message.Message):
    __slots__ = ("trace_id",)
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    trace_id: str
    def __init__(self, trace_id: _Optional[str] = ...) -> None: ...

class GetTraceResponse(_message.Message):
    __slots__ = ("trace", "error")
    TRACE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    trace: Trace
    error: str
    def __init__(self, trace: _Optional[_Union[Trace, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class ListTracesRequest(_message.Message):
    __slots__ = ("limit", "since_timestamp", "name_filter")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    SINCE_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    NAME_FILTER_FIELD_NUMBER: _ClassVar[int]
    limit: int
    since_timestamp: int
    name_filter: str
    def __init__(self, limit: _Optional[int] = ..., since_timestamp: _Optional[int] = ..., name_filter: _Optional[str] = ...) -> None: ...

class ListTracesResponse(_message.Message):
    __slots__ = ("traces",)
    TRACES_FIELD_NUMBER: _ClassVar[int]
    traces: _containers.RepeatedCompositeFieldContainer[Trace]
    def __init__(self, traces: _Optional[_Iterable[_Union[Trace, _Mapping]]] = ...) -> None: ...

class Checkpoint(_message.Message):
    __slots__ = ("id", "name", "namespace", "created_at", "size_bytes", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    namespace: str
    created_at: int
    size_bytes: int
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., namespace: _Optional[str] = ..., created_at: _Optional[int] = ..., size_bytes: _Optional[int] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateCheckpointRequest(_message.Message):
    __slots__ = ("name", "namespace", "include_patterns", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_PATTERNS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    name: str
    namespace: str
    include_patterns: _containers.RepeatedScalarFieldContainer[str]
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., namespace: _Optional[str] = ..., include_patterns: _Optional[_Iterable[str]] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateCheckpointResponse(_message.Message):
    __slots__ = ("success", "checkpoint", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    checkpoint: Checkpoint
    error: str
    def __init__(self, success: _Optional[bool] = ..., checkpoint: _Optional[_Union[Checkpoint, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class RestoreCheckpointRequest(_message.Message):
    __slots__ = ("checkpoint_id", "target_namespace", "overwrite")
    CHECKPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    OVERWRITE_FIELD_NUMBER: _ClassVar[int]
    checkpoint_id: str
    target_namespace: str
    overwrite: bool
    def __init__(self, checkpoint_id: _Optional[str] = ..., target_namespace: _Optional[str] = ..., overwrite: _Optional[bool] = ...) -> None: ...

class RestoreCheckpointResponse(_message.Message):
    __slots__ = ("success", "restored_keys", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    RESTORED_KEYS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    restored_keys: int
    error: str
    def __init__(self, success: _Optional[bool] = ..., restored_keys: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class ListCheckpointsRequest(_message.Message):
    __slots__ = ("namespace",)
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    def __init__(self, namespace: _Optional[str] = ...) -> None: ...

class ListCheckpointsResponse(_message.Message):
    __slots__ = ("checkpoints",)
    CHECKPOINTS_FIELD_NUMBER: _ClassVar[int]
    checkpoints: _containers.RepeatedCompositeFieldContainer[Checkpoint]
    def __init__(self, checkpoints: _Optional[_Iterable[_Union[Checkpoint, _Mapping]]] = ...) -> None: ...

class DeleteCheckpointRequest(_message.Message):
    __slots__ = ("checkpoint_id",)
    CHECKPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    checkpoint_id: str
    def __init__(self, checkpoint_id: _Optional[str] = ...) -> None: ...

class DeleteCheckpointResponse(_message.Message):
    __slots__ = ("success", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error: str
    def __init__(self, success: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class ExportCheckpointRequest(_message.Message):
    __slots__ = ("checkpoint_id", "format")
    CHECKPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    checkpoint_id: str
    format: ExportFormat
    def __init__(self, checkpoint_id: _Optional[str] = ..., format: _Optional[_Union[ExportFormat, str]] = ...) -> None: ...

class ExportCheckpointResponse(_message.Message):
    __slots__ = ("data", "error")
    DATA_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    error: str
    def __init__(self, data: _Optional[bytes] = ..., error: _Optional[str] = ...) -> None: ...

class ImportCheckpointRequest(_message.Message):
    __slots__ = ("data", "format", "name", "namespace")
    DATA_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    format: ExportFormat
    name: str
    namespace: str
    def __init__(self, data: _Optional[bytes] = ..., format: _Optional[_Union[ExportFormat, str]] = ..., name: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class ImportCheckpointResponse(_message.Message):
    __slots__ = ("success", "checkpoint", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    checkpoint: Checkpoint
    error: str
    def __init__(self, success: _Optional[bool] = ..., checkpoint: _Optional[_Union[Checkpoint, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class McpTool(_message.Message):
    __slots__ = ("name", "description", "input_schema", "output_schema", "tags", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    INPUT_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    input_schema: str
    output_schema: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., input_schema: _Optional[str] = ..., output_schema: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class RegisterToolRequest(_message.Message):
    __slots__ = ("tool", "handler_endpoint")
    TOOL_FIELD_NUMBER: _ClassVar[int]
    HANDLER_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    tool: McpTool
    handler_endpoint: str
    def __init__(self, tool: _Optional[_Union[McpTool, _Mapping]] = ..., handler_endpoint: _Optional[str] = ...) -> None: ...

class RegisterToolResponse(_message.Message):
    __slots__ = ("success", "tool_id", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    TOOL_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    tool_id: str
    error: str
    def __init__(self, success: _Optional[bool] = ..., tool_id: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class ExecuteToolRequest(_message.Message):
    __slots__ = ("tool_name", "input", "context", "timeout_ms")
    TOOL_NAME_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    tool_name: str
    input: str
    context: str
    timeout_ms: int
    def __init__(self, tool_name: _Optional[str] = ..., input: _Optional[str] = ..., context: _Optional[str] = ..., timeout_ms: _Optional[int] = ...) -> None: ...

class ExecuteToolResponse(_message.Message):
    __slots__ = ("success", "output", "error", "duration_us")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DURATION_US_FIELD_NUMBER: _ClassVar[int]
    success: bool
    output: str
    error: str
    duration_us: int
    def __init__(self, success: _Optional[bool] = ..., output: _Optional[str] = ..., error: _Optional[str] = ..., duration_us: _Optional[int] = ...) -> None: ...

class ListToolsRequest(_message.Message):
    __slots__ = ("tags",)
    TAGS_FIELD_NUMBER: _ClassVar[int]
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tags: _Optional[_Iterable[str]] = ...) -> None: ...

class ListToolsResponse(_message.Message):
    __slots__ = ("tools",)
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    tools: _containers.RepeatedCompositeFieldContainer[McpTool]
    def __init__(self, tools: _Optional[_Iterable[_Union[McpTool, _Mapping]]] = ...) -> None: ...

class UnregisterToolRequest(_message.Message):
    __slots__ = ("tool_name",)
    TOOL_NAME_FIELD_NUMBER: _ClassVar[int]
    tool_name: str
    def __init__(self, tool_name: _Optional[str] = ...) -> None: ...

class UnregisterToolResponse(_message.Message):
    __slots__ = ("success", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error: str
    def __init__(self, success: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class GetToolSchemaRequest(_message.Message):
    __slots__ = ("tool_name",)
    TOOL_NAME_FIELD_NUMBER: _ClassVar[int]
    tool_name: str
    def __init__(self, tool_name: _Optional[str] = ...) -> None: ...

class GetToolSchemaResponse(_message.Message):
    __slots__ = ("tool", "error")
    TOOL_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    tool: McpTool
    error: str
    def __init__(self, tool: _Optional[_Union[McpTool, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class KvGetRequest(_message.Message):
    __slots__ = ("namespace", "key")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    key: bytes
    def __init__(self, namespace: _Optional[str] = ..., key: _Optional[bytes] = ...) -> None: ...

class KvGetResponse(_message.Message):
    __slots__ = ("value", "found", "error")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    FOUND_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    value: bytes
    found: bool
    error: str
    def __init__(self, value: _Optional[bytes] = ..., found: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class KvPutRequest(_message.Message):
    __slots__ = ("namespace", "key", "value", "ttl_seconds")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    key: bytes
    value: bytes
    ttl_seconds: int
    def __init__(self, namespace: _Optional[str] = ..., key: _Optional[bytes] = ..., value: _Optional[bytes] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class KvPutResponse(_message.Message):
    __slots__ = ("success", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error: str
    def __init__(self, success: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class KvDeleteRequest(_message.Message):
    __slots__ = ("namespace", "key")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    key: bytes
    def __init__(self, namespace: _Optional[str] = ..., key: _Optional[bytes] = ...) -> None: ...

class KvDeleteResponse(_message.Message):
    __slots__ = ("success", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error: str
    def __init__(self, success: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class KvScanRequest(_message.Message):
    __slots__ = ("namespace", "prefix", "limit")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    prefix: bytes
    limit: int
    def __init__(self, namespace: _Optional[str] = ..., prefix: _Optional[bytes] = ..., limit: _Optional[int] = ...) -> None: ...

class KvScanResponse(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: bytes
    value: bytes
    def __init__(self, key: _Optional[bytes] = ..., value: _Optional[bytes] = ...) -> None: ...

class KvBatchGetRequest(_message.Message):
    __slots__ = ("namespace", "keys")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    keys: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, namespace: _Optional[str] = ..., keys: _Optional[_Iterable[bytes]] = ...) -> None: ...

class KvBatchGetResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[KvEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[KvEntry, _Mapping]]] = ...) -> None: ...

class KvEntry(_message.Message):
    __slots__ = ("key", "value", "found")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    FOUND_FIELD_NUMBER: _ClassVar[int]
    key: bytes
    value: bytes
    found: bool
    def __init__(self, key: _Optional[bytes] = ..., value: _Optional[bytes] = ..., found: _Optional[bool] = ...) -> None: ...

class KvBatchPutRequest(_message.Message):
    __slots__ = ("namespace", "entries")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    entries: _containers.RepeatedCompositeFieldContainer[KvPutEntry]
    def __init__(self, namespace: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[KvPutEntry, _Mapping]]] = ...) -> None: ...

class KvPutEntry(_message.Message):
    __slots__ = ("key", "value", "ttl_seconds")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    key: bytes
    value: bytes
    ttl_seconds: int
    def __init__(self, key: _Optional[bytes] = ..., value: _Optional[bytes] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class KvBatchPutResponse(_message.Message):
    __slots__ = ("success_count", "error")
    SUCCESS_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success_count: int
    error: str
    def __init__(self, success_count: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ("namespace", "tables", "operations", "start_sequence", "where_predicate", "batch_size")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TABLES_FIELD_NUMBER: _ClassVar[int]
    OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    START_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    WHERE_PREDICATE_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    tables: _containers.RepeatedScalarFieldContainer[str]
    operations: _containers.RepeatedScalarFieldContainer[OperationType]
    start_sequence: int
    where_predicate: str
    batch_size: int
    def __init__(self, namespace: _Optional[str] = ..., tables: _Optional[_Iterable[str]] = ..., operations: _Optional[_Iterable[_Union[OperationType, str]]] = ..., start_sequence: _Optional[int] = ..., where_predicate: _Optional[str] = ..., batch_size: _Optional[int] = ...) -> None: ...

class SubscribeEvent(_message.Message):
    __slots__ = ("sequence", "timestamp_us", "txn_id", "table", "key", "operation", "after_value", "before_value", "ddl")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_US_FIELD_NUMBER: _ClassVar[int]
    TXN_ID_FIELD_NUMBER: _ClassVar[int]
    TABLE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    AFTER_VALUE_FIELD_NUMBER: _ClassVar[int]
    BEFORE_VALUE_FIELD_NUMBER: _ClassVar[int]
    DDL_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    timestamp_us: int
    txn_id: int
    table: str
    key: bytes
    operation: OperationType
    after_value: bytes
    before_value: bytes
    ddl: str
    def __init__(self, sequence: _Optional[int] = ..., timestamp_us: _Optional[int] = ..., txn_id: _Optional[int] = ..., table: _Optional[str] = ..., key: _Optional[bytes] = ..., operation: _Optional[_Union[OperationType, str]] = ..., after_value: _Optional[bytes] = ..., before_value: _Optional[bytes] = ..., ddl: _Optional[str] = ...) -> None: ...

class WatchKeyRequest(_message.Message):
    __slots__ = ("namespace", "table", "key")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TABLE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    table: str
    key: bytes
    def __init__(self, namespace: _Optional[str] = ..., table: _Optional[str] = ..., key: _Optional[bytes] = ...) -> None: ...

class WatchKeyEvent(_message.Message):
    __slots__ = ("sequence", "timestamp_us", "operation", "after_value", "before_value")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_US_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    AFTER_VALUE_FIELD_NUMBER: _ClassVar[int]
    BEFORE_VALUE_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    timestamp_us: int
    operation: OperationType
    after_value: bytes
    before_value: bytes
    def __init__(self, sequence: _Optional[int] = ..., timestamp_us: _Optional[int] = ..., operation: _Optional[_Union[OperationType, str]] = ..., after_value: _Optional[bytes] = ..., before_value: _Optional[bytes] = ...) -> None: ...

class ListSubscriptionsRequest(_message.Message):
    __slots__ = ("namespace",)
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    def __init__(self, namespace: _Optional[str] = ...) -> None: ...

class ListSubscriptionsResponse(_message.Message):
    __slots__ = ("subscriptions",)
    SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    subscriptions: _containers.RepeatedCompositeFieldContainer[SubscriptionInfo]
    def __init__(self, subscriptions: _Optional[_Iterable[_Union[SubscriptionInfo, _Mapping]]] = ...) -> None: ...

class SubscriptionInfo(_message.Message):
    __slots__ = ("subscription_id", "namespace", "tables", "start_sequence", "current_sequence", "created_at_us")
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TABLES_FIELD_NUMBER: _ClassVar[int]
    START_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CURRENT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_US_FIELD_NUMBER: _ClassVar[int]
    subscription_id: str
    namespace: str
    tables: _containers.RepeatedScalarFieldContainer[str]
    start_sequence: int
    current_sequence: int
    created_at_us: int
    def __init__(self, subscription_id: _Optional[str] = ..., namespace: _Optional[str] = ..., tables: _Optional[_Iterable[str]] = ..., start_sequence: _Optional[int] = ..., current_sequence: _Optional[int] = ..., created_at_us: _Optional[int] = ...) -> None: ...

class CancelSubscriptionRequest(_message.Message):
    __slots__ = ("subscription_id",)
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    subscription_id: str
    def __init__(self, subscription_id: _Optional[str] = ...) -> None: ...

class CancelSubscriptionResponse(_message.Message):
    __slots__ = ("success", "error")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    success: bool
    error: str
    def __init__(self, success: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...
