"""Pages compressed from parts that are compressed once, though other parts differ per reader.

A cached article page is the same for every plain anonymous reader but for the CSRF field of its
comment form; the discussion on it is the same for every reader. GZipMiddleware would compress
the whole 100 KB page again for every response: about a millisecond, more than serving a cached
copy costs. Here each shared part is deflated once, ending on a block boundary with nothing
referring back across it (a full flush), so a response is the stored parts with the reader's
own parts deflated between them: one valid deflate stream in one gzip member (RFC 1951,
RFC 1952). Per response that costs deflating the reader's parts and the checksum of the page.

Like Django's GZipMiddleware (BREACH mitigation), each gzip header carries a file name of random
length, so the size of an answer does not tell its content exactly; and the CSRF token itself
is masked anew for every response.
"""

import secrets
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

# As Django's GZipMiddleware: up to this many random bytes in the header.
MAX_RANDOM_BYTES = 100
# The gzip header: magic, deflate, the FNAME flag, no time, no extra flags, an unknown OS.
HEADER = b"\x1f\x8b\x08\x08\x00\x00\x00\x00\x00\xff"
# An empty final block (fixed Huffman codes, end of block at once): the end of the stream.
LAST_BLOCK = b"\x03\x00"


def _deflated(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)


@dataclass(frozen=True)
class Deflated:
    """A part of a page with its deflate blocks, made once and joined into many answers."""

    raw: bytes
    deflated: bytes

    @classmethod
    def of(cls, raw: bytes) -> "Deflated":
        return cls(raw, _deflated(raw))


def gzip_joined(parts: Iterable[bytes | Deflated]) -> bytes:
    """The parts one after the other, gzipped; a Deflated part is not compressed again."""
    crc = size = 0
    blocks = []
    for part in parts:
        raw, deflated = (part.raw, part.deflated) if isinstance(part, Deflated) else (part, None)
        crc = zlib.crc32(raw, crc)
        size += len(raw)
        blocks.append(deflated if deflated is not None else _deflated(raw))
    name = b"a" * secrets.randbelow(MAX_RANDOM_BYTES) + b"\x00"
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return b"".join((HEADER, name, *blocks, LAST_BLOCK, trailer))


def joined(parts: Iterable[bytes | Deflated]) -> bytes:
    """The parts one after the other, uncompressed."""
    return b"".join(part.raw if isinstance(part, Deflated) else part for part in parts)
