"""The agent path in process: the loopback client against hostile answers, and the agent source and its routing
against the fake agent, in front of moto's in-process Secrets Manager."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from envinject.errors import ConfigError, FetchError
from envinject.rules.refs import Locator, parse_ref
from envinject.sources.agent import Agent, AgentSource, AgentUnavailable, ThroughAgent, choose
from envinject.sources.loopback import MAX_BODY, MAX_HEADERS, LoopbackError, get
from envinject.sources.memory import MemorySource
from envinject.sources.secretsmanager import SecretsManagerSource
from tests.fake_agent import FakeAgent, fake_agent

CANARY = "canary-Agent-9e1"


@pytest.fixture
def raw_server() -> Iterator[Callable[[bytes], int]]:
    """A loopback port that answers every connection with the bytes given, then closes it."""
    servers: list[socket.socket] = []

    def start(answer: bytes, *, close: bool = True) -> int:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        servers.append(listener)

        def serve() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                with conn:
                    conn.recv(65536)
                    conn.sendall(answer)
                    if not close:
                        threading.Event().wait(5)

        threading.Thread(target=serve, daemon=True).start()
        return int(listener.getsockname()[1])

    yield start
    for s in servers:
        s.close()


def fetch(port: int, timeout: float = 2.0) -> Any:
    return get("127.0.0.1", port, "/x", {}, connect_timeout=1.0, timeout=timeout)


@pytest.mark.parametrize(
    ("answer", "status", "body"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, b"hello"),
        (b"HTTP/1.1 200 OK\r\ncontent-length:  5 \r\n\r\nhello", 200, b"hello"),
        (b"HTTP/1.1 400 Bad\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n", 400,
         b"abcde"),
        (b"HTTP/1.0 200 OK\r\n\r\nuntil the end", 200, b"until the end"),
        (b"HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n", 503, b""),
    ],
)  # fmt: skip
def test_an_answer_is_read_by_its_length_its_chunks_or_its_end(
    raw_server: Callable[[bytes], int], answer: bytes, status: int, body: bytes
) -> None:
    got = fetch(raw_server(answer))
    assert (got.status, got.body) == (status, body)


HOSTILE = [
    b"",  # closed before an answer
    CANARY.encode() + b"\r\n\r\n",  # no status line
    b"HTTP/1.1 2000 OK\r\n\r\n",
    b"HTTP/1.1 200 OK\x1b[2J" + CANARY.encode() + b"\nX: y\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",  # two lengths
    b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: " + str(MAX_BODY + 1).encode() + b"\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n" + CANARY.encode(),  # cut off
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n" + CANARY.encode(),
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" + CANARY.encode(),
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXX" + CANARY.encode(),
    b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * (MAX_HEADERS + 10) + b"\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n" + CANARY.encode() + b"\r\n\r\n",  # a header line without a colon
    b"HTTP/1.1 200 OK\r\n\r\n" + b"b" * (MAX_BODY + 10),  # no length, too long
]


@pytest.mark.parametrize("answer", HOSTILE, ids=range(len(HOSTILE)))
def test_a_hostile_answer_is_an_error_that_quotes_none_of_it(raw_server: Callable[[bytes], int], answer: bytes) -> None:
    with pytest.raises(LoopbackError) as caught:
        fetch(raw_server(answer))
    assert CANARY not in str(caught.value) and "\x1b" not in str(caught.value)
    assert not caught.value.connecting


def test_no_answer_in_time_and_no_listener(raw_server: Callable[..., int]) -> None:
    port = raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhalf", close=False)
    with pytest.raises(LoopbackError, match="no answer in time"):
        fetch(port, timeout=0.5)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    with pytest.raises(LoopbackError, match="connection refused") as caught:
        fetch(free)
    assert caught.value.connecting


@pytest.fixture
def agent(aws: Any) -> Iterator[FakeAgent]:
    aws.create_secret(Name="APIKEYS", SecretString=json.dumps({"openai": CANARY, "anthropic": "sk-ant"}))
    aws.create_secret(Name="BIN", SecretBinary=b"\x00\xffbin")
    with fake_agent("https://secretsmanager.us-east-1.amazonaws.com") as running:
        yield running


def source_for(agent: FakeAgent, *, required: bool = True, token: str | None = None, **kwargs: Any) -> AgentSource:
    host, port = agent.url.removeprefix("http://").split(":")
    setup = Agent(agent.url, host, int(port), token or agent.token, "AWS_TOKEN", required=required)
    return AgentSource(setup, timeout=5.0, **kwargs)


def test_names_versions_stages_and_binary_come_through_the_agent(agent: FakeAgent, aws: Any) -> None:
    src = source_for(agent)
    current = aws.get_secret_value(SecretId="APIKEYS")
    by_id = Locator("APIKEYS", version_id=current["VersionId"])
    got = src.fetch_many([Locator("APIKEYS"), Locator(current["ARN"]), by_id, Locator("APIKEYS", "AWSCURRENT")])
    assert {p.text for p in got.values()} == {current["SecretString"]}
    assert {p.version_id for p in got.values()} == {current["VersionId"]}
    assert src.fetch_one(Locator("BIN")).binary == b"\x00\xffbin"
    assert src.requests == {"agent GetSecretValue": 5}
    assert agent.last_headers["X-Aws-Parameters-Secrets-Token"] == agent.token


def test_errors_say_what_the_api_path_says_and_name_the_agent(agent: FakeAgent, aws: Any) -> None:
    src = source_for(agent)
    api = SecretsManagerSource.from_client(aws)
    for loc in (Locator("NOPE"), Locator("APIKEYS", "NOSUCHSTAGE")):
        with pytest.raises(FetchError) as through:
            src.fetch_one(loc)
        with pytest.raises(FetchError) as direct:
            api.fetch_one(loc)
        assert through.value.kind == direct.value.kind == "not_found"
        assert through.value.exit_code == direct.value.exit_code
        shared = direct.value.message.removesuffix(" in us-east-1")
        assert through.value.message.startswith(shared) and agent.url in through.value.message


def test_a_bad_token_is_an_answer_and_busy_or_failing_is_not(agent: FakeAgent) -> None:
    with pytest.raises(FetchError, match="refused the token") as bad:
        source_for(agent, token="wrong").fetch_one(Locator("APIKEYS"))
    assert not isinstance(bad.value, AgentUnavailable)
    for status in (429, 500, 502, 504):
        agent.failure = status
        with pytest.raises(AgentUnavailable, match=f"HTTP {status}"):
            source_for(agent).fetch_one(Locator("APIKEYS"))


@pytest.mark.parametrize(
    "raw",
    [
        b'{"__type": "Weird\\u001b[2J", "message": "' + CANARY.encode() + b'"}',
        b'{"__type": "' + CANARY.encode() + b'\\n", "message": "x"}',
        CANARY.encode(),
    ],
)
def test_an_agent_error_body_never_reaches_a_message(agent: FakeAgent, raw: bytes) -> None:
    agent.raw = b"HTTP/1.1 400 Bad\r\nContent-Length: %d\r\n\r\n%s" % (len(raw), raw)
    with pytest.raises(FetchError) as caught:
        source_for(agent).fetch_one(Locator("APIKEYS"))
    assert CANARY not in str(caught.value) and "\x1b" not in str(caught.value)


@pytest.mark.parametrize(
    "doc",
    [
        {"Name": "APIKEYS"},  # no value
        {"SecretString": 7},
        {"SecretBinary": "not base64!" + CANARY},
        {"SecretString": CANARY, "Name": "bad\nname"},
        [CANARY],
    ],
)
def test_a_garbled_success_is_a_bad_answer_not_a_value(agent: FakeAgent, doc: Any) -> None:
    body = json.dumps(doc).encode()
    agent.raw = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    with pytest.raises(FetchError, match="not a secret") as caught:
        source_for(agent).fetch_one(Locator("APIKEYS"))
    assert CANARY not in str(caught.value)


def through(agent: FakeAgent, api: Any, *, required: bool, notes: list[str]) -> ThroughAgent:
    return ThroughAgent(source_for(agent, required=required), lambda: api, "us-east-1", notes.append)


def test_what_the_agent_cannot_serve_goes_to_the_api() -> None:
    api = MemorySource(
        {"APIKEYS": json.dumps({"k": "api"}), "arn:aws:secretsmanager:eu-west-1:1:secret:X": '{"k": "x"}'}
    )
    with fake_agent("http://127.0.0.1:9") as agent:  # an upstream that is never asked
        notes: list[str] = []
        routed = through(agent, api, required=True, notes=notes)
        wanted = [parse_ref("arn:aws:secretsmanager:eu-west-1:1:secret:X").locator]
        assert routed.fetch_many(wanted)[wanted[0]].text == '{"k": "x"}'
        assert agent.received == {} and "another region" in notes[0]


def test_auto_reads_from_the_api_what_the_agent_could_not_answer_for(agent: FakeAgent, aws: Any) -> None:
    api = SecretsManagerSource.from_client(aws)
    agent.failure = 503
    notes: list[str] = []
    got = through(agent, api, required=False, notes=notes).fetch_many([Locator("APIKEYS")])
    assert json.loads(got[Locator("APIKEYS")].text or "")["openai"] == CANARY
    assert "reading 1 secret(s) from the API instead" in notes[-1] and CANARY not in " ".join(notes)
    with pytest.raises(AgentUnavailable):
        through(agent, api, required=True, notes=[]).fetch_many([Locator("APIKEYS")])
    agent.failure = None
    with pytest.raises(FetchError, match="not found"):  # an answer stands: no fallback
        through(agent, api, required=False, notes=[]).fetch_many([Locator("NOPE")])
    assert api.requests.get("GetSecretValue") == 1


def test_polls_skip_the_cache(agent: FakeAgent, aws: Any) -> None:
    cached, fresh = source_for(agent), source_for(agent, refresh=True)
    cached.fetch_one(Locator("APIKEYS"))
    aws.put_secret_value(SecretId="APIKEYS", SecretString='{"openai": "rotated"}')
    assert cached.fetch_one(Locator("APIKEYS")).text != '{"openai": "rotated"}'  # the agent's cache period
    assert fresh.fetch_one(Locator("APIKEYS")).text == '{"openai": "rotated"}'


def test_choose_sends_a_token_only_where_one_was_configured(tmp_path: Any) -> None:
    url = "http://localhost:2773"
    lambda_env = {"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "AWS_SESSION_TOKEN": "session"}
    assert choose("api", url, {"AWS_TOKEN": "t"}, print) is None
    assert choose("auto", url, lambda_env, print) is None  # the extension does not answer during INIT
    made = choose("agent", url, lambda_env, print)
    assert made is not None and made.token == "session"
    with pytest.raises(ConfigError, match="needs the agent's token"):
        choose("agent", "http://localhost:2774", lambda_env, print)  # not the extension's port
    with pytest.raises(ConfigError, match="needs the agent's token"):
        choose("agent", url, {"AWS_SESSION_TOKEN": "session"}, print)  # not in Lambda
    token = tmp_path / "token"
    token.write_text("from-file\n")
    made = choose("auto", url, {"AWS_TOKEN": f"file://{token}"}, print)
    assert made is not None and made.token == "from-file" and not made.required
    notes: list[str] = []
    assert choose("auto", url, {"AWS_TOKEN": f"file://{tmp_path}/missing"}, notes.append) is None
    assert "cannot read" in notes[0]
    for bad in ("a\r\nX-Injected: 1", CANARY + "\x00", "é"):
        with pytest.raises(ConfigError) as caught:
            choose("agent", url, {"AWS_TOKEN": bad}, print)
        assert CANARY not in str(caught.value) and "\r" not in str(caught.value)
