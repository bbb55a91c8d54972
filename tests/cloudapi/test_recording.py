"""The client exposes the cloud's request id of every call that succeeded, for the audit."""

import threading

from imsportal.cloudapi.http import CallRecord


def test_recording_collects_each_successful_call_with_its_request_id(connect):
    conn = connect()
    image = conn.image.find_image("cirros-0.6.2")
    with conn.http.recording() as outer:
        conn.image.add_tag(image, "recorded")
        with conn.http.recording() as inner:
            conn.image.remove_tag(image, "recorded")
    assert [c.method for c in outer] == ["PUT", "DELETE"]
    assert [c.method for c in inner] == ["DELETE"]
    assert all(isinstance(c, CallRecord) and c.request_id.startswith("req-") for c in outer)
    assert outer[0].request_id != outer[1].request_id
    assert conn.http.last_request_id == outer[1].request_id


def test_recordings_of_other_threads_stay_apart(connect):
    conn = connect()
    conn.image.list_page(limit=1)  # authenticate first, so both threads make one call each
    seen: dict[str, list] = {}

    def work(name):
        with conn.http.recording() as calls:
            conn.image.list_page(limit=1)
        seen[name] = calls

    threads = [threading.Thread(target=work, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen["a"]) == len(seen["b"]) == 1
    assert seen["a"][0].request_id != seen["b"][0].request_id
