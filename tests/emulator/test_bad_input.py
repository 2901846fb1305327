"""Robustness of the reference emulator against bad input, over real loopback sockets.

Malformed query strings, invalid UTF-8, duplicated parameters, 1 MB values, unknown methods, garbage
bodies, wrong content types, huge headers, arbitrary parameters and arbitrary bytes: the answer is
always a well-formed 4xx error envelope (RequestId, Code, Message; parseable JSON or XML;
docs/protocol.md#responses) whose code, status and message are ones the spec knows, or, for bytes
that are not an HTTP message at all, a bare 4xx from the HTTP layer or a closed connection. Never a
5xx (unless a fault was injected), never a hang, and after every bad request a good signed request
still succeeds.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.config import EmulatorSettings
from conformance.emulator.server import EmbeddedEmulator
from conformance.protocol.signing import signed_params_v2
from conformance.protocol.wire import canonical_query
from conformance.spec import load_spec
from conformance.spec.model import Spec

IO_TIMEOUT_S = 5.0
ONE_MB = 1_000_000
RUNNING_ID = "i-bad-input-running"
DESCRIBE = "DescribeInstances"
FORM = "application/x-www-form-urlencoded"


# -- raw HTTP --------------------------------------------------------------------------------


@dataclass
class RawResponse:
    """One HTTP response read off a raw socket (`status` 0: the server closed without one)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def closed_without_answer(self) -> bool:
        return self.status == 0


def raw_exchange(port: int, data: bytes, *, head: bool = False) -> RawResponse:
    """Send `data` (which should ask `Connection: close`) and read the whole answer.

    A server that neither answers nor closes within IO_TIMEOUT_S fails the test (stuck).
    """
    with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT_S) as sock:
        # the server may refuse mid-request: then read what it said, if anything
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        chunks: list[bytes] = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if _complete(b"".join(chunks), head):
                    break
        except ConnectionResetError:
            pass
        except TimeoutError:
            pytest.fail(f"the emulator neither answered nor closed within {IO_TIMEOUT_S}s")
    return _parse(b"".join(chunks), head)


def _complete(buf: bytes, head: bool) -> bool:
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    if head:
        return True
    match = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", buf[:end])
    return match is not None and len(buf) >= end + 4 + int(match.group(1))


def _parse(buf: bytes, head: bool) -> RawResponse:
    if not buf:
        return RawResponse(0)
    head_part, _, body = buf.partition(b"\r\n\r\n")
    lines = head_part.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    assert len(parts) >= 2 and parts[0].startswith("HTTP/"), f"not an HTTP response: {buf[:80]!r}"
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", len(body)))
    return RawResponse(int(parts[1]), headers, b"" if head else body[:length])


def request_bytes(
    method: str,
    target: bytes,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    content_type: str | None = None,
) -> bytes:
    """A raw HTTP/1.1 request asking the server to close the connection afterwards."""
    lines = [method.encode("latin-1") + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1"]
    if content_type is not None:
        lines.append(b"Content-Type: " + content_type.encode("latin-1"))
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(b"Content-Length: " + str(len(body)).encode())
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}".encode("latin-1"))
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


# -- oracles ---------------------------------------------------------------------------------


def _template_regex(template: str) -> str:
    pattern = re.escape(template)
    pattern = re.sub(r"\\\{[A-Za-z_]+\\\}", "(.*)", pattern)
    return pattern.replace("%s", "(.+)")


def known_error(spec: Spec, code: str, status: int, message: str) -> bool:
    """Is (code, status, message) an error the spec knows: the document's table, the DryRun
    outcome, or one of the profile's gateway variants (templates filled with anything)?"""
    if spec.error_matches(code, status, message):
        return True
    dry = spec.dryrun
    if (code, status, message) == (dry.code, dry.http_status, dry.message):
        return True
    for variants in spec.gateway_errors.values():
        for v in variants:
            if (
                v.http_status == status
                and re.fullmatch(_template_regex(v.code), code)
                and re.fullmatch(_template_regex(v.emulator_message), message, flags=re.DOTALL)
            ):
                return True
    return False


