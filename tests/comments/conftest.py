"""Fixtures shared by the moderation tests."""

import pytest

from tests.helpers import moderators_group


@pytest.fixture
def moderator(django_user_model):
    user = django_user_model.objects.create_user("moderator", password="x", is_staff=True)
    user.groups.add(moderators_group())
    return user


@pytest.fixture
def mod_client(client, moderator):
    client.force_login(moderator)
    return client
