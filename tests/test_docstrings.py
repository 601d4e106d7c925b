"""Every public module, class and function of the three packages carries a docstring."""

import importlib
import inspect
import pkgutil

import pytest

PACKAGES = ("optics", "models", "instruments")


def _public_modules():
    for pkg_name in PACKAGES:
        pkg = importlib.import_module(pkg_name)
        yield pkg_name
        for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{pkg_name}."):
            if any(part.startswith("_") for part in info.name.split(".")[1:]):
                continue
            yield info.name


MODULES = sorted(set(_public_modules()))


@pytest.mark.parametrize("name", MODULES)
def test_public_api_is_documented(name):
    mod = importlib.import_module(name)
    missing = [] if inspect.getdoc(mod) else [name]
    for attr, obj in vars(mod).items():
        if attr.startswith("_") or getattr(obj, "__module__", None) != name:
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj):
            if not inspect.getdoc(obj):
                missing.append(f"{name}.{attr}")
            if inspect.isclass(obj):
                for m_name, member in vars(obj).items():
                    if m_name.startswith("_") or not inspect.isfunction(member):
                        continue
                    if not inspect.getdoc(member):
                        missing.append(f"{name}.{attr}.{m_name}")
    assert not missing, f"undocumented public API: {missing}"