def envelope_fields(response: RawResponse) -> dict[str, Any]:
    """The error envelope's fields, parsed as JSON or XML by its Content-Type
    (docs/protocol.md#responses)."""
    ctype = response.headers.get("content-type", "").lower()
    if "json" in ctype:
        data = json.loads(response.body)
        assert isinstance(data, dict), data
        return data
    assert "xml" in ctype, f"neither JSON nor XML: {ctype!r} {response.body[:80]!r}"
    root = ET.fromstring(response.body)
    assert root.tag == "Error", root.tag
    return {child.tag: child.text or "" for child in root}


def assert_envelope(spec: Spec, response: RawResponse, *, status_range: range = range(400, 500)):
    """A well-formed error envelope of a known error, with a 4xx status by default."""
    assert response.status in status_range, (response.status, response.body[:200])
    data = envelope_fields(response)
    for name in ("RequestId", "Code", "Message"):
        assert isinstance(data.get(name), str) and data[name], f"{name} missing: {data}"
    header = spec.profile.envelopes.request_id_header
    assert response.headers.get(header) == data["RequestId"]
    assert known_error(spec, data["Code"], response.status, data["Message"]), data
    return data


def assert_http_layer_refusal(spec: Spec, response: RawResponse) -> None:
    """Bytes that are not an HTTP message: a bare 4xx, a closed connection, or an envelope."""
    if response.closed_without_answer:
        return
    assert 400 <= response.status < 500, (response.status, response.body[:200])
    header = spec.profile.envelopes.request_id_header
    if header in response.headers or "xml" in response.headers.get("content-type", ""):
        assert_envelope(spec, response)


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec()


@pytest.fixture(scope="module")
def bad_emulator(spec: Spec) -> Iterator[EmbeddedEmulator]:
    with EmbeddedEmulator(EmulatorSettings(reboot_seconds=0.0), spec=spec) as emu:
        conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=IO_TIMEOUT_S)
        conn.request(
            "PUT",
            f"/_conformance/instances/{RUNNING_ID}",
            body=json.dumps({"Status": spec.precondition_status}),
            headers={"Content-Type": "application/json"},
        )
        assert conn.getresponse().status == 200
        conn.close()
        yield emu


class Signer:
    """Signed V2 requests for the emulator's first credentials."""

    def __init__(self, emu: EmbeddedEmulator, spec: Spec) -> None:
        cred = emu.settings.credentials[0]
        self.key_id, self.secret = cred.access_key_id, cred.access_key_secret
        self.spec = spec

    def params(
        self, method: str, api: dict[str, str], *, action: str | None = None, fmt: str = "JSON"
    ) -> dict[str, str]:
        return signed_params_v2(
            method,
            api,
            action=action or self.spec.action,
            version=self.spec.version,
            access_key_id=self.key_id,
            access_key_secret=self.secret,
            fmt=fmt,
        )

    def query(self, method: str, api: dict[str, str], **kw: Any) -> str:
        return canonical_query(self.params(method, api, **kw).items())


@pytest.fixture(scope="module")
def signer(bad_emulator: EmbeddedEmulator, spec: Spec) -> Signer:
    return Signer(bad_emulator, spec)


def assert_alive(emu: EmbeddedEmulator, signer: Signer) -> None:
    """A good signed request (DescribeInstances of the running instance) still succeeds."""
    query = signer.query("GET", {"InstanceIds": json.dumps([RUNNING_ID])}, action=DESCRIBE)
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=IO_TIMEOUT_S)
    try:
        conn.request("GET", "/?" + query)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert response.status == 200, body[:300]
    data = json.loads(body)
    assert data["RequestId"]
    assert [i["InstanceId"] for i in data["Instances"]["Instance"]] == [RUNNING_ID]


# -- well-formed HTTP carrying bad content: always an error envelope -------------------------

Build = Callable[["Signer"], bytes]


