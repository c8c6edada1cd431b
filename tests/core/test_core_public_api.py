"""The public API is exactly what ``juggler.__all__`` lists."""

from __future__ import annotations

import juggler


def test_all_lists_every_public_name_and_only_names_that_exist():
    public = {n for n in vars(juggler) if not n.startswith("_") and not _is_module(n)}
    assert public | {"__version__"} == set(juggler.__all__)


def test_all_is_sorted_constants_then_classes_then_functions():
    def kind(name: str) -> tuple[int, str]:
        rank = 0 if name.isupper() else 1 if name[0].isupper() else 2
        return rank, name

    assert list(juggler.__all__) == sorted(juggler.__all__, key=kind)


def _is_module(name: str) -> bool:
    return type(getattr(juggler, name)).__name__ == "module"


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
