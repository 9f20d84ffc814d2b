"""Smoke tests of ``bench.enlighten``: a simulated day of the planner driver, one peer."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bench.enlighten import (
    PEERS,
    START,
    Scenario,
    run_peer,
    run_solarhub,
    solarhub_table,
)
from custom_components.solarhub.vendors.enlighten.plans import (
    V2_WATT,
    V4_WATT,
    ApiVersion,
    plan_for,
)
from tests.simulators.enlighten import DEFAULT_SYSTEMS

# A young system: its first setup's lifetime history is quick for the simulator to compute.
YOUNG = (replace(DEFAULT_SYSTEMS[0], operational_days=30),)


async def test_one_day_of_the_planner_driver_on_v2_and_v4() -> None:
    chosen = [
        Scenario("v2 Watt x1", "v2", V2_WATT, YOUNG),
        Scenario("v4 Watt x1", "v4", V4_WATT, YOUNG),
    ]
    results = [await run_solarhub(scenario, 1) for scenario in chosen]
    for result in results:
        plan = result.scenario.plan
        assert result.requests > 20
        assert result.rejected == 0
        assert result.rejected_busy == 0
        assert result.per_minute_peak <= plan.minute_cap
        assert result.kinds["summary"] > 10
        assert result.hours_compared > 24  # the first setup's seven days of history
        assert result.hours_off == 0, result.off_examples
        polls = result.polls[result.scenario.systems[0].system_id]
        assert all(poll.upload_age <= 15 for poll in polls)
    table = solarhub_table(results)
    assert "v2 Watt x1" in table
    assert "v4 Watt x1" in table


async def test_a_fixed_interval_peer_runs_out_of_its_month() -> None:
    tiny = plan_for(ApiVersion.V2, "custom", per_minute=10, per_month=50)
    peer = next(p for p in PEERS if p.every == 900)
    result = await run_peer(peer, tiny, 1, YOUNG)
    assert result.sent == 96
    assert result.requests == 50
    assert result.rejected == 46
    assert result.month_out == START + timedelta(minutes=15 * 50)
