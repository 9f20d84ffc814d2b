"""quality_scale.yaml lists every rule of the Integration Quality Scale with an honest status."""

from __future__ import annotations

from pathlib import Path

from homeassistant import components
import yaml

from custom_components import solarhub

STATUSES = {"done", "todo", "exempt"}


def _rules(path: Path) -> dict[str, object]:
    rules = yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]
    assert isinstance(rules, dict)
    return rules


def test_every_rule_is_listed_with_a_status() -> None:
    """The rule names are those of a Platinum core integration, which must list them all."""
    ours = _rules(Path(solarhub.__file__).parent / "quality_scale.yaml")
    reference = _rules(Path(components.__file__).parent / "peblar" / "quality_scale.yaml")
    assert list(ours) == list(reference)
    for rule, value in ours.items():
        status = value if isinstance(value, str) else value["status"]  # type: ignore[index]
        assert status in STATUSES, rule
        if status != "done":  # a rule not met says why
            assert isinstance(value, dict), rule
            assert value.get("comment"), rule
