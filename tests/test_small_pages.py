"""`engine.small_pages`: ordinary pages during a run, numpy's setting restored, no-op without it."""

from __future__ import annotations

import importlib
import types

import numpy as np
import pytest

from chistka import engine
from chistka.engine import madvise_hugepage_switch, small_pages


def test_the_switch_is_off_inside_and_restored_after():
    switch = madvise_hugepage_switch()
    if switch is None:
        pytest.skip("this numpy has no huge-page switch")
    before = switch(True)
    try:
        with small_pages():
            assert switch(False) is False  # the setting inside was off
        assert switch(True) is True  # and on again after
        with pytest.raises(RuntimeError), small_pages():
            raise RuntimeError("a failed run")
        assert switch(True) is True  # restored after an error too
    finally:
        switch(before)


def test_a_numpy_without_the_switch_runs_on_its_default_pages(monkeypatch):
    real_import = importlib.import_module

    def without_switch(name: str, *args, **kwargs):
        if name in ("numpy._core.multiarray", "numpy.core.multiarray"):
            return types.SimpleNamespace()  # the module, minus the private function
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", without_switch)
    assert madvise_hugepage_switch() is None
    with small_pages():
        assert np.zeros(1 << 20).sum() == 0


def test_a_missing_module_is_skipped(monkeypatch):
    calls = []

    def numpy_1(name: str, *args, **kwargs):
        if name == "numpy._core.multiarray":
            raise ImportError(name)
        return types.SimpleNamespace(_set_madvise_hugepage=lambda on: calls.append(on) or True)

    monkeypatch.setattr(importlib, "import_module", numpy_1)
    with small_pages():
        assert calls == [False]
    assert calls == [False, True]
    assert engine.madvise_hugepage_switch() is not None
