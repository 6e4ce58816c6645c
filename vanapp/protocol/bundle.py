"""Export bundles, the format: the same batches a push sends, in one signed file for a USB stick,
for a van that never gets a connection. The van writes them (vanapp/sync/bundle.py); the hub
verifies the signature with the van's bundle key and reads the batches back (`read`).

Layout:  b"VANKIT-BUNDLE 1\\n" + header JSON + b"\\n" + batch bodies (gzip, sizes in the header)
         + b"\\nSIG " + hex HMAC-SHA256(bundle_key, every byte before b"\\nSIG ") + b"\\n"
bundle_key = HMAC-SHA256(van secret, b"vankit-bundle-v1")."""
import hashlib
import hmac
import os
import stat

from .. import jsontext
from .wire import MAX_BODY, WireError, unpack

MAGIC = b"VANKIT-BUNDLE 1\n"
SIG = b"\nSIG "
LABEL = b"vankit-bundle-v1"
MAX_BUNDLE = 256 * 1024 * 1024      # a year of a van's records is a few MB; refuse a disk image


class BundleError(ValueError):
    pass


def bundle_key(secret: bytes) -> bytes:
    return hmac.new(secret, LABEL, hashlib.sha256).digest()


def sign(content: bytes, key: bytes) -> bytes:
    """The whole bundle file for `content` (magic, header, batches), signed with the bundle key."""
    return content + SIG + hmac.new(key, content, hashlib.sha256).hexdigest().encode() + b"\n"


def read_file(path) -> bytes:
    """The bytes of the bundle file at `path`, read with a cap: only a regular file (a symlink to
    /dev/zero or a FIFO is refused, not read for ever or waited on), never more than MAX_BUNDLE
    bytes whatever size the file system reports. Raises BundleError."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise BundleError(f"cannot read it: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb", buffering=0) as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise BundleError("not a regular file: a bundle is a file written by `vanapp export-bundle`")
        if info.st_size > MAX_BUNDLE:        # said at once; the reading below stops there anyway
            raise BundleError("the bundle is too large")
        chunks, size = [], 0
        while size <= MAX_BUNDLE:
            chunk = handle.read(min(1 << 20, MAX_BUNDLE + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    if size > MAX_BUNDLE:
        raise BundleError("the bundle is too large")
    return b"".join(chunks)


def read(data: bytes, key_lookup) -> tuple[dict, list[dict]]:
    """Verify a bundle and return (header, batch documents). `key_lookup(van_id)` gives the van's
    bundle key (bytes) or None. Raises BundleError naming what is wrong; reads nothing unsigned."""
    if len(data) > MAX_BUNDLE:
        raise BundleError("the bundle is too large")
    if not data.startswith(MAGIC):
        raise BundleError("not a VanKit bundle (it should start with 'VANKIT-BUNDLE 1')")
    at = data.rfind(SIG)
    if at < 0 or not data.endswith(b"\n"):
        raise BundleError("the bundle has no signature: it is truncated or damaged")
    content, signature = data[:at], data[at + len(SIG):-1].decode("ascii", "replace")
    try:
        header_end = content.index(b"\n", len(MAGIC))
        header = jsontext.loads(content[len(MAGIC):header_end])
        van_id = header["van"]
        specs = header["batches"]
        if not isinstance(van_id, str) or not isinstance(specs, list):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise BundleError("the bundle's header is damaged") from None
    key = key_lookup(van_id)
    if not key:
        raise BundleError(f"unknown, unpaired or revoked van {van_id!r}: the hub cannot verify this bundle")
    expected = hmac.new(key, content, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise BundleError(f"bad signature: this bundle was not made by van {van_id!r} or was changed")
    documents, offset = [], header_end + 1
    for number, spec in enumerate(specs, 1):
        size = spec.get("size") if isinstance(spec, dict) else None
        if type(size) is not int or not 0 < size <= MAX_BODY or offset + size > len(content):
            raise BundleError(f"batch {number}: bad size")
        try:
            documents.append(unpack(content[offset:offset + size]))
        except WireError as exc:
            raise BundleError(f"batch {number}: {exc.message}") from None
        offset += size
    if offset != len(content):
        raise BundleError("the bundle has bytes after its last batch")
    return header, documents
