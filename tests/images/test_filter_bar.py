"""``{% filter_bar %}`` renders what including ``includes/_filters.html`` renders, and reuses
the HTML only for the same form class and query."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from django.template.loader import render_to_string

from images.forms import CloudImageFilterForm, ImageFilterForm
from images.templatetags.image_tags import _cached_filter_bar, filter_bar

QUERIES = [
    "",
    "name=web&status=active&limit=50",
    "sort_key=name&sort_dir=desc&tag=a&tag=b",
    "size_min=-3&created_after=not-a-date&protected=maybe",  # field errors
    "visibility=shared&more=ignored&name=%3Cscript%3E",
]


@pytest.mark.parametrize("form_class", [ImageFilterForm, CloudImageFilterForm])
@pytest.mark.parametrize("query", QUERIES)
def test_the_bar_is_the_included_template(form_class, query):
    form = form_class(QueryDict(query))
    expected = render_to_string(
        "includes/_filters.html", {"form": form, "action": "/p/a/images/", "target": "rows"}
    )
    assert filter_bar(form_class(QueryDict(query)), "/p/a/images/", "rows") == expected
    assert filter_bar(form_class(QueryDict(query)), "/p/a/images/", "rows") == expected


def test_the_same_query_is_rendered_once():
    _cached_filter_bar.cache_clear()
    filter_bar(ImageFilterForm(QueryDict("name=x")), "/p/a/images/", "rows")
    filter_bar(ImageFilterForm(QueryDict("name=x")), "/p/a/images/", "rows")
    filter_bar(ImageFilterForm(QueryDict("name=y")), "/p/a/images/", "rows")
    filter_bar(ImageFilterForm(QueryDict("name=x")), "/p/b/images/", "rows")
    info = _cached_filter_bar.cache_info()
    assert (info.hits, info.misses) == (1, 3)
    html = filter_bar(ImageFilterForm(QueryDict("name=y")), "/p/a/images/", "rows")
    assert 'value="y"' in html
    assert 'hx-get="/p/a/images/"' in html


def test_the_list_pages_show_the_bar_as_markup(viewer_client, owner_project):
    for url in ("/p/owner/images/?name=%3Cb%3E", "/p/owner/images/cloud/?name=%3Cb%3E"):
        body = viewer_client.get(url).content.decode()
        assert '<form class="filters" method="get"' in body, url
        assert 'value="&lt;b&gt;"' in body, url


def test_a_form_with_changing_choices_is_rendered_each_time():
    class Changing(ImageFilterForm):
        FIXED_CHOICES = False

    _cached_filter_bar.cache_clear()
    filter_bar(Changing(QueryDict("")), "/p/a/images/", "rows")
    assert _cached_filter_bar.cache_info().currsize == 0
