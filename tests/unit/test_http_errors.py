"""The pure error-body helpers: server message extraction, Retry-After, the exception chosen."""

from __future__ import annotations

import pytest

from nbstream import AuthenticationError, HTTPStatusError, RateLimitError
from nbstream._http.errors import (
    extract_server_message,
    no_events_message,
    parse_retry_after,
    status_error,
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            '{"error": {"message": "model not found", "type": "invalid_request_error"}}',
            "model not found",
        ),
        (
            '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
            "Overloaded",
        ),
        ('{"error": "model \'llama9\' not found"}', "model 'llama9' not found"),
        ('{"detail": "Not authenticated"}', "Not authenticated"),
        (
            '{"detail": [{"loc": ["body", "messages"], "msg": "field required"}]}',
            "body.messages: field required",
        ),
        ('{"message": "Internal error"}', "Internal error"),
        ('[{"error": {"code": 400, "message": "API key not valid"}}]', "API key not valid"),
        # An HTML page: its title, else its first heading, else its visible text; never markup.
        ("<html><body>502   Bad\n Gateway</body></html>", "502 Bad Gateway"),
        (
            "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
            "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
            "</body>\r\n</html>\r\n",
            "502 Bad Gateway",
        ),
        (
            "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
            "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error.</p>\n",
            "500 Internal Server Error",
        ),
        (
            '<!DOCTYPE html><html><head><meta charset="utf-8"><style>h1{x:1}</style></head>'
            "<body><h1>ValueError at /v1/chat/completions</h1><p>bad &amp; worse</p></body></html>",
            "ValueError at /v1/chat/completions",
        ),
        ("<div><p>Upstream &lt;timed out&gt;</p></div>", "Upstream <timed out>"),
        ("<3 plain text", "<3 plain text"),
        ("", ""),
        ('{"unrelated": 1}', '{"unrelated": 1}'),
        (b'{"error": {"message": "bytes \xc3\xa9"}}', "bytes é"),
        ({"error": {"message": "parsed"}}, "parsed"),
    ],
)
def test_extract_server_message(body: object, expected: str) -> None:
    assert extract_server_message(body) == expected


def test_long_text_is_cut_to_one_line() -> None:
    message = extract_server_message("x" * 1000)
    assert len(message) == 200
    assert message.endswith("…")


def test_retry_after() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0


def test_status_error_kinds_and_message() -> None:
    err = status_error(
        404, reason="Not Found", host="127.0.0.1:8000", body='{"error": "no such model"}'
    )
    assert type(err) is HTTPStatusError
    assert str(err) == "HTTP 404 Not Found from 127.0.0.1:8000: no such model"
    assert err.body == '{"error": "no such model"}'
    auth = status_error(
        401,
        reason="Unauthorized",
        body='{"error": {"message": "bad key sk-secret-123456"}}',
        secrets=["sk-secret-123456"],
    )
    assert isinstance(auth, AuthenticationError)
    assert "sk-secret" not in str(auth)
    assert "sk-secret" not in auth.body
    limited = status_error(429, reason="Too Many Requests", retry_after="3")
    assert isinstance(limited, RateLimitError)
    assert limited.retry_after == 3.0
    assert str(limited) == "HTTP 429 Too Many Requests (retry after 3 s)"


def test_html_error_page_becomes_one_line_and_the_body_is_kept() -> None:
    page = (
        "<!DOCTYPE html><html><head><title>example.com | 502: Bad gateway</title></head>"
        "<body><h1>Bad gateway <span>Error code 502</span></h1></body></html>"
    )
    err = status_error(502, reason="Bad Gateway", host="proxy:443", body=page)
    assert str(err) == "HTTP 502 Bad Gateway from proxy:443: example.com | 502: Bad gateway"
    assert err.body == page
    assert err.server_message == "example.com | 502: Bad gateway"


def test_a_message_that_only_repeats_the_status_line_is_not_repeated() -> None:
    nginx = "<html><head><title>502 Bad Gateway</title></head><body></body></html>"
    assert str(status_error(502, reason="Bad Gateway", body=nginx)) == "HTTP 502 Bad Gateway"
    err = status_error(500, reason="Internal Server Error", body="Internal Server Error")
    assert str(err) == "HTTP 500 Internal Server Error"
    assert err.server_message == "Internal Server Error"


def test_no_events_message_says_what_arrived() -> None:
    empty = no_events_message("text/event-stream", 0, b"", host="h:8080")
    assert empty.startswith("HTTP 200 from h:8080 (text/event-stream) with no events")
    assert "the body was empty" in empty
    some = no_events_message("application/x-ndjson", 5, b"ok\r\n\x00")
    assert "with no events in its 5 bytes, which start 'ok\\r\\n\\x00':" in some
    long = no_events_message("", 100_000, b"\xe4\xbd\xa0" * 20)
    assert "(no content type)" in long
    assert "100,000 bytes" in long
    assert "'" + "你" * 16 + "'…" in long
    cut = no_events_message("text/event-stream", 2, b"\xe4\xbd")
    assert "'\\xe4\\xbd'" in cut  # a cut UTF-8 sequence is escaped, never dropped
