"""The demo.Greeter messages, built at run time with the protobuf runtime (no protoc here):
HelloRequest {1: name, 2: times}, HelloReply {1: message, 2: index, 3: tenant, 4: source}."""
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto
_file = descriptor_pb2.FileDescriptorProto(name="greeter.proto", package="demo", syntax="proto3")
_req = _file.message_type.add(name="HelloRequest")
_req.field.add(name="name", number=1, type=_F.TYPE_STRING, label=_F.LABEL_OPTIONAL)
_req.field.add(name="times", number=2, type=_F.TYPE_INT32, label=_F.LABEL_OPTIONAL)
_rep = _file.message_type.add(name="HelloReply")
_rep.field.add(name="message", number=1, type=_F.TYPE_STRING, label=_F.LABEL_OPTIONAL)
_rep.field.add(name="index", number=2, type=_F.TYPE_INT32, label=_F.LABEL_OPTIONAL)
_rep.field.add(name="tenant", number=3, type=_F.TYPE_STRING, label=_F.LABEL_OPTIONAL)
_rep.field.add(name="source", number=4, type=_F.TYPE_STRING, label=_F.LABEL_OPTIONAL)

_pool = descriptor_pool.DescriptorPool()
_pool.Add(_file)


def _message(name):
    desc = _pool.FindMessageTypeByName(name)
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(_pool).GetPrototype(desc)


HelloRequest = _message("demo.HelloRequest")
HelloReply = _message("demo.HelloReply")
SERVICE = "demo.Greeter"
