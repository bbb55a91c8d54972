"""Cloud-supplied text is isolated and shows its control characters, so a right-to-left
override in an image name cannot make it read as another name (issue 9, bidi)."""

from __future__ import annotations

import pytest
from django.template import loader

from images.templatetags.cloudtext import cloudtext
from imsportal.cloudapi import Image
from imsportal.cloudapi.image import Page
from imsportal.projects.models import CloudProject

SPOOF = "evil\u202egpj.exe"


def test_a_right_to_left_override_is_shown_not_applied():
    html = str(cloudtext(SPOOF))
    assert "\u202e" not in html
    assert html.startswith('<bdi>evil<span class="control-char"')
    assert ">U+202E</span>gpj.exe</bdi>" in html
    assert 'title="right-to-left override"' in html


@pytest.mark.parametrize("char", ["\u200f", "\u2066", "\u2069", "\x00", "\x1b", "\u200b", "\ufeff"])
def test_other_invisible_controls_are_shown(char):
    assert char not in str(cloudtext(f"a{char}b"))


def test_markup_stays_escaped():
    assert str(cloudtext("<b>x</b>\u202e")).startswith("<bdi>&lt;b&gt;x&lt;/b&gt;<span")


def test_plain_names_are_only_isolated():
    assert str(cloudtext("ubuntu-24.04 (العربية)")) == "<bdi>ubuntu-24.04 (العربية)</bdi>"


@pytest.mark.django_db
def test_the_images_list_renders_names_through_it(rf):
    image = Image.from_api({"id": "11111111-2222-3333-4444-555555555555", "name": SPOOF})
    request = rf.get("/p/owner/images/")
    project = CloudProject(name="owner-project", slug="owner")
    html = loader.get_template("images/image_list.html#image-rows").render(
        {"page": Page(items=[image], next_marker=None), "project": project, "can_change": True},
        request,
    )
    assert "\u202e" not in html  # not in the text, nor in a title, label or question
    assert "<bdi>evil" in html
    assert 'title="evil[U+202E]gpj.exe"' in html