def _signed(signer: Signer, method: str, **kw: Any) -> bytes:
    """The query of a signed DryRun of the running instance (a request that is fine)."""
    api = {"InstanceId": RUNNING_ID, "DryRun": "true"}
    return signer.query(method, api, **kw).encode()


_BIG = b"a" * ONE_MB

# name -> builder of a raw request: each a valid HTTP message with bad RPC content
BAD_REQUESTS: dict[str, Build] = {
    "percent-escape-truncated": lambda s: request_bytes("GET", b"/?Action=RebootInstance&a=%"),
    "percent-escape-not-hex": lambda s: request_bytes("GET", b"/?Action=%zzReb&InstanceId=%G1"),
    "only-separators": lambda s: request_bytes("GET", b"/?&&&==&=&"),
    "only-ampersands": lambda s: request_bytes("GET", b"/?&"),
    "only-ampersands-in-form": lambda s: request_bytes(
        "POST", b"/?" + _signed(s, "POST"), body=b"&&&", content_type=FORM
    ),
    "name-without-value-signed": lambda s: request_bytes(
        "GET", b"/?" + _signed(s, "GET") + b"&Stray"
    ),
    "nul-byte": lambda s: request_bytes("GET", b"/?Action=Reboot%00Instance&InstanceId=i-%00"),
    "invalid-utf8-value": lambda s: request_bytes(
        "GET", b"/?" + _signed(s, "GET") + b"&X=%ff%fe%80"
    ),
    "invalid-utf8-name": lambda s: request_bytes("GET", b"/?%c3%28=1&" + _signed(s, "GET")),
    "overlong-utf8": lambda s: request_bytes("GET", b"/?Action=%c0%af&InstanceId=%e0%80%af"),
    "surrogate-utf8": lambda s: request_bytes(
        "GET", b"/?InstanceId=%ed%a0%80&" + _signed(s, "GET")
    ),
    "duplicated-parameter": lambda s: request_bytes(
        "GET", b"/?" + _signed(s, "GET") + b"&InstanceId=i-other"
    ),
    "duplicated-action": lambda s: request_bytes(
        "GET", b"/?Action=RebootInstance&Action=DescribeInstances&Format=JSON"
    ),
    "duplicated-query-and-form": lambda s: request_bytes(
        "POST",
        b"/?" + _signed(s, "POST"),
        body=b"InstanceId=" + RUNNING_ID.encode(),
        content_type=FORM,
    ),
    "value-of-1mb-in-form-unsigned": lambda s: request_bytes(
        "POST", b"/", body=b"InstanceId=" + _BIG, content_type=FORM
    ),
    "value-of-1mb-in-form-signed": lambda s: request_bytes(
        "POST",
        b"/",
        body=s.query("POST", {"InstanceId": "i-" + _BIG.decode(), "DryRun": "true"}).encode(),
        content_type=FORM,
    ),
    "body-over-the-limit": lambda s: request_bytes(
        "POST", b"/", body=b"A=" + _BIG + b"b" * 100_000, content_type=FORM
    ),
    "declared-length-over-the-limit": lambda s: (
        request_bytes(
            "POST", b"/", headers={"Content-Length": "99999999"}, content_type=FORM
        ).replace(b"Content-Length: 0\r\n", b"")
        + b"short"
    ),
    "value-of-1mb-in-header": lambda s: request_bytes("GET", b"/", headers={"X-Big": "a" * ONE_MB}),
    "header-of-1mb-on-a-good-request": lambda s: request_bytes(
        "GET", b"/?" + _signed(s, "GET"), headers={"X-Big": "a" * ONE_MB}
    ),
    "thousands-of-headers": lambda s: request_bytes(
        "GET", b"/", headers={f"X-H{i}": "v" * 10 for i in range(3000)}
    ),
    "huge-v3-authorization": lambda s: request_bytes(
        "POST",
        b"/",
        headers={
            "Authorization": "ACS3-HMAC-SHA256 Credential=" + "x" * 100_000,
            "x-acs-action": "RebootInstance",
        },
    ),
    "garbage-v3-authorization": lambda s: request_bytes(
        "POST",
        b"/?InstanceId=i-1",
        headers={
            "Authorization": "ACS3-HMAC-SHA256 ,,==;;",
            "x-acs-action": "RebootInstance",
            "x-acs-version": "2014-05-26",
        },
    ),
    "garbage-form-body": lambda s: request_bytes(
        "POST", b"/", body=b"\x00\xff%%%&&==\x01\x02" * 100, content_type=FORM
    ),
    "garbage-form-body-after-signed-query": lambda s: request_bytes(
        "POST", b"/?" + _signed(s, "POST"), body=b"\xff\xfe=\x00&%zz", content_type=FORM
    ),
    "json-body": lambda s: request_bytes(
        "POST", b"/", body=b'{"InstanceId": "i-1"}', content_type="application/json"
    ),
    "broken-json-body-after-signed-query": lambda s: request_bytes(
        "POST", b"/?" + _signed(s, "POST"), body=b'{"a": [1, 2', content_type="application/json"
    ),
    "xml-body": lambda s: request_bytes(
        "POST", b"/", body=b"<a><b>&ent;</b>", content_type="text/xml"
    ),
    "multipart-garbage": lambda s: request_bytes(
        "POST",
        b"/",
        body=b"--x\r\nContent-Disposition: form-data\r\n\r\n\xff--",
        content_type="multipart/form-data; boundary=x",
    ),
    "form-with-unknown-charset": lambda s: request_bytes(
        "POST", b"/", body=b"Action=%e9", content_type=FORM + "; charset=latin-9000"
    ),
    "binary-body-without-content-type": lambda s: request_bytes(
        "POST", b"/", body=bytes(range(256)) * 8
    ),
    "unknown-format": lambda s: request_bytes("GET", b"/?Format=YAML&Action=RebootInstance"),
    "unknown-path": lambda s: request_bytes("GET", b"/v1/../etc/passwd?" + _signed(s, "GET")),
    "unknown-action-signed": lambda s: request_bytes(
        "GET", b"/?" + _signed(s, "GET", action="TerminateEverything")
    ),
    "DELETE": lambda s: request_bytes("DELETE", b"/?" + _signed(s, "DELETE")),
    "PATCH": lambda s: request_bytes("PATCH", b"/", body=b"InstanceId=x", content_type=FORM),
    "OPTIONS": lambda s: request_bytes("OPTIONS", b"/?" + _signed(s, "OPTIONS")),
    "PUT": lambda s: request_bytes("PUT", b"/?" + _signed(s, "PUT")),
    "TRACE": lambda s: request_bytes("TRACE", b"/"),
}


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_bad_request_gets_an_error_envelope(
    name: str, bad_emulator: EmbeddedEmulator, signer: Signer, spec: Spec
) -> None:
    response = raw_exchange(bad_emulator.port, BAD_REQUESTS[name](signer))
    assert_envelope(spec, response)
    assert_alive(bad_emulator, signer)


