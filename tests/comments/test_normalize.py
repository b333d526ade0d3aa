"""Text folded so that look-alike spellings compare equal."""

import unicodedata

import pytest

from comments.normalize import email_key, folded, skeleton


@pytest.mark.parametrize(
    "text",
    [
        "pay\u200bpal",
        "pay\u00adpal",
        "\ufeffpaypal",
        "ＰａｙＰａｌ",
        "p\u0430yp\u0430l",  # Cyrillic а
        "PAYPAL",
        "p\u0251ypal",  # Latin alpha
    ],
)
def test_skeleton_of_look_alikes_is_the_plain_spelling(text):
    assert skeleton(text) == skeleton("paypal")


def test_skeleton_keeps_different_words_apart():
    assert skeleton("spammer") != skeleton("spanner")
    assert skeleton("bob") != skeleton("rob")


def test_folded_drops_invisible_characters_and_folds_case_and_width():
    assert folded("Stra\u00dfe\u200d ＫＧＢ\ufe0f") == "strasse kgb"


def test_email_key_decodes_punycode_and_composes_the_domain():
    expected = "troll@bücher.example"
    assert email_key("Troll@XN--BCHER-KVA.example.") == expected
    assert email_key(unicodedata.normalize("NFD", "troll@bücher.example")) == expected
    assert email_key("troll@xn--invalid-.example") == "troll@xn--invalid-.example"
