"""Every error class has its own code, a 4xx/5xx status, a docstring, and the builtin callers expect."""

from __future__ import annotations

import inspect

import shared.errors as errors


def _classes() -> list[type[errors.SynthError]]:
    return [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.SynthError)]


def test_codes_are_distinct_and_statuses_sane() -> None:
    classes = _classes()
    codes = [c.code for c in classes]
    assert len(codes) == len(set(codes)), codes
    for cls in classes:
        assert 400 <= cls.http_status < 600, cls
        assert cls.__doc__ and cls.__doc__.strip(), cls


def test_adapter_errors_are_value_errors_and_client_errors() -> None:
    for cls in _classes():
        if issubclass(cls, errors.AdapterFormatError):
            assert issubclass(cls, ValueError) and 400 <= cls.http_status < 500, cls


def test_all_is_sorted_and_complete() -> None:
    assert errors.__all__ == sorted(errors.__all__)
    assert set(errors.__all__) == {c.__name__ for c in _classes()}
