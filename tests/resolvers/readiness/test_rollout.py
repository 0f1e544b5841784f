"""Which rules stored scores follow: the majority of live replicas, when newer."""

from datetime import UTC, datetime, timedelta

from resolvers.readiness.rollout import Adopted, RulesInUse, majority_choice

T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
OLD = Adopted("2:old", T0, "majority")


def running(*rows: tuple[str, int, int]) -> list[RulesInUse]:
    """(hash, replicas, minutes after T0 its first replica started)."""
    return [RulesInUse(h, n, T0 + timedelta(minutes=m)) for h, n, m in rows]


def test_the_first_replica_adopts_its_own_rules() -> None:
    assert majority_choice(running(("2:old", 1, 0)), None) == "2:old"


def test_half_is_not_a_majority() -> None:
    assert majority_choice(running(("2:old", 1, -5), ("2:new", 1, 5)), OLD) is None
    assert majority_choice(running(("2:old", 2, -5), ("2:new", 2, 5)), OLD) is None


def test_a_majority_of_newer_rules_is_adopted() -> None:
    assert majority_choice(running(("2:new", 2, 5), ("2:old", 1, -5)), OLD) == "2:new"


def test_rules_older_than_the_adoption_do_not_take_it_back() -> None:
    """An adoption by hand (readiness refresh --rules) holds against replicas that ran before
    it; replicas started after it (a rollback deployed anew) win it back."""
    chosen = Adopted("2:chosen", T0, "command")
    assert majority_choice(running(("2:old", 2, -5), ("2:chosen", 1, -1)), chosen) is None
    assert majority_choice(running(("2:old", 2, 5), ("2:chosen", 1, -1)), chosen) == "2:old"


def test_the_adopted_rules_in_the_majority_change_nothing() -> None:
    assert majority_choice(running(("2:old", 3, -5), ("2:new", 1, 5)), OLD) is None
