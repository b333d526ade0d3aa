"""newsroom.split_gzip: pages gzipped from parts compressed once and parts of each response."""

import gzip
import os
import zlib

import pytest

from newsroom.split_gzip import STORED_MAX, Deflated, gzip_joined, joined


def one_member(data: bytes) -> bytes:
    """The content of `data` read as exactly one gzip member, as every HTTP client reads it."""
    reader = zlib.decompressobj(16 + zlib.MAX_WBITS)
    content = reader.decompress(data)
    assert reader.eof and reader.unused_data == b""
    return content


@pytest.mark.parametrize(
    ("head", "middle", "tail"),
    [
        (b"<p>before " * 2000, b'<input value="token">', b" after</p>" * 3000),
        (b"", b"only the middle", b""),
        (b"all of it", b"", b""),
        (os.urandom(70_000), os.urandom(64), os.urandom(90_000)),
    ],
)
def test_each_answer_is_one_gzip_member_of_the_whole(head, middle, tail):
    shared_around = [Deflated.of(head), middle, Deflated.of(tail)]
    shared_middle = [head, Deflated.of(middle), tail]
    for parts in (shared_around, shared_middle):
        answer = gzip_joined(parts)
        assert one_member(answer) == head + middle + tail
        assert gzip.decompress(answer) == head + middle + tail
        assert joined(parts) == head + middle + tail
    assert one_member(gzip_joined([])) == b""


def test_a_shared_part_is_compressed_once_and_joined_as_it_is():
    head, tail = b"<html>" + b"shared text " * 5000, b"more shared text " * 5000 + b"</html>"
    shared_head, shared_tail = Deflated.of(head), Deflated.of(tail)
    first = gzip_joined([shared_head, b"token-one", shared_tail])
    second = gzip_joined([shared_head, b"token-two", shared_tail])
    assert one_member(first) == head + b"token-one" + tail
    assert one_member(second) == head + b"token-two" + tail
    assert len(first) < (len(head) + len(tail)) / 20
    assert shared_head.deflated in first and shared_tail.deflated in first


def test_the_header_carries_a_file_name_of_random_length():
    page = Deflated.of(b"a page " * 100)
    assert len({len(gzip_joined([page, b"x"])) for _ in range(30)}) > 1


def test_a_readers_short_part_is_stored_as_it_is_and_a_long_one_deflated():
    shared = Deflated.of(b"<p>shared</p>" * 1000)
    short, long = b"token " * 20, b"a reader's own long text " * 2000
    for own in (short, long, os.urandom(STORED_MAX + 10)):
        answer = gzip_joined([shared, own, shared])
        assert one_member(answer) == shared.raw + own + shared.raw
    assert short in gzip_joined([shared, short, shared])
    assert long not in gzip_joined([shared, long, shared])


@pytest.mark.parametrize("before", [b"", b"x", os.urandom(3000)])
def test_a_shared_part_carries_its_checksum_after_any_text(before):
    part = Deflated.of(os.urandom(5000) + b"shared")
    assert part.crc_after(zlib.crc32(before)) == zlib.crc32(before + part.raw)
