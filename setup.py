"""Builds the C extensions (the token scanner, the Hamming scan of image codes); everything else is in
pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("ascertain.fingerprint._kernel", ["src/ascertain/fingerprint/_kernel.c"],
                             extra_compile_args=["-O3"]),
                         Extension("ascertain.imaging._hamming", ["src/ascertain/imaging/_hamming.c"],
                                   extra_compile_args=["-O3"])])
