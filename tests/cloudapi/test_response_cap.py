"""The client reads at most max_response_bytes of an answer into memory (issue 9)."""

import pytest

from imsportal.cloudapi import ResponseTooLargeError


def test_a_list_larger_than_the_cap_is_refused(connect):
    conn = connect(max_response_bytes=2048)
    with pytest.raises(ResponseTooLargeError, match="larger than 2048 bytes") as e:
        conn.image.list_page(limit=25)
    assert e.value.request_id.startswith("req-")
    # The same connection still works for answers under the cap, on a fresh pooled socket.
    assert conn.image.list_page(limit=1).items


def test_answers_under_the_cap_are_read_whole(connect):
    conn = connect()
    page = conn.image.list_page(limit=25)
    assert len(page.items) >= 12
    assert conn.http.max_response_bytes == 16 * 1024 * 1024


def test_streamed_downloads_are_not_capped(connect, tmp_path):
    sized = next(i for i in connect().image.images(status="active") if (i.size or 0) > 4096)
    conn = connect(max_response_bytes=2048)
    written = conn.image.download_image(sized.id, tmp_path / "data")
    assert written == sized.size
    assert (tmp_path / "data").stat().st_size == sized.size