def test_head_is_refused_without_a_body(
    bad_emulator: EmbeddedEmulator, signer: Signer, spec: Spec
) -> None:
    response = raw_exchange(bad_emulator.port, request_bytes("HEAD", b"/"), head=True)
    assert 400 <= response.status < 500
    assert response.headers.get(spec.profile.envelopes.request_id_header)
    assert_alive(bad_emulator, signer)


# -- bytes that are not a valid HTTP message: refused by the HTTP layer -----------------------

NOT_HTTP: dict[str, bytes] = {
    "raw-invalid-utf8-in-request-line": b"GET /?Action=Reb\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
    "request-line-of-1mb": b"GET /?InstanceId=" + _BIG + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "unknown-method-token": b"FROB / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "bad-http-version": b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    "tls-client-hello": b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 64,
    "bad-chunk-size": b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "non-numeric-content-length": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    "header-without-colon": b"GET / HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
    "space-in-header-name": b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n",
    "bare-lf-garbage": b"\n\n\n\x00\x00GET\n",
}


@pytest.mark.parametrize("name", list(NOT_HTTP))
def test_not_http_is_refused_cleanly(
    name: str, bad_emulator: EmbeddedEmulator, signer: Signer, spec: Spec
) -> None:
    assert_http_layer_refusal(spec, raw_exchange(bad_emulator.port, NOT_HTTP[name]))
    assert_alive(bad_emulator, signer)


