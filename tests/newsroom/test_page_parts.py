"""{% readerpart %}: the parts of a page that are the reader's own, left out of its frame."""

import pytest
from django.template import Context, Engine, TemplateSyntaxError

from newsroom.templatetags.page_parts import FRAME, PART_AT

LIBRARIES = {"page_parts": "newsroom.templatetags.page_parts"}


def engine(**templates) -> Engine:
    return Engine(
        loaders=[("django.template.loaders.locmem.Loader", templates)], libraries=LIBRARIES
    )


PAGE = (
    "{% load page_parts %}<h1>{{ title }}</h1>"
    "{% readerpart menu %}<nav>{{ name }}</nav>{% endreaderpart %}"
    "<p>shared</p>{% readerpart form %}<form>{{ name }}</form>{% endreaderpart %}"
)


def test_a_page_renders_its_parts_in_place():
    page = engine(page=PAGE).get_template("page")
    html = page.render(Context({"title": "T", "name": "Ann"}))
    assert html == "<h1>T</h1><nav>Ann</nav><p>shared</p><form>Ann</form>"


def test_a_frame_leaves_a_placeholder_for_each_part_and_names_them_in_order():
    page = engine(page=PAGE).get_template("page")
    parts = []
    html = page.render(Context({"title": "T", "name": "Ann", FRAME: parts}))
    assert html == f"<h1>T</h1>{PART_AT}<p>shared</p>{PART_AT}"
    assert parts == ["page#menu", "page#form"]


def test_each_part_renders_alone_by_its_name():
    templates = engine(page=PAGE)
    form = templates.get_template("page#form")
    assert form.render(Context({"name": "Bob", "title": "not rendered"})) == "<form>Bob</form>"


@pytest.mark.parametrize(
    "source",
    [
        "{% load page_parts %}{% readerpart %}x{% endreaderpart %}",
        "{% load page_parts %}{% readerpart a b %}x{% endreaderpart %}",
        "{% load page_parts %}{% readerpart a %}x{% endreaderpart %}{% readerpart a %}y"
        "{% endreaderpart %}",
    ],
)
def test_a_part_needs_one_name_of_its_own(source):
    with pytest.raises(TemplateSyntaxError):
        engine(page=source).get_template("page")
