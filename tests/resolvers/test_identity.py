"""Identity resolution rules on hand-made records (the demo dataset's quirks are covered in
tests/resolvers/test_identity_dataset.py)."""

from __future__ import annotations

from connectors.records import Source
from resolvers.identity.normalize import name_key, normalize_email, normalize_phone
from resolvers.identity.placeholders import Placeholders
from resolvers.identity.resolve import IdentityFacts, resolve

SHOP, SQ, KL = Source("shopify"), Source("square"), Source("klaviyo")


def facts(
    source: Source,
    sid: str,
    emails: tuple[str, ...] = (),
    phones: tuple[str, ...] = (),
    name: str | None = None,
) -> IdentityFacts:
    return IdentityFacts(source, sid, emails, phones, name)


def cluster_of(result, key):  # type: ignore[no-untyped-def]
    return next({m.key for m in c} for c in result.clusters if key in {m.key for m in c})


def test_email_normalisation() -> None:
    assert normalize_email("  JANE.Doe@Example.COM ") == "jane.doe@example.com"
    assert normalize_email("mailto:a@b.co") == "a@b.co"
    for junk in (None, "", "jane", "a@b", "two@@at.com"):
        assert normalize_email(junk) is None


def test_phone_normalisation_in_any_local_format() -> None:
    for raw in (
        "(212) 555-0134",
        "212.555.0134",
        "2125550134",
        "+1 212 555 0134",
        "1-212-555-0134",
    ):
        assert normalize_phone(raw, "US") == "+12125550134", raw
    assert normalize_phone("020 7946 0958", "GB") == "+442079460958"
    for junk in (None, "", "0000000000", "555-0134", "n/a"):
        assert normalize_phone(junk, "US") is None


def test_name_key_folds_accents_case_and_spacing() -> None:
    assert name_key(" José ", "GARCÍA") == "jose garcia"
    assert name_key("Ann", None) is None


def test_placeholder_emails_by_list_and_local_part() -> None:
    p = Placeholders()
    assert p.is_placeholder_email("none@none.com")
    assert p.is_placeholder_email("noemail@gmail.com")
    assert p.is_placeholder_email("noemail2@store.com")
    for real in ("no.smith@example.com", "nadia@example.com", "nora@x.com"):
        assert not p.is_placeholder_email(real), real


def test_shared_email_joins_across_sources() -> None:
    result = resolve(
        [
            facts(SHOP, "1", ("jane@example.com",), name="jane doe"),
            facts(SQ, "A", ("jane@example.com",), name="jane doe"),
            facts(KL, "k1", ("jane@example.com",)),
        ]
    )
    assert len(result.clusters) == 1
    assert {link.reason for link in result.links} == {"same email"}


def test_phone_alone_never_merges_but_is_surfaced() -> None:
    result = resolve(
        [
            facts(SHOP, "1", ("mum@example.com",), ("+12125550134",), "ann lee"),
            facts(SHOP, "2", ("kid@example.com",), ("+12125550134",), "ben lee"),
        ]
    )
    assert len(result.clusters) == 2
    assert [d.reason for d in result.possible_duplicates] == ["shares a phone number"]


def test_phone_with_the_same_full_name_joins() -> None:
    result = resolve(
        [
            facts(SHOP, "1", ("a@example.com",), ("+12125550134",), "ann lee"),
            facts(SQ, "A", ("b@example.com",), ("+12125550134",), "ann lee"),
        ]
    )
    assert len(result.clusters) == 1
    assert result.links[0].reason == "same phone and full name"


def test_two_shopify_customers_are_never_one_person() -> None:
    result = resolve(
        [
            facts(SHOP, "1", ("x@example.com",), name="x y"),
            facts(SHOP, "2", ("x@example.com",), name="x y"),
        ]
    )
    assert len(result.clusters) == 2
    assert "kept apart" in result.conflicts[0].reason


def test_pos_duplicates_join() -> None:
    result = resolve(
        [
            facts(SQ, "A", ("sam@example.com",), name="sam roe"),
            facts(SQ, "B", ("sam@example.com",), name="sam roe"),
            facts(SQ, "C", ("sam@example.com",), name="sam roe"),
        ]
    )
    assert len(result.clusters) == 1


def test_placeholder_shared_by_strangers_is_detected_and_joins_nobody() -> None:
    strangers = [
        facts(SQ, f"S{i}", ("brooklyn@shop.example",), name=f"person {i}") for i in range(12)
    ]
    result = resolve(strangers, placeholder_threshold=5)
    assert len(result.clusters) == 12
    assert result.placeholders_found == {"brooklyn@shop.example": 12}


def test_keep_apart_vetoes_a_join() -> None:
    a = facts(SHOP, "1", ("x@example.com",))
    b = facts(KL, "k", ("x@example.com",))
    result = resolve([a, b], keep_apart=[(a.key, b.key)])
    assert len(result.clusters) == 2
    assert "split by unmerge" in result.conflicts[0].reason


def test_resolution_is_deterministic_whatever_the_input_order() -> None:
    records = [
        facts(SHOP, "1", ("a@example.com",), ("+12125550134",), "ann lee"),
        facts(SQ, "A", ("A@example.com".lower(),)),
        facts(KL, "k", ("b@example.com",), ("+12125550134",), "ann lee"),
    ]
    first = resolve(records)
    second = resolve(list(reversed(records)))
    assert [[m.key for m in c] for c in first.clusters] == [
        [m.key for m in c] for c in second.clusters
    ]
