"""A page compressed once for every reader, though one field of it differs per reader.

A cached article page is the same for every plain anonymous reader but for the CSRF field of its
comment form. GZipMiddleware would compress the whole 100 KB page again for every response:
about a millisecond, more than serving the cached copy costs. Here the parts before and after
the field are deflated once, each ending on a block boundary with nothing referring back across
it (a full flush), so a response is the two stored parts with the field deflated on its own in
between: one valid deflate stream in one gzip member (RFC 1951, RFC 1952). Per response that
costs the field's deflation and the checksum of the page.

Like Django's GZipMiddleware (BREACH mitigation), each gzip header carries a file name of random
length, so the size of an answer does not tell its content exactly; and the CSRF token itself
is masked anew for every response.
"""

import secrets
import struct
import zlib
from dataclasses import dataclass

# As Django's GZipMiddleware: up to this many random bytes in the header.
MAX_RANDOM_BYTES = 100
# The gzip header: magic, deflate, the FNAME flag, no time, no extra flags, an unknown OS.
HEADER = b"\x1f\x8b\x08\x08\x00\x00\x00\x00\x00\xff"


def _deflated(data: bytes, flush: int) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(flush)


@dataclass(frozen=True)
class SplitGzip:
    """`head` and `tail` deflated once; `gzip(middle)` is head + middle + tail, gzipped."""

    head: bytes
    tail: bytes
    head_deflated: bytes
    tail_deflated: bytes
    head_crc: int

    @classmethod
    def around(cls, head: bytes, tail: bytes) -> "SplitGzip":
        return cls(
            head=head,
            tail=tail,
            head_deflated=_deflated(head, zlib.Z_FULL_FLUSH),
            tail_deflated=_deflated(tail, zlib.Z_FINISH),
            head_crc=zlib.crc32(head),
        )

    def gzip(self, middle: bytes) -> bytes:
        crc = zlib.crc32(self.tail, zlib.crc32(middle, self.head_crc))
        size = len(self.head) + len(middle) + len(self.tail)
        name = b"a" * secrets.randbelow(MAX_RANDOM_BYTES) + b"\x00"
        return b"".join(
            (
                HEADER,
                name,
                self.head_deflated,
                _deflated(middle, zlib.Z_FULL_FLUSH),
                self.tail_deflated,
                struct.pack("<II", crc, size & 0xFFFFFFFF),
            )
        )
