"""Cassettes: the file format, what a recording removes, matching, limits, tampering, pacing."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import time
from pathlib import Path

import pytest

from nbstream._core.cassette import (
    INSTANT,
    MAX_CASSETTE_BYTES,
    Cassette,
    Ending,
    RecordedRequest,
    dumps,
    find,
    loads,
    match_key,
    name_for,
    paced,
    parse_speed,
    read,
    record,
    recorded_request,
    request_key,
    write,
)
from nbstream._core.errors import CassetteError, ConfigError

KEY = "sk-proj-cassetteTEST0123456789abcdefXYZ"
URL = "http://127.0.0.1:8080/v1/chat/completions"
BODY = {
    "model": "gemma3",
    "messages": [{"role": "user", "content": "Why is the sky blue? Answer briefly."}],
    "stream": True,
    "stream_options": {"include_usage": True},
}


def request(body: object = BODY, url: str = URL, **headers: str) -> RecordedRequest:
    pairs = [("content-type", "application/json"), *headers.items()]
    return recorded_request("POST", url, pairs, json.dumps(body).encode())


def sample(**changes: object) -> Cassette:
    fields: dict[str, object] = {
        "request": request(),
        "status": 200,
        "reason": "OK",
        "headers": {"content-type": "text/event-stream"},
        "head_at": 0.05,
        "chunks": (
            (0.1, b'data: {"choices":[{"delta":{"content":"Rayleigh"}}]}\n\n'),
            (0.25, b"data: \xff\xfe not text\n\n"),
            (0.4, b"data: [DONE]\n\n"),
        ),
        "end": Ending("eof", 0.41),
    }
    fields.update(changes)
    return Cassette(**fields)  # type: ignore[arg-type]


# -- the file -------------------------------------------------------------------------------------


def test_a_cassette_survives_its_file_exactly() -> None:
    original = sample(end=Ending("error", 0.5, "RemoteProtocolError", "peer closed connection"))
    again = loads(dumps(original))
    assert again.request == original.request
    assert again.chunks == original.chunks
    assert again.end == original.end
    assert (again.status, again.reason, again.headers, again.head_at) == (
        200,
        "OK",
        {"content-type": "text/event-stream"},
        0.05,
    )


def test_the_file_reads_like_the_stream_one_chunk_a_line() -> None:
    text = dumps(sample())
    lines = text.splitlines()
    assert (
        '    [0.1, "data: {\\"choices\\":[{\\"delta\\":{\\"content\\":\\"Rayleigh\\"}}]}\\n\\n"],'
        in lines
    )
    # Bytes that are not UTF-8 are the only ones in base64.
    assert '    [0.25, {"base64": "ZGF0YTog//4gbm90IHRleHQKCg=="}],' in lines
    assert '  "end": {"how": "eof", "at": 0.41},' in lines
    assert '  "bytes": 87' in lines
    assert '"content": "Why is the sky blue? Answer briefly."' in text  # the body as JSON


def test_open_and_error_endings_keep_what_replay_needs() -> None:
    text = dumps(sample(end=Ending("open", 3.2)))
    assert '"end": {"how": "open", "at": 3.2}' in text
    text = dumps(sample(end=Ending("error", 1.0, "ReadError", "reset by peer")))
    assert '"error": "ReadError", "message": "reset by peer"' in text


# -- what a recording removes --------------------------------------------------------------------


def test_credential_headers_are_removed_not_masked() -> None:
    req = request(
        authorization=f"Bearer {KEY}",
        **{
            "x-api-key": KEY,
            "x-goog-api-key": KEY,
            "api-key": KEY,
            "cookie": f"session={KEY}",
            "proxy-authorization": "Basic dXNlcjpwYXNzd29yZDEyMw==",
            "openai-organization": "org-123456",
            "x-custom-secret": "hush-hush-hush",
            "user-agent": "test",
        },
    )
    assert req.headers == {"content-type": "application/json", "user-agent": "test"}


def test_credentials_leave_the_url_and_the_body_too() -> None:
    url = f"https://user:pa55word-long@example.com/v1/chat?key={KEY}&alt=sse&api_key={KEY}"
    body = {
        **BODY,
        "api_key": KEY,
        "token": "not-a-key-but-a-token-field",
        "messages": [{"role": "user", "content": f"my key is {KEY}, is it safe?"}],
    }
    req = request(body, url)
    assert req.url == "https://example.com/v1/chat?alt=sse"
    assert "api_key" not in req.json
    assert "token" not in req.json
    assert req.json["messages"][0]["content"] == "my key is ***, is it safe?"
    assert KEY not in json.dumps(req.json)


def test_known_keys_in_non_json_bodies_are_replaced() -> None:
    req = recorded_request("POST", URL, [("x-api-key", KEY)], f"prompt with {KEY}".encode())
    assert req.json is None
    assert req.content == b"prompt with ***"


def test_a_key_echoed_in_the_response_is_removed_even_split_across_chunks() -> None:
    half = len(KEY) // 2
    b64 = base64.b64encode(KEY.encode())
    chunks = [
        (0.1, b'data: {"echo": "Bearer ' + KEY[:half].encode()),
        (0.2, KEY[half:].encode() + b'"}\n\n'),
        (0.3, b"data: " + b64 + b"\n\n"),
        (0.4, KEY.encode()),  # a chunk that is nothing but the key
    ]
    cassette = record(
        request(authorization=f"Bearer {KEY}"),
        status=401,
        reason="Unauthorized",
        headers=[("x-echo", f"Bearer {KEY}"), ("set-cookie", "s=1"), ("x-request-id", "abc")],
        head_at=0.05,
        chunks=chunks,
        end=Ending("error", 0.5, "ReadError", f"reset while reading {KEY}"),
        secrets=[KEY],
    )
    text = dumps(cassette)
    assert KEY not in text
    assert KEY[:half] not in text  # no fragment left behind in the first chunk
    assert b64.decode() not in text
    assert cassette.headers == {"x-request-id": "abc"}
    assert cassette.body == b'data: {"echo": "Bearer ***"}\n\ndata: ***\n\n***'
    assert [at for at, _ in cassette.chunks] == [0.1, 0.2, 0.3, 0.4]
    assert cassette.end.message == "reset while reading ***"


def test_a_gzip_body_is_kept_decoded_and_a_brotli_body_is_refused() -> None:
    plain = b"data: hello\n\ndata: [DONE]\n\n"
    packed = gzip.compress(plain)
    chunks = [(0.1, packed[:10]), (0.2, packed[10:])]
    headers = [("content-encoding", "gzip"), ("content-type", "text/event-stream")]
    kept = record(
        request(), status=200, reason="OK", headers=headers, head_at=0.0, chunks=chunks,
        end=Ending("eof", 0.3),
    )  # fmt: skip
    assert kept.body == plain
    assert "content-encoding" not in kept.headers
    with pytest.raises(CassetteError, match="br-encoded, which nbstream cannot check for keys"):
        record(
            request(), status=200, reason="OK", headers=[("content-encoding", "br")],
            head_at=0.0, chunks=chunks, end=Ending("eof", 0.3),
        )  # fmt: skip


# -- matching and naming --------------------------------------------------------------------------


def test_matching_ignores_host_credentials_and_volatile_fields() -> None:
    base = match_key(request())
    other_host = request(url="http://10.0.0.7:9999/v1/chat/completions")
    with_key = request(authorization=f"Bearer {KEY}", **{"user-agent": "OpenAI/Python 1.0"})
    sdk_body = {k: v for k, v in BODY.items() if k != "stream_options"}
    bookkeeping = {**BODY, "user": "u-1", "metadata": {"a": "b"}, "store": False}
    reordered = dict(reversed(list(BODY.items())))
    for same in (other_host, with_key, request(sdk_body), request(bookkeeping), request(reordered)):
        assert match_key(same) == base


def test_the_key_of_a_request_depends_on_no_credential() -> None:
    # A classroom's dummy key, sent by the SDK and quoted by the prompt: the same key as the
    # teacher's recording made with a real one.
    body = {**BODY, "messages": [{"role": "user", "content": "Say anything."}]}
    content = json.dumps(body).encode()
    teacher = request_key("POST", URL, [("authorization", f"Bearer {KEY}")], content)
    student = request_key("POST", URL, [("authorization", "Bearer anything")], content)
    assert teacher == student == request_key("POST", URL, [], content)
    kept = record(
        recorded_request("POST", URL, [("authorization", "Bearer anything")], content),
        status=200, reason="OK", headers=[], head_at=0.0,
        chunks=[(0.1, b"data: I can say anything\n\n")], end=Ending("eof", 0.2),
        secrets=["anything"], key=student,
    )  # fmt: skip
    # Too short to be a key worth searching for: the answer keeps its words.
    assert kept.body == b"data: I can say anything\n\n"
    assert kept.request.json == body
    assert kept.key == student


def test_matching_keeps_what_decides_the_answer() -> None:
    base = match_key(request())
    for changed in (
        {**BODY, "seed": 1},
        {**BODY, "temperature": 0.2},
        {**BODY, "model": "gemma3-1b"},
        {**BODY, "stream": False},
        {**BODY, "messages": [{"role": "user", "content": "Why is the sea blue?"}]},
    ):
        assert match_key(request(changed)) != base
    assert match_key(request(url=URL.replace("chat/completions", "responses"))) != base


def test_the_file_name_says_which_cell_made_it() -> None:
    req = request()
    key = match_key(req)
    assert name_for(req, key) == f"why-is-the-sky-blue-answer-gemma3-{key}.json"
    assert name_for(req, key, "02-how-streaming-works") == (
        f"02-how-streaming-works-why-is-the-sky-blue-answer-gemma3-{key}.json"
    )
    responses = request({"model": "echo:tps=5", "input": [{"role": "user", "content": [
        {"type": "input_text", "text": "Hello there"}]}]})  # fmt: skip
    assert name_for(responses, "k").startswith("hello-there-echo-tps-5-k")


def test_write_then_find_by_key_whatever_the_name(tmp_path: Path) -> None:
    cassette = sample()
    path = write(tmp_path / "cassettes", cassette, "notebook")
    assert path.name.startswith("notebook-why-is-the-sky")
    assert find(tmp_path / "cassettes", cassette.key) == path
    assert find(tmp_path / "cassettes", "000000000000") is None
    assert find(tmp_path / "nowhere", cassette.key) is None
    # Recording the same request again (from another notebook) replaces the old file.
    again = write(tmp_path / "cassettes", cassette, "other")
    assert [p.name for p in (tmp_path / "cassettes").iterdir()] == [again.name]
    assert read(again).chunks == cassette.chunks


# -- limits and tampering -------------------------------------------------------------------------


def test_cassettes_over_the_limit_are_refused_both_ways(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as f:
        f.truncate(MAX_CASSETTE_BYTES + 1)
    with pytest.raises(CassetteError, match=r"big.json is 21.0 MB, over the 20 MB cassette limit"):
        read(big)
    huge = sample(chunks=((0.1, b"x" * (MAX_CASSETTE_BYTES + 1)),))
    with pytest.raises(CassetteError, match="over the 20 MB limit"):
        write(tmp_path, huge)
    assert not list(tmp_path.glob("*why*"))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda t: t[: len(t) // 2], "is not valid JSON .* cut short\\? re-record it"),
        (
            lambda t: t.replace('"bytes": 87', '"bytes": 90'),
            "chunks hold 87 bytes but it recorded 90",
        ),
        (lambda t: t.replace('"ZGF0YTog//4gbm90IHRleHQKCg=="', '"not base64!"'), "not a valid"),
        (lambda t: t.replace('"how": "eof"', '"how": "maybe"'), "end.how 'maybe'"),
        (lambda t: t.replace("[0.4,", "[0.01,"), "chunk times go back"),
        (lambda t: t.replace('"status": 200', '"status": "200"'), "status '200'"),
        (
            lambda t: t.replace('"nbstream_cassette": 1', '"nbstream_cassette": 9'),
            "nbstream_cassette",
        ),
        (lambda t: t.replace('"response"', '"respons"'), "missing 'response'"),
        (lambda t: "[]", "not a valid cassette"),
    ],
)
def test_a_tampered_cassette_fails_with_a_clear_one_line_error(
    tmp_path: Path, damage: object, message: str
) -> None:
    path = write(tmp_path, sample())
    path.write_text(damage(path.read_text()))  # type: ignore[operator]
    with pytest.raises(CassetteError, match=message) as info:
        read(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


# -- settings -------------------------------------------------------------------------------------


def test_speed_takes_a_positive_number_or_instant() -> None:
    assert parse_speed("instant") == INSTANT
    assert parse_speed("2") == 2.0
    assert parse_speed(0.5) == 0.5
    for bad in ("0", "-1", "fast", "nan"):
        with pytest.raises(ConfigError, match="speed takes a number above 0 or 'instant'"):
            parse_speed(bad)


def test_settings_come_from_the_environment_then_override() -> None:
    from nbstream._engine.settings import Settings, env_layer, merge

    assert env_layer({}).cassettes().mode == "off"
    env = env_layer({"NBSTREAM_REPLAY": "tests/cassettes"})
    assert (env.cassettes().mode, env.cassettes().directory) == ("replay", "tests/cassettes")
    assert env_layer({"NBSTREAM_RECORD": "out"}).cassettes().mode == "record"
    with pytest.raises(ConfigError, match="NBSTREAM_RECORD and \\$NBSTREAM_REPLAY together"):
        env_layer({"NBSTREAM_RECORD": "a", "NBSTREAM_REPLAY": "b"})
    above = Settings.parse({"speed": "instant", "replay": "auto"}, where="%chat replay")
    fast = merge(env, above).cassettes(prefix="nb")
    assert (fast.mode, fast.directory, fast.speed, fast.prefix) == (
        "auto",
        "tests/cassettes",
        INSTANT,
        "nb",
    )
    assert fast.describe() == (
        "replaying from tests/cassettes/ (instant), recording what is missing"
    )
    with pytest.raises(ConfigError, match="speed takes a number above 0 or 'instant'"):
        Settings.parse({"speed": "fast"}, where="%chat replay")


# -- pacing ---------------------------------------------------------------------------------------


async def _timed(cassette: Cassette, speed: float) -> list[float]:
    loop = asyncio.get_running_loop()
    started = loop.time()
    return [loop.time() - started async for _ in paced(cassette, speed, started)]


async def test_paced_keeps_the_recorded_rhythm_or_plays_at_once() -> None:
    cassette = sample()
    # Never early; late only by the event loop's latency (generous for a loaded machine).
    times = await _timed(cassette, 1.0)
    assert all(at <= t < at + 0.15 for t, (at, _) in zip(times, cassette.chunks, strict=True))
    halved = await _timed(cassette, 2.0)
    assert all(
        at / 2 <= t < at / 2 + 0.15 for t, (at, _) in zip(halved, cassette.chunks, strict=True)
    )
    assert (await _timed(cassette, INSTANT))[-1] < 0.05


async def test_an_open_recording_stays_silent_and_cancels_at_once() -> None:
    cassette = sample(end=Ending("open", 0.5))
    loop = asyncio.get_running_loop()
    got: list[bytes] = []

    async def consume() -> None:
        async for chunk in paced(cassette, INSTANT, loop.time()):
            got.append(chunk)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.2)
    assert len(got) == 3
    assert not task.done()  # silence after the last chunk, as the stalled server
    began = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - began < 0.05
