"""The search's knobs (solver.params.SearchParams) and their TOML profiles."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from solver.params import _RANGES, CpSatParams, SearchParams, profile

PROFILES = Path(__file__).resolve().parents[2] / "solver" / "profiles"


@pytest.mark.parametrize(
    ("knob", "value"),
    [
        ("service_weight", 0),  # a need stage with no claim on the time is never searched
        ("service_weight", 2.5),  # weights are whole: the shares are ratios of them
        ("wide", 0.0),  # a neighbourhood of weight 0 gets no time at all
        ("wide", 1.5),  # heavier than the LP support it only widens
        ("resolve_gap", -0.01),  # a start above its own LP bound cannot be
        ("resolve_gap", 1.0),  # every start would have its LP solved again
        ("rounding_rounds", 0),  # no round: no rounded start at all
        ("lp_seconds", 0),  # GLOP with no time solves nothing: no bound, no start
        ("large", -1),  # a count of variables
        ("large", True),  # a Boolean is not a count, though Python calls it an int
        ("cover_items", 17),  # 2**17 sets of a case's requests: the model would not fit
        ("cover_items", -1),  # a count of requests
        ("no_time", -0.1),  # seconds, never negative
        ("shift", 1.5),  # whole nights (or time steps)
        ("shift", "2"),  # a string from a careless TOML file is not a number
    ],
)
def test_a_bad_knob_is_refused_by_name(knob, value):
    with pytest.raises(ValueError, match=rf"^{knob} must be"):
        SearchParams(**{knob: value})


def test_every_knob_has_a_range():
    assert set(_RANGES) == {f.name for f in fields(SearchParams)}


def test_the_default_profile_is_what_every_run_uses():
    # Plans stay as they were: the file holds the values the constants had.
    assert profile("default") == SearchParams() == CpSatParams().search
    assert SearchParams() == SearchParams(
        service_weight=12,
        wide=0.001,
        resolve_gap=0.01,
        rounding_rounds=30,
        lp_seconds=10.0,
        large=5000,
        cover_items=10,
        no_time=0.01,
        shift=2,
    )


@pytest.mark.parametrize("tier", ["tiny", "borough", "county", "region", "nation"])
def test_each_tier_has_a_profile_over_the_default(tier):
    assert profile(tier) == SearchParams()  # no tier changes a knob yet


def test_a_file_names_only_what_it_changes(tmp_path):
    path = tmp_path / "quick.toml"
    path.write_text("[search]\nlp_seconds = 2.0\nshift = 1\n")
    params = SearchParams.from_file(path)
    assert (params.lp_seconds, params.shift) == (2.0, 1)
    assert params.service_weight == SearchParams().service_weight
    over = SearchParams.from_file(path, base=SearchParams(large=100))
    assert over.large == 100


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[search]\nwidth = 2\n", "unknown search parameter.*width"),  # a misspelt knob
        ("[solver]\nshift = 1\n", "unknown search parameter.*solver"),  # a table of its own
        ("[search]\nshift = -1\n", "^shift must be"),  # a knob out of range
    ],
)
def test_a_bad_file_is_refused_with_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        SearchParams.from_file(path)


def test_an_unknown_profile_is_refused_with_the_ones_there_are():
    with pytest.raises(ValueError, match=r"'fast' is not one of .*default"):
        profile("fast")


def test_every_bundled_profile_loads():
    for path in PROFILES.glob("*.toml"):
        assert profile(path.stem) == SearchParams.from_file(path, base=profile("default"))
