from __future__ import annotations

from pathlib import Path

import pytest

from ascertain.demo import demo_data


@pytest.fixture(scope="session")
def data() -> Path:
    """The bundled demo data: real, permissively licensed source files."""
    return demo_data()


@pytest.fixture
def rsa_file(data: Path) -> Path:
    return data / "works" / "python-rsa" / "randnum.py"
