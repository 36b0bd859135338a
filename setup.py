"""Builds the one C extension (the token scanner); everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("ascertain.fingerprint._kernel", ["src/ascertain/fingerprint/_kernel.c"],
                             extra_compile_args=["-O3"])])
