"""The sync protocol between a van and the hub, owned by neither: the wire format, the record
tables, the bundle and summary-QR formats and the OpenAPI description (see PROTOCOL.md)."""
