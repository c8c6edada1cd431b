"""A stream cut after the wire had already reported its usage is priced from that usage, not
from an estimate of the delivered text."""

from __future__ import annotations

from typing import Any

import pytest
from _resilience_fakes import VirtualTime, scripted_juggler

from juggler import StreamInterruptedError
from juggler._types import Usage
from juggler.providers.types import ChatDelta
from juggler.testing import FakeHttpError, FakeStream


def test_a_stream_cut_after_its_usage_event_records_the_reported_usage():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m"], vt)
    reported = Usage(input_tokens=1234, output_tokens=56, total_tokens=1290)
    # OpenAI-style: the usage comes in its own event, then the body is cut before [DONE]
    fakes["a"].plan(FakeStream(["hello", ChatDelta(usage=reported)], error=FakeHttpError(502)))

    async def main() -> Any:
        stream = juggler.astream_chat("hi")
        with pytest.raises(StreamInterruptedError) as caught:
            async for _ in stream:
                pass
        return caught.value.models_used

    (attempt,) = vt.run(main())
    assert attempt.outcome == "error"
    assert attempt.usage == reported
