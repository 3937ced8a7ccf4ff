"""`glm history` dates: the cheap per-row formatting (one datetime a minute, not one a row) prints exactly
what datetime prints, for any stored time, in UTC (ISO, piped and JSON) and in the local zone (a terminal)."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glm_cli.commands.history import _LOCAL_MINUTES, _iso, _local

TIMES = st.one_of(
    st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False),  # 1970 .. 2100
    st.integers(min_value=0, max_value=4_102_444_800).map(float),
    st.integers(min_value=0, max_value=4_102_444_800).map(lambda s: s - 1e-7),  # a hair below a second
    st.none(),
)


@settings(max_examples=300, deadline=None)
@given(ts=TIMES)
def test_iso_is_datetimes_isoformat(ts):
    assert _iso(ts) == datetime.fromtimestamp(ts or 0, timezone.utc).isoformat(timespec="seconds")


@pytest.fixture(params=["UTC", "Asia/Shanghai", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"])
def zone(request, monkeypatch):
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    _LOCAL_MINUTES.clear()  # a process keeps its zone; this test changes it
    yield request.param
    monkeypatch.undo()
    time.tzset()
    _LOCAL_MINUTES.clear()


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="needs time.tzset")
def test_local_is_datetimes_strftime_in_any_zone(zone):
    @settings(max_examples=150, deadline=None)
    @given(ts=TIMES)
    def check(ts):
        assert _local(ts) == datetime.fromtimestamp(ts or 0).strftime("%Y-%m-%d %H:%M")

    check()
    # around this zone's DST changes of 2026 too (every 15 minutes of the year's first and last days of March, ...)
    start = datetime(2026, 3, 1, tzinfo=timezone.utc).timestamp()
    for ts in range(int(start), int(start) + 250 * 86400, 900):
        assert _local(ts) == datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M"), (zone, ts, os.environ["TZ"])
