"""``{{ text|cloudtext }}``: text the cloud supplies (image names, owners, errors), shown
isolated and with its control characters made visible.

A name like ``evil\\u202egpj.exe`` would otherwise display as ``evilexe.jpg``: a right-to-left
override reorders what follows it, inside its element too, so isolation alone (``<bdi>``,
``unicode-bidi: isolate``) keeps it from spilling into the page but not from spoofing the
name itself. Each bidi control and other invisible control character is therefore shown as
a marked ``U+XXXX`` code.
"""

from __future__ import annotations

import re
import unicodedata

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# C0 and C1 controls, the bidi embeddings, overrides and isolates, the implicit marks, the
# Arabic letter mark, zero-width and other format characters that change what is read.
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def _marker(char: str) -> str:
    code = f"U+{ord(char):04X}"
    name = unicodedata.name(char, "control character").lower()
    return format_html('<span class="control-char" title="{}">{}</span>', name, code)


@register.filter(is_safe=True)
def cloudtext(value: object) -> SafeString:
    """Escape ``value``, show its invisible controls, isolate it in a ``<bdi>``."""
    text = str(conditional_escape(value))
    shown = _INVISIBLE.sub(lambda m: _marker(m.group()), text)
    return mark_safe(f"<bdi>{shown}</bdi>")  # noqa: S308 - escaped above, markers built safely
