"""Keys never show, not even in part: vendor-echoed fragments, the exception chain (httpx keeps
the Request and its Authorization header), a key written into a base_url, and DEBUG logs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import httpx
import pytest

from juggler import AllProvidersFailedError, Juggler
from juggler._secrets import redact, scrub_exception

KEY = "LEAKCANARYcere7f3a9b2d4e6c8a0"
URL_KEY = "URLKEYq8w7e6r5t4y3u2i1"


def fragments(key: str) -> list[str]:
    """Every run of 6 characters of ``key``."""
    return [key[i : i + 6] for i in range(len(key) - 5)]


def assert_clean(text: str, *keys: str) -> None:
    for key in keys:
        leaked = [f for f in fragments(key) if f in text]
        assert not leaked, f"key fragment(s) {leaked[:3]} in: {text[:300]}"


async def _no_sleep(_: float) -> None:
    """Retry waits are skipped: tests never sleep for real."""


def _juggler(handler: Callable[[httpx.Request], httpx.Response], **providers: dict) -> Juggler:
    return Juggler(
        chat=[f"{name}/m" for name in providers] if providers else ["cohere/command-r"],
        providers=providers or {"cohere": {"api_key": KEY}},
        env={},
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        sleep=_no_sleep,
        retries=0,
    )


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


@pytest.mark.parametrize(
    "body",
    [
        '{"message": "The token \'LEAKCANARYcere...\' is invalid"}',
        '{"error": {"message": "invalid api key LEAKCANARYcere7f3a**** for this org"}}',
        '{"detail": "key ...7f3a9b2d4e6c8a0 was revoked"}',
    ],
)
def test_a_key_fragment_echoed_by_the_vendor_is_redacted_everywhere(body: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, text=body, headers={"content-type": "application/json"})

    j = _juggler(handler)
    with pytest.raises(AllProvidersFailedError) as info:
        j.chat("hello")
    health = j.get_health_status()
    j.close()
    assert_clean(str(info.value), KEY)
    assert_clean(repr([dict(a) for a in info.value.models_used]), KEY)
    assert_clean(repr(health), KEY)
    assert "[redacted]" in str(info.value)


def test_redact_removes_every_run_of_six_shared_characters() -> None:
    text = redact("tokens LEAKCANARYc and 9b2d4e6 and cere7f", [KEY])
    assert_clean(text, KEY)
    assert redact("an ordinary message", [KEY]) == "an ordinary message"


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ReadTimeout, httpx.ReadError])
def test_the_exception_chain_holds_no_credentials(failure: type[httpx.TransportError]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure("failed", request=request)

    j = _juggler(handler, cohere={"api_key": KEY})
    with pytest.raises(AllProvidersFailedError) as info:
        j.chat("hello")
    j.close()
    requests = []
    for exc in _chain(info.value):
        request = getattr(exc, "_request", None)
        if isinstance(request, httpx.Request):
            requests.append(request)
            assert_clean(repr(dict(request.headers)) + str(request.url), KEY)
    assert requests, "the httpx exception (and its request) is expected in the chain"


def test_scrub_exception_strips_headers_and_key_parameters() -> None:
    request = httpx.Request(
        "POST",
        f"https://u:{URL_KEY}@h.example/v1?key={URL_KEY}&alt=sse",
        headers={"Authorization": f"Bearer {KEY}", "x-api-key": KEY, "x-goog-api-key": KEY},
    )
    exc = httpx.ConnectError("refused", request=request)
    scrub_exception(exc)
    assert_clean(repr(dict(request.headers)) + str(request.url), KEY, URL_KEY)
    assert request.url.params["alt"] == "sse"


def test_a_key_in_the_base_url_stays_out_of_reprs_errors_and_debug_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text=f"upstream saw {request.url}")

    caplog.set_level(logging.DEBUG)
    j = _juggler(
        handler,
        gateway={"base_url": f"https://gw.example/v1?key={URL_KEY}", "api_key": KEY},
    )
    with pytest.raises(AllProvidersFailedError) as info:
        j.chat("hello")
    shown = repr(j) + repr(j.providers) + str(info.value) + repr(j.get_health_status())
    j.close()
    assert_clean(shown, KEY, URL_KEY)
    assert_clean(caplog.text, KEY, URL_KEY)
    assert "HTTP Request" in caplog.text  # httpx did log the request, without the key


def test_a_password_in_the_base_url_is_masked_in_the_provider_repr() -> None:
    j = _juggler(
        lambda r: httpx.Response(200),
        gateway={"base_url": f"https://user:{URL_KEY}@gw.example/v1", "api_key": KEY},
    )
    shown = repr(j.providers["gateway"])
    j.close()
    assert_clean(shown, URL_KEY) and "gw.example" in shown
