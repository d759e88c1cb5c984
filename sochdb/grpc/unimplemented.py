"""Handlers for the services of sochdb.proto that this server does not provide: every method
answers UNIMPLEMENTED with a message naming the method and what is served instead.

Built from the proto's descriptor, so a service added to the proto is covered without code.
Imports grpc and the generated message module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import grpc
from google.protobuf.message_factory import GetMessageClass

from sochdb.grpc import sochdb_pb2 as pb

__all__ = ["unimplemented_handlers", "unserved_services"]


def unserved_services(served: Iterable[str]) -> list[str]:
    """Full names (``sochdb.v1.GraphService``) of the proto's services not in ``served``."""
    served = set(served)
    return sorted(s.full_name for s in pb.DESCRIPTOR.services_by_name.values()
                  if s.full_name not in served)


def _message(method_full: str, served: Iterable[str]) -> str:
    return (f"{method_full} is not implemented by sochdb-grpc-server; "
            f"served services: {', '.join(sorted(served))}")


def _handler(method: Any, text: str) -> grpc.RpcMethodHandler:
    deserialize = GetMessageClass(method.input_type).FromString
    serialize = GetMessageClass(method.output_type).SerializeToString

    def reject(request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(grpc.StatusCode.UNIMPLEMENTED, text)

    def reject_stream(request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(grpc.StatusCode.UNIMPLEMENTED, text)
        yield  # pragma: no cover - makes this a generator, as stream handlers must be

    make: Callable[..., grpc.RpcMethodHandler]
    if method.client_streaming and method.server_streaming:
        make, fn = grpc.stream_stream_rpc_method_handler, reject_stream
    elif method.client_streaming:
        make, fn = grpc.stream_unary_rpc_method_handler, reject
    elif method.server_streaming:
        make, fn = grpc.unary_stream_rpc_method_handler, reject_stream
    else:
        make, fn = grpc.unary_unary_rpc_method_handler, reject
    return make(fn, request_deserializer=deserialize, response_serializer=serialize)


def unimplemented_handlers(served: Iterable[str]) -> list[grpc.GenericRpcHandler]:
    """One generic handler per proto service outside ``served`` (service full names)."""
    served = sorted(set(served))
    handlers = []
    for full_name in unserved_services(served):
        service = pb.DESCRIPTOR.services_by_name[full_name.rsplit(".", 1)[1]]
        methods = {m.name: _handler(m, _message(f"{full_name}/{m.name}", served))
                   for m in service.methods}
        handlers.append(grpc.method_handlers_generic_handler(full_name, methods))
    return handlers
