from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from ascertain.demo import demo_data


@pytest.fixture(scope="session")
def data() -> Path:
    """The bundled demo data: real, permissively licensed source files."""
    return demo_data()


@pytest.fixture
def rsa_file(data: Path) -> Path:
    return data / "works" / "python-rsa" / "randnum.py"


# --- store backends: SQLite (the default) and a real PostgreSQL server -------------------------------------
# .ci/run starts a throwaway PostgreSQL cluster and exports ASCERTAIN_TEST_POSTGRES_URL (a superuser URL of
# its maintenance database) and CI_REQUIRE_POSTGRES=1, so in CI a missing server fails instead of skipping.

def postgres_admin_url() -> str | None:
    url = os.environ.get("ASCERTAIN_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI_REQUIRE_POSTGRES") == "1":
            pytest.fail("CI_REQUIRE_POSTGRES=1 but ASCERTAIN_TEST_POSTGRES_URL is not set")
        pytest.skip("no PostgreSQL server (set ASCERTAIN_TEST_POSTGRES_URL; .ci/run starts one)")
    return url


@pytest.fixture(scope="session")
def new_store_url():
    """A function making a fresh, empty store per call: None (SQLite in the case folder) or a new PostgreSQL
    database, dropped at the end of the session."""
    made: list[str] = []
    admin = None

    def make(backend: str) -> str | None:
        nonlocal admin
        if backend == "sqlite":
            return None
        url = postgres_admin_url()
        if admin is None:
            admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        name = f"ascertain_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return sa.make_url(url).set(database=name).render_as_string(hide_password=False)

    yield make
    if admin is not None:
        with admin.connect() as c:
            for name in made:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request) -> str:
    if request.param == "postgres":
        postgres_admin_url()
    return request.param


@pytest.fixture(scope="session")
def demo_case(tmp_path_factory, backend, new_store_url):
    """The demo case (no report) on each backend, built once a session; tests that change it change only
    what they own (users, tokens, review decisions)."""
    from ascertain.case import Case
    from ascertain.demo import run_demo

    root = tmp_path_factory.mktemp(f"demo-{backend}") / "case"
    assert run_demo(root, None, report=False, store_url=new_store_url(backend))["ok"]
    return Case.open(root)


# Tests that write a report twice and compare the bytes (the re-derivation of `verify` does) need HarfBuzz-Subset:
# without it WeasyPrint's fallback subsetter writes other font bytes each time. Skipped with the install line on
# such a machine; CI_REQUIRE_PDF=1 (.ci/run) fails them instead.
REPRODUCIBLE_PDF_FILES = ("test_report_trust.py",)


def pytest_collection_modifyitems(config, items):
    from ascertain.report.pdf_toolchain import INSTALL, missing_pdf_libraries

    missing = missing_pdf_libraries()
    if not missing or os.environ.get("CI_REQUIRE_PDF") == "1":
        return
    mark = pytest.mark.skip(reason=f"reports written twice differ without {missing}: {INSTALL}")
    for item in items:
        if Path(str(item.fspath)).name in REPRODUCIBLE_PDF_FILES:
            item.add_marker(mark)


@pytest.fixture(scope="module")
def cluster():
    """A real two-node Ray cluster on this machine (engine/local_cluster.py), one per test module (a module may
    kill a node of its own: tests/test_ray_cluster.py)."""
    try:
        import ray  # noqa: F401
    except ImportError:
        if os.environ.get("CI_REQUIRE_RAY") == "1":
            pytest.fail("CI_REQUIRE_RAY=1 but ray is not installed (the scale extra, part of dev)")
        pytest.skip('ray is not installed: pip install "ray[data]==2.60.0"')
    from ascertain.engine.local_cluster import LocalCluster

    root = Path(tempfile.mkdtemp(prefix="asc-ray-", dir="/tmp"))  # short: Ray's socket paths are limited
    src = str(Path(__file__).resolve().parents[1] / "src")
    c = LocalCluster(root, nodes=2, cpus=1, object_store_mb=300, pythonpath=src)
    try:
        c.start()
        yield c
    finally:
        c.stop()
        shutil.rmtree(root, ignore_errors=True)
