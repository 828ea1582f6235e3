"""protowire.py -- the few protobuf messages the client reads (proto/signed_state.proto,
proto/authority.proto, proto/clock_service.proto), decoded from the wire format with the
standard library alone.

decode_strict() reads a message as quorumd's own strict decoder does: every field known,
of its wire type, and the bytes canonical -- encoding the decoded message again (fields in
number order, proto3 defaults left out, shortest varints) gives back exactly the input -- so
that one message has one byte form, the one its signature covers. decode_lenient() reads the
known fields of an unsigned transport message and skips the rest, as any protobuf reader."""

# Field kinds: how a value is read and written.
UINT64, INT64, UINT32, BOOL, DOUBLE, STRING, BYTES = (
    "uint64", "int64", "uint32", "bool", "double", "string", "bytes")
_VARINT_KINDS = (UINT64, INT64, UINT32, BOOL)

# {field number: (name, kind)}
SIGNED_STATE = {
    1: ("logical_time_ns", UINT64),
    2: ("event_id", STRING),
    3: ("payload", BYTES),
    4: ("signature", BYTES),
    5: ("key_id", STRING),
    # 6 gossip (GossipState) and 7 anchor_proof (AnchorProof) never come with a served time:
    # they are unknown here, so a served time carrying them is refused.
}
SERVED_TIME = {
    1: ("node_id", STRING),
    2: ("key_id", STRING),
    3: ("nonce", BYTES),
    4: ("earliest_ns", INT64),
    5: ("estimate_ns", INT64),
    6: ("latest_ns", INT64),
    7: ("round", UINT64),
    8: ("quorum_hash", BYTES),
    9: ("n", UINT32),
    10: ("f", UINT32),
    11: ("accepted", UINT32),
}
TIME_RESPONSE = {
    1: ("unix_timestamp", UINT64),
    2: ("drift_applied", INT64),
    3: ("last_updated_unix", UINT64),
    4: ("monotonic_version", UINT64),
    5: ("signature", STRING),
    6: ("leader_id", STRING),
    7: ("key_id", STRING),
    8: ("alignment_context_id", STRING),
    9: ("unix_nanos", INT64),
    10: ("earliest_ns", INT64),
    11: ("latest_ns", INT64),
    12: ("attestation", BYTES),
}
ALIGN_TIME_REQUEST = {
    1: ("peer_id", STRING),
    2: ("key_id", STRING),
    3: ("local_anchor", BYTES),
    4: ("timestamp", UINT64),
}
ALIGN_TIME_RESPONSE = {
    1: ("session_id", STRING),
    2: ("remote_anchor", BYTES),
    3: ("signature_proof", BYTES),
    4: ("server_timestamp", UINT64),
}

MESSAGE_MAX = 1 << 16  # no signed answer comes near it


class ProtoError(ValueError):
    """A message that cannot be read; .reason is a short token like quorumd's
    ("envelope_unknown_field", "served_time_not_canonical", ...)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _varint(buf, pos):
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("truncated or overlong varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def _put_varint(value, out):
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return


def _fields(buf):
    """Yields (number, wire type, raw value) for each field of BUF; raises ValueError."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ValueError("field number 0")
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            if pos + 8 > len(buf):
                raise ValueError("truncated fixed64")
            value, pos = bytes(buf[pos:pos + 8]), pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            if pos + length > len(buf):
                raise ValueError("truncated length-delimited field")
            value, pos = bytes(buf[pos:pos + length]), pos + length
        elif wire == 5:
            if pos + 4 > len(buf):
                raise ValueError("truncated fixed32")
            value, pos = bytes(buf[pos:pos + 4]), pos + 4
        else:
            raise ValueError("wire type %d" % wire)
        yield number, wire, value


def _value(kind, wire, raw):
    import struct

    if kind in _VARINT_KINDS:
        if wire != 0:
            raise ValueError("wrong wire type")
        if kind == INT64:
            return raw - (1 << 64) if raw >= 1 << 63 else raw
        if kind == UINT32:
            if raw >= 1 << 32:
                raise ValueError("uint32 out of range")
            return raw
        if kind == BOOL:
            if raw > 1:
                raise ValueError("bool out of range")
            return bool(raw)
        return raw
    if kind == DOUBLE:
        if wire != 1:
            raise ValueError("wrong wire type")
        return struct.unpack("<d", raw)[0]
    if wire != 2:
        raise ValueError("wrong wire type")
    if kind == STRING:
        return raw.decode("utf-8")  # UnicodeDecodeError is a ValueError
    return raw


def _default(kind):
    return {STRING: "", BYTES: b"", BOOL: False, DOUBLE: 0.0}.get(kind, 0)


def encode(message, schema):
    """MESSAGE (a dict) in its canonical encoding: fields in number order, proto3 defaults
    left out."""
    import struct

    out = bytearray()
    for number in sorted(schema):
        name, kind = schema[number]
        value = message.get(name, _default(kind))
        if value == _default(kind):
            continue
        if kind in _VARINT_KINDS:
            _put_varint(number << 3, out)
            _put_varint(int(value) & ((1 << 64) - 1), out)
        elif kind == DOUBLE:
            _put_varint(number << 3 | 1, out)
            out += struct.pack("<d", value)
        else:
            data = value.encode("utf-8") if kind == STRING else bytes(value)
            _put_varint(number << 3 | 2, out)
            _put_varint(len(data), out)
            out += data
    return bytes(out)


def decode_strict(buf, schema, prefix):
    """BUF as the message SCHEMA describes, read strictly (see the module's comment): a dict
    with every field (defaults for those absent). Raises ProtoError PREFIX_decode_failed,
    PREFIX_unknown_field or PREFIX_not_canonical."""
    if len(buf) > MESSAGE_MAX:
        raise ProtoError(prefix + "_decode_failed")
    message = {name: _default(kind) for name, kind in schema.values()}
    try:
        for number, wire, raw in _fields(buf):
            if number not in schema:
                raise ProtoError(prefix + "_unknown_field")
            name, kind = schema[number]
            message[name] = _value(kind, wire, raw)
    except ProtoError:
        raise
    except ValueError as e:
        raise ProtoError(prefix + "_decode_failed") from e
    if encode(message, schema) != bytes(buf):
        raise ProtoError(prefix + "_not_canonical")
    return message


def decode_lenient(buf, schema, prefix):
    """BUF's known fields (a dict with defaults for those absent); unknown fields skipped, a
    repeated scalar's last value kept. Raises ProtoError PREFIX_decode_failed."""
    message = {name: _default(kind) for name, kind in schema.values()}
    try:
        for number, wire, raw in _fields(buf):
            if number in schema:
                name, kind = schema[number]
                message[name] = _value(kind, wire, raw)
    except ValueError as e:
        raise ProtoError(prefix + "_decode_failed") from e
    return message
