"""The pure error-body helpers: server message extraction, Retry-After, the exception chosen."""

from __future__ import annotations

import pytest

from nbstream import AuthenticationError, HTTPStatusError, RateLimitError
from nbstream._http.errors import extract_server_message, parse_retry_after, status_error


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
        (
            "<html><body>502   Bad\n Gateway</body></html>",
            "<html><body>502 Bad Gateway</body></html>",
        ),
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
