"""Limited rich text for product descriptions, cleaned with nh3 (a maintained
HTML sanitiser): paragraphs, emphasis, lists, headings, images and links only."""
from __future__ import annotations

import nh3

ALLOWED_TAGS = {"p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "h3", "h4", "blockquote", "img", "a", "span"}
ALLOWED_ATTRIBUTES = {"img": {"src", "alt", "width", "height"}, "a": {"href", "title"}}


def clean_description(html: str | None) -> str:
    return nh3.clean(html or "", tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https"}, link_rel="nofollow noopener noreferrer").strip()