def test_half_sent_requests_do_not_block_others(
    bad_emulator: EmbeddedEmulator, signer: Signer
) -> None:
    """Connections that stop mid-headers or mid-body leave the server answering others."""
    stalled = []
    try:
        for partial in (
            b"GET /?Action=RebootInstance HTTP/1.1\r\nHost: x\r\nX-Slow: ",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: "
            + FORM.encode()
            + b"\r\nContent-Length: 1000\r\n\r\nInstanceId=i-",
        ):
            sock = socket.create_connection(("127.0.0.1", bad_emulator.port), timeout=IO_TIMEOUT_S)
            sock.sendall(partial)
            stalled.append(sock)
        for _ in range(3):
            assert_alive(bad_emulator, signer)
    finally:
        for sock in stalled:
            sock.close()
    assert_alive(bad_emulator, signer)


def test_client_disconnect_mid_body_is_harmless(
    bad_emulator: EmbeddedEmulator, signer: Signer
) -> None:
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", bad_emulator.port), timeout=IO_TIMEOUT_S) as s:
            s.sendall(
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: "
                + FORM.encode()
                + b"\r\nContent-Length: 5000\r\n\r\n"
                + b"A="
                + b"b" * 100
            )
    assert_alive(bad_emulator, signer)


def test_keep_alive_connection_survives_bad_requests(
    bad_emulator: EmbeddedEmulator, signer: Signer, spec: Spec
) -> None:
    """Bad requests on one keep-alive connection each get an envelope; a good one follows."""
    conn = http.client.HTTPConnection("127.0.0.1", bad_emulator.port, timeout=IO_TIMEOUT_S)
    try:
        for target in ("/?a=%", "/?%ff=1", "/?Action=X&Action=Y", "/nope", "/?" + "x" * 50_000):
            conn.request("GET", target)
            r = conn.getresponse()
            response = RawResponse(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
            assert_envelope(spec, response)
        conn.request(
            "GET", "/?" + signer.query("GET", {"InstanceId": RUNNING_ID, "DryRun": "true"})
        )
        r = conn.getresponse()
        response = RawResponse(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        assert envelope_fields(response)["Code"] == spec.dryrun.code
    finally:
        conn.close()


def test_only_an_injected_fault_gives_a_5xx(
    bad_emulator: EmbeddedEmulator, signer: Signer, spec: Spec
) -> None:
    """A queued fault is consumed after authentication (docs/contracts.md#test-control): bad
    requests still get their 4xx, the next good call gets the injected 5xx, and then all is well
    again."""
    code = spec.conditions["injected_fault"]
    conn = http.client.HTTPConnection("127.0.0.1", bad_emulator.port, timeout=IO_TIMEOUT_S)
    try:
        conn.request(
            "POST",
            "/_conformance/faults",
            body=json.dumps({"Action": spec.action, "Code": code, "Count": 1}),
            headers={"Content-Type": "application/json"},
        )
        assert conn.getresponse().read() == b""
    finally:
        conn.close()
    try:
        for name in ("percent-escape-truncated", "garbage-form-body", "PUT", "unknown-path"):
            assert_envelope(spec, raw_exchange(bad_emulator.port, BAD_REQUESTS[name](signer)))
        target = b"/?" + _signed(signer, "GET")
        response = raw_exchange(bad_emulator.port, request_bytes("GET", target))
        data = assert_envelope(spec, response, status_range=range(500, 600))
        assert data["Code"] == code
        assert response.status == spec.error_status(code)
    finally:
        # never leave a fault queued for the other tests
        _drain_faults(bad_emulator, spec)
    assert_alive(bad_emulator, signer)


def _drain_faults(emu: EmbeddedEmulator, spec: Spec) -> None:
    """Drop any fault still queued (in-process, through the emulator's World)."""
    faults = emu.world.faults()
    for queued in faults.get(spec.action, ()):
        for _ in range(queued.count):
            emu.world.take_fault(spec.action)


# -- property-based: arbitrary parameters and bytes -------------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_names = st.text(min_size=0, max_size=24)
_values = st.text(max_size=64) | st.sampled_from(["true", "True", "FALSE", "", "maybe", RUNNING_ID])
_param_lists = st.lists(st.tuples(_names, _values), max_size=8)


def _known_names(spec: Spec) -> set[str]:
    names = set(spec.profile.common_parameter_names)
    names |= {p.name for p in spec.parameters}
    return names


@PROPERTY_SETTINGS
@given(
    pairs=_param_lists,
    method=st.sampled_from(["GET", "POST"]),
    where=st.sampled_from(["query", "form"]),
)
def test_arbitrary_unsigned_parameters(
    bad_emulator: EmbeddedEmulator,
    signer: Signer,
    spec: Spec,
    pairs: list[tuple[str, str]],
    method: str,
    where: str,
) -> None:
    encoded = canonical_query(pairs).encode() if pairs else b""
    if where == "query" or method == "GET":
        raw = request_bytes(method, b"/?" + encoded)
    else:
        raw = request_bytes(method, b"/", body=encoded, content_type=FORM)
    assert_envelope(spec, raw_exchange(bad_emulator.port, raw))
    assert_alive(bad_emulator, signer)


@PROPERTY_SETTINGS
@given(pairs=_param_lists, method=st.sampled_from(["GET", "POST"]))
def test_arbitrary_extra_parameters_on_a_signed_dry_run(
    bad_emulator: EmbeddedEmulator,
    signer: Signer,
    spec: Spec,
    pairs: list[tuple[str, str]],
    method: str,
) -> None:
    """Correctly signed, with arbitrary unknown extra parameters: still a 4xx envelope
    (DryRunOperation, or the gateway's complaint), never a 5xx."""
    known = _known_names(spec)
    extra = {n: v for n, v in pairs if n and n not in known}
    api = {"InstanceId": RUNNING_ID, "DryRun": "true", **extra}
    query = signer.query(method, api).encode()
    if method == "GET":
        raw = request_bytes(method, b"/?" + query)
    else:
        raw = request_bytes(method, b"/", body=query, content_type=FORM)
    data = assert_envelope(spec, raw_exchange(bad_emulator.port, raw))
    if all(n.isascii() and n.isalnum() for n in extra):
        # plain unknown names are ignored: the DryRun passes (docs/protocol.md#dryrun)
        assert data["Code"] == spec.dryrun.code, data
    assert_alive(bad_emulator, signer)


_target_bytes = st.binary(max_size=300).map(lambda b: b.replace(b" ", b"%20"))
_content_types = st.sampled_from(
    [
        None,
        FORM,
        "application/json",
        "text/xml",
        "text/plain; charset=utf-8",
        "multipart/form-data; boundary=zz",
        "application/octet-stream",
        "\x7f/\x7f",
    ]
)


@PROPERTY_SETTINGS
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]),
    target=_target_bytes,
    body=st.binary(max_size=2000),
    content_type=_content_types,
    header_value=st.text(
        alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200
    ),
)
def test_arbitrary_bytes(
    bad_emulator: EmbeddedEmulator,
    signer: Signer,
    spec: Spec,
    method: str,
    target: bytes,
    body: bytes,
    content_type: str | None,
    header_value: str,
) -> None:
    """Arbitrary request targets and bodies: an envelope, or the HTTP layer's refusal."""
    raw = request_bytes(
        method,
        b"/?" + target,
        body=body,
        content_type=content_type,
        headers={"X-Anything": header_value},
    )
    assert_http_layer_refusal(spec, raw_exchange(bad_emulator.port, raw))
    assert_alive(bad_emulator, signer)
