"""``{% image_links %}`` gives a list row the same URLs as reversing each page by name."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.template import Context, Template
from django.urls import reverse

from images.templatetags.image_tags import IMAGE_LINKS

IMAGE_ID = "7c1e0a52-3f5b-4d8e-9a51-2b6f0d4c8e19"


def render(source: str, **context) -> str:
    return Template("{% load image_tags %}" + source).render(Context(context))


@pytest.mark.parametrize("name", IMAGE_LINKS)
def test_each_link_is_the_reversed_url(name):
    project = SimpleNamespace(slug="team-a")
    html = render(
        "{% image_links image_id as links %}{{ links." + name + " }}",
        project=project,
        image_id=IMAGE_ID,
    )
    assert html == reverse(f"images:{name}", args=["team-a", IMAGE_ID])


def test_rows_of_one_render_get_their_own_ids():
    project = SimpleNamespace(slug="team-a")
    other = "0f4e2d1c-9b8a-4765-8432-10fedcba9876"
    html = render(
        "{% for id in ids %}{% image_links id as links %}{{ links.edit }} {% endfor %}",
        project=project,
        ids=[IMAGE_ID, other],
    )
    assert html.split() == [
        reverse("images:edit", args=["team-a", IMAGE_ID]),
        reverse("images:edit", args=["team-a", other]),
    ]


def test_an_id_is_quoted_as_a_path_segment():
    project = SimpleNamespace(slug="team-a")
    html = render("{% image_links image_id as links %}{{ links.members }}", project=project,
                  image_id="a/b c")  # fmt: skip
    assert html == reverse("images:members", args=["team-a", "x"]).replace("/x/", "/a%2Fb%20c/")


def test_a_page_of_rows_reverses_each_name_once_per_project():
    from unittest import mock

    from images.templatetags import image_tags

    image_tags._link_patterns.cache_clear()
    project = SimpleNamespace(slug="team-b")
    source = "{% for id in ids %}{% image_links id as links %}{{ links.detail }}{% endfor %}"
    ids = [IMAGE_ID, "0f4e2d1c-9b8a-4765-8432-10fedcba9876"] * 10
    with mock.patch.object(image_tags, "reverse", wraps=reverse) as spy:
        render(source, project=project, ids=ids)
        assert spy.call_count == len(IMAGE_LINKS)  # not twenty rows times as many
        render(source, project=project, ids=ids)
        assert spy.call_count == len(IMAGE_LINKS)  # the next page reuses them
