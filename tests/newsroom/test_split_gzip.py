"""newsroom.split_gzip: a page compressed once around the part that differs per response."""

import gzip
import os
import zlib

import pytest

from newsroom.split_gzip import SplitGzip


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
    parts = SplitGzip.around(head, tail)
    answer = parts.gzip(middle)
    assert one_member(answer) == head + middle + tail
    assert gzip.decompress(answer) == head + middle + tail


def test_the_middle_differs_per_answer_and_the_rest_is_compressed_once():
    head, tail = b"<html>" + b"shared text " * 5000, b"more shared text " * 5000 + b"</html>"
    parts = SplitGzip.around(head, tail)
    first, second = parts.gzip(b"token-one"), parts.gzip(b"token-two")
    assert one_member(first) == head + b"token-one" + tail
    assert one_member(second) == head + b"token-two" + tail
    assert len(first) < (len(head) + len(tail)) / 20
    assert parts.head_deflated in first and parts.tail_deflated in first


def test_the_header_carries_a_file_name_of_random_length():
    parts = SplitGzip.around(b"a page " * 100, b"")
    assert len({len(parts.gzip(b"x")) for _ in range(30)}) > 1
