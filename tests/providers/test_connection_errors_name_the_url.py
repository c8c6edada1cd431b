"""A connection error says which URL was tried, so a wrong base URL is obvious; the query
string is left out, because some servers take a key there."""

from __future__ import annotations

import httpx
import pytest

from juggler import AllProvidersFailedError, Juggler, ProviderConnectionError
from juggler.providers.catalog import CATALOG
from juggler.providers.openai import OpenAICompatProvider


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def test_a_refused_connection_names_the_url_it_tried() -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(refused))
    j = Juggler(
        chat=["local/my-model"],
        providers={"local": {"base_url": "http://10.1.2.3:8080/v1"}},
        http_client=client,
        retries=0,
    )
    with pytest.raises(AllProvidersFailedError) as info:
        j.chat("hi")
    error = info.value.models_used[0].error or ""
    assert "http://10.1.2.3:8080/v1/chat/completions" in error
    assert "Connection refused" in error
    j.close()


async def test_the_url_in_a_connection_error_leaves_out_its_query_string() -> None:
    spec = CATALOG["openai"]
    provider = OpenAICompatProvider(spec, api_key=None, base_url=spec.base_url)
    client = httpx.AsyncClient(transport=httpx.MockTransport(refused))
    provider._client = lambda: client  # type: ignore[method-assign]
    with pytest.raises(ProviderConnectionError) as info:
        await provider.post_json(
            "http://10.1.2.3:8080/v1/chat/completions?api-key=s3cr3t-value", {}, model="m"
        )
    assert "http://10.1.2.3:8080/v1/chat/completions" in str(info.value)
    assert "s3cr3t" not in str(info.value) and "?" not in str(info.value)
    await client.aclose()
