"""Fixtures for the sample portal: the site model and the portal served from a subprocess."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gkcrawl.demo.site import DEFAULT_SEED, Site, build_site
from tests.portal import PortalProcess

#: The slow page's delay in these tests: short, so the module stays fast.
TEST_SLOW_DELAY = 1.0


@pytest.fixture(scope="session")
def site() -> Site:
    return build_site(DEFAULT_SEED, slow_delay=TEST_SLOW_DELAY)


@pytest.fixture(scope="module")
def portal() -> Iterator[PortalProcess]:
    server = PortalProcess("--port", "0", "--seed", str(DEFAULT_SEED),
                           "--slow-delay", str(TEST_SLOW_DELAY))
    yield server
    assert server.stop() == 0, "the server did not exit cleanly on SIGTERM"
