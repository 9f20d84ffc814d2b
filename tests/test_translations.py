"""Translations: the same structure in every language, and flow texts that name the right vendor.

``strings.json`` is the source; ``translations/en.json`` is it with ``[%key:…%]`` references
resolved; ``translations/de.json`` has the same keys and placeholders. A flow text belongs to the
vendor whose step shows it or whose ``vendors/<vendor>/flow.py`` alone uses its key; every other
text is shared and names no vendor's device, so no vendor's user reads about another's.
"""

from __future__ import annotations

from collections.abc import Iterator
import json
from pathlib import Path
import re
from typing import Any

import pytest

from custom_components.solarhub.const import Vendor

ROOT = Path(__file__).parents[1] / "custom_components" / "solarhub"
STRINGS: dict[str, Any] = json.loads((ROOT / "strings.json").read_text(encoding="utf-8"))
LANGUAGES = {
    path.stem: json.loads(path.read_text(encoding="utf-8"))
    for path in sorted((ROOT / "translations").glob("*.json"))
}
REFERENCE = re.compile(r"\[%key:component::solarhub::([a-z0-9_:]+)%\]")
PLACEHOLDER = re.compile(r"\{(\w+)\}")

# What names a vendor's device or service, per language.
VENDOR_WORDS: dict[Vendor, dict[str, tuple[str, ...]]] = {
    Vendor.PLENTICORE: {
        "en": ("inverter", "PLENTICORE", "KOSTAL", "PIKO", "Master Key", "service code"),
        "de": ("Wechselrichter", "PLENTICORE", "KOSTAL", "PIKO", "Master Key", "Servicecode"),
    },
    Vendor.TIGO: {
        "en": ("Tigo", "account", "cloud", "Premium"),
        "de": ("Tigo", "Konto", "Cloud", "Premium"),
    },
    Vendor.ENLIGHTEN: {
        "en": ("Enlighten", "Enphase", "API key", "user id"),
        "de": ("Enlighten", "Enphase", "API-Schlüssel", "Benutzer-ID"),
    },
}
SHARED_SOURCES = ("config_flow.py", "vendors/flow.py")


def _leaves(tree: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _leaves(value, (*path, key))
    else:
        yield path, tree


def _resolve(text: str) -> str:
    def lookup(match: re.Match[str]) -> str:
        node: Any = STRINGS
        for key in match.group(1).split("::"):
            node = node[key]
        return _resolve(node)

    if "[%key:" in text and not REFERENCE.search(text):
        pytest.fail(f"only references into this integration's strings are resolved: {text}")
    return REFERENCE.sub(lookup, text)


def _quoted(path: str) -> set[str]:
    return set(re.findall(r'"([a-z0-9_]+)"', (ROOT / path).read_text(encoding="utf-8")))


def _vendor_quoted(vendor: Vendor) -> set[str]:
    """The keys a vendor's flow modules (``flow.py``, ``flow_<api>.py``) use."""
    paths = sorted((ROOT / "vendors" / vendor).glob("flow*.py"))
    return set().union(*(_quoted(str(p.relative_to(ROOT))) for p in paths))


def _owner_of_key(key: str) -> Vendor | None:
    """The vendor whose flow alone uses ``key``; None for a shared key."""
    if key in set().union(*(_quoted(path) for path in SHARED_SOURCES)):
        return None
    users = [v for v in Vendor if key in _vendor_quoted(v)]
    return users[0] if len(users) == 1 else None


def _owner_of_step(step_id: str) -> Vendor | None:
    for vendor in Vendor:
        own = (vendor, f"reauth_{vendor}", f"reconfigure_{vendor}")
        if step_id in own or step_id.startswith(tuple(f"{prefix}_" for prefix in own)):
            return vendor
    return None


def _flow_texts(tree: dict[str, Any]) -> Iterator[tuple[str, Vendor | None, str]]:
    """Every text of a flow error, abort or step (the vendor menu aside) with its owner."""
    config = tree["config"]
    for section in ("error", "abort"):
        for key, text in config[section].items():
            yield f"{section}.{key}", _owner_of_key(key), text
    for step_id, step in config["step"].items():
        if step_id != "user":
            for path, text in _leaves(step):
                yield f"step.{step_id}.{'.'.join(path)}", _owner_of_step(step_id), text


def test_every_language_has_the_structure_of_strings() -> None:
    expected = {path for path, _ in _leaves(STRINGS)}
    assert set(LANGUAGES) >= {"en", "de"}
    for language, tree in LANGUAGES.items():
        assert {path for path, _ in _leaves(tree)} == expected, language


def test_english_is_strings_with_references_resolved() -> None:
    resolved = {path: _resolve(text) for path, text in _leaves(STRINGS)}
    assert dict(_leaves(LANGUAGES["en"])) == resolved


def test_placeholders_are_the_same_in_every_language() -> None:
    english = dict(_leaves(LANGUAGES["en"]))
    for language, tree in LANGUAGES.items():
        for path, text in _leaves(tree):
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(english[path])), (
                language,
                path,
            )


def test_every_translated_key_is_used() -> None:
    used = set().union(*(_quoted(p) for p in SHARED_SOURCES))
    used |= set().union(*(_vendor_quoted(v) for v in Vendor))
    config = STRINGS["config"]
    keys = set(config["error"]) | set(config["abort"])
    # Home Assistant's own reasons for a finished reauth or reconfigure.
    assert keys - used == {"reauth_successful", "reconfigure_successful"}


@pytest.mark.parametrize("language", ["en", "de"])
def test_flow_texts_name_only_their_own_vendor(language: str) -> None:
    assert set(VENDOR_WORDS) == set(Vendor)  # a new vendor says what names its device
    wrong = []
    for where, owner, text in _flow_texts(LANGUAGES[language]):
        for vendor, words in VENDOR_WORDS.items():
            if vendor is owner:
                continue
            wrong += [
                (where, word, text)
                for word in words[language]
                if word.casefold() in text.casefold()
            ]
    assert wrong == []


def test_each_vendor_has_its_own_refused_login_and_already_set_up() -> None:
    for failure in ("invalid_auth", "already_configured", "different_device"):
        owners = {_owner_of_key(f"{failure}_{vendor}") for vendor in Vendor}
        assert owners == set(Vendor), failure


# Home Assistant's German speaks to the user as "du"; one flow in "Sie" reads like another product.
FORMAL_GERMAN = re.compile(r"\b(Sie|Ihr|Ihre|Ihrer|Ihren|Ihrem|Ihres|Ihnen)\b")


def test_german_addresses_the_user_as_du_everywhere() -> None:
    tree = json.loads((ROOT / "translations" / "de.json").read_text(encoding="utf-8"))
    formal = [
        ".".join(path) for path, text in _leaves(tree) if FORMAL_GERMAN.search(text) is not None
    ]
    assert formal == []
