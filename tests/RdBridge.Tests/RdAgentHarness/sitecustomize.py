"""Placeholders for the LLM client libraries RD-Agent imports at module level (openai, tiktoken, litellm).

Debian has none of them and this machine reaches no PyPI. An offline run never calls them (the harness gives fixed
answers in place of the LLM), but RD-Agent's modules import them, so a meta-path finder answers any module under those
names with an inert module whose every attribute is an inert class. Python imports this file by itself when its folder
is on PYTHONPATH (the `site` module looks for `sitecustomize`).
"""

import importlib.abc
import importlib.machinery
import sys
import types

PLACEHOLDER_ROOTS = ("openai", "tiktoken", "litellm")


class _InertMeta(type):
    """Any attribute of an inert class is another inert class; indexing returns the class itself."""

    def __getattr__(cls, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _inert(f"{cls.__qualname__}.{name}")

    def __getitem__(cls, item):
        return cls


def _inert(name):
    # An Exception subclass, so that `except openai.SomeError:` clauses stay valid.
    return _InertMeta(name, (Exception,), {"__module__": "rdbridge_placeholder", "__qualname__": name})


class _InertModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        value = _inert(f"{self.__name__}.{name}")
        setattr(self, name, value)
        return value


class _PlaceholderFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".", 1)[0] not in PLACEHOLDER_ROOTS:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        module = _InertModule(spec.name)
        module.__path__ = []  # a package, so that submodule imports reach this finder too
        module.__version__ = "0.0.0-placeholder"
        return module

    def exec_module(self, module):
        pass


if not any(isinstance(f, _PlaceholderFinder) for f in sys.meta_path):
    sys.meta_path.append(_PlaceholderFinder())
