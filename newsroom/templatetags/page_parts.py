"""{% readerpart name %}…{% endreaderpart %}: a part of a page that is the reader's own.

A page is rendered as usual, parts and all. Rendered with a list under FRAME in its context, it
is the page's frame instead: each part writes PART_AT in its place and adds its name to the
list, and everything else on the page is what every reader of it sees, kept once and shared
(articles/page_cache.py). Each part is also a template partial, "template.html#name", which
part_templates() finds to render the parts alone, for one reader, around the frame.
"""

from django import template
from django.template.base import PartialTemplate

register = template.Library()

FRAME = "page_frame"
# Where a part goes in a frame. Text on a page is escaped, so it never holds a raw "<".
PART_AT = "<newsroom-part>"


class ReaderPartNode(template.Node):
    def __init__(self, name: str, nodelist):
        self.name = name
        self.nodelist = nodelist

    def render(self, context) -> str:
        frame = context.get(FRAME)
        if frame is None:
            return self.nodelist.render(context)
        frame.append(f"{self.origin.template_name}#{self.name}")
        return PART_AT


@register.tag
def readerpart(parser, token):
    match token.split_contents():
        case [_, name]:
            pass
        case _:
            raise template.TemplateSyntaxError("'readerpart' takes one argument, its name")
    nodelist = parser.parse(("endreaderpart",))
    parser.delete_first_token()
    partials = parser.extra_data.setdefault("partials", {})
    if name in partials:
        raise template.TemplateSyntaxError(
            f"Partial '{name}' is already defined in the '{parser.origin.name}' template."
        )
    partials[name] = PartialTemplate(nodelist, parser.origin, name)
    return ReaderPartNode(name, nodelist)
