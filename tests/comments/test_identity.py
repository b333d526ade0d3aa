"""Reserved names: staff members' names and the moderators' list, and their look-alikes."""

import pytest
from django.core.exceptions import ValidationError

from comments.forms import CommentForm
from comments.identity import display_name_clean, is_reserved, name_key
from comments.models import ReservedName
from comments.services import commenter_create

pytestmark = pytest.mark.django_db

VARIANTS = [
    "Moderator",
    "ＭＯＤＥＲＡＴＯＲ",  # fullwidth
    "m o d e r a t o r",  # spacing
    "Modérator",  # accent
    "MODE\u0301RATOR",  # combining accent
    "Mod\u200berator",  # zero-width space
    "M\u043eder\u0430tor",  # Cyrillic о and а
    "Mod-er.ator",
]


@pytest.mark.parametrize("variant", VARIANTS)
def test_look_alikes_of_a_reserved_name_are_reserved(variant):
    ReservedName.objects.create(name="moderator")
    assert is_reserved(variant)


def test_a_cyrillic_capital_a_matches_the_latin_one():
    ReservedName.objects.create(name="Ararat")
    assert is_reserved("\u0410rarat")
    assert name_key("\u0410rarat") == name_key("Ararat")


def test_other_names_are_free():
    ReservedName.objects.create(name="moderator")
    assert not is_reserved("Moderately Sane")
    assert not is_reserved("Ada Reader")


def test_staff_names_are_reserved_but_not_other_accounts(django_user_model):
    staff = django_user_model.objects.create_user(
        "jdoe", first_name="Jane", last_name="Doe", is_staff=True
    )
    commenter_create(user=staff, display_name="Jane the Editor")
    reader = django_user_model.objects.create_user("plainreader")
    commenter_create(user=reader, display_name="Plain Reader")
    for name in ("Jane Doe", "JANE  DOE", "jdoe", "Jane the Editor", "Jane the Édítor"):
        assert is_reserved(name), name
    assert not is_reserved("Plain Reader")
    assert not is_reserved("plainreader")
    # Staff members may use their own names.
    assert not is_reserved("Jane Doe", except_user=staff)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("x", "too_short"),
        ("!!", "too_short"),
        ("Ada\x07", "control_character"),
        ("A" * 81, "too_long"),
        ("ＭＯＤＥＲＡＴＯＲ", "reserved"),
    ],
)
def test_bad_display_names_are_refused_with_a_reason(value, code):
    ReservedName.objects.create(name="Moderator")
    with pytest.raises(ValidationError) as refused:
        display_name_clean(value)
    assert refused.value.code == code


def test_a_display_name_keeps_its_letters_with_spaces_collapsed():
    assert display_name_clean("  Ada   Lovelace ") == "Ada Lovelace"


def test_a_guest_cannot_comment_under_a_reserved_name():
    ReservedName.objects.create(name="Moderator")
    form = CommentForm(
        {"name": "m o d e r a t o r", "email": "guest@example.com", "body": "Hello"}
    )
    assert not form.is_valid()
    assert form.errors.as_data()["name"][0].code == "reserved"
    assert "reserved" in form.errors["name"][0]


def test_the_check_reads_staff_and_reserved_names_in_one_query(
    django_user_model, django_assert_num_queries
):
    for n in range(5):
        staff = django_user_model.objects.create_user(f"staff{n}", is_staff=True)
        commenter_create(user=staff, display_name=f"Desk {n}")
        ReservedName.objects.create(name=f"Reserved {n}")
    with django_assert_num_queries(1):
        assert is_reserved("DESK 4")
    with django_assert_num_queries(1):
        assert is_reserved("reserved 3")
    with django_assert_num_queries(1):
        assert not is_reserved("Desk 9")
