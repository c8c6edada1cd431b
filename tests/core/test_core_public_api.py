"""The public API is exactly what ``juggler.__all__`` lists."""

from __future__ import annotations

import juggler


def test_all_is_sorted_and_complete():
    public = {n for n in dir(juggler) if not n.startswith("_") and n[0].isupper()}
    assert public <= set(juggler.__all__)
    assert sorted(juggler.__all__, key=str) == sorted(juggler.__all__, key=str)


def test_every_public_name_has_a_docstring():
    for name in juggler.__all__:
        obj = getattr(juggler, name)
        if callable(obj):
            assert obj.__doc__, name


def test_the_exception_tree_is_drawn_in_the_errors_module():
    from juggler import _exceptions as _errors

    assert "AllProvidersFailedError" in (_errors.__doc__ or "")
    assert issubclass(juggler.RequestRejectedError, juggler.AllProvidersFailedError)
    assert issubclass(juggler.OverloadedError, juggler.ServerError)
