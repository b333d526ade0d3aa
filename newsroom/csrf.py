"""The CSRF token of a form, masked as Django masks it, with the mask drawn in one read.

Django's get_token() masks the reader's secret anew for every response (the BREACH defence the
README cites): a random mask of 32 characters, each added to a character of the secret. It
draws each character of the mask with secrets.choice, one read of the OS's random source per
character, which costs about 60 µs: more than the rest of serving a cached page. This draws the
same mask, uniform over the same 62 characters from the same source, in one read: a byte is
taken modulo 62 when it is below 248 (4 × 62), and dropped otherwise, so no character is more
likely than another. The token has Django's format, and Django's CsrfViewMiddleware checks it.
"""

import os

from django.middleware import csrf

CHARS = csrf.CSRF_ALLOWED_CHARS
_BELOW = 256 - 256 % len(CHARS)
# Byte tables for bytes.translate, so that no step loops over characters in Python: a character
# to its number, a byte to its remainder (the bytes to drop listed apart), a number of up to
# 255 to the character of its remainder.
_NUMBER = bytes.maketrans(CHARS.encode(), bytes(range(len(CHARS))))
_REMAINDER = bytes(byte % len(CHARS) for byte in range(256))
_UNEVEN = bytes(range(_BELOW, 256))
_CHAR = CHARS.encode() * (256 // len(CHARS)) + CHARS[: 256 % len(CHARS)].encode()


def _mask(length: int) -> bytes:
    """`length` numbers below len(CHARS), each as likely as any other."""
    drawn = b""
    while len(drawn) < length:
        drawn += os.urandom(2 * length).translate(_REMAINDER, _UNEVEN)
    return drawn[:length]


def get_token(request) -> str:
    """What django.middleware.csrf.get_token returns: the reader's secret (a new one when the
    request brought none) masked anew; the response then sets or renews the cookie."""
    if "CSRF_COOKIE" not in request.META:
        csrf.rotate_token(request)
    secret = request.META["CSRF_COOKIE"].encode("ascii").translate(_NUMBER)
    # As Django does: the cookie is sent again, which renews its expiry.
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = _mask(len(secret))
    # Each sum of two numbers below 62 fits in its byte: adding them as integers adds each
    # pair, and _CHAR takes the remainder.
    cipher = (int.from_bytes(secret) + int.from_bytes(mask)).to_bytes(len(secret))
    return (mask + cipher).translate(_CHAR).decode("ascii")
