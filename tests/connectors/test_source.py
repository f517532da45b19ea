"""``Source``: an open value type that behaves as the enum it replaced did."""

from __future__ import annotations

import copy
import json
import pickle

import pytest
from pydantic import TypeAdapter

from connectors.records import Source


def test_a_source_is_its_name_interned() -> None:
    shopify = Source("shopify")
    assert shopify is Source("shopify")
    assert shopify is Source(shopify)
    assert shopify == "shopify"
    assert {"shopify": 1}[shopify] == 1
    assert shopify.value == "shopify"
    assert type(shopify.value) is str
    assert str(shopify) == f"{shopify}" == "shopify"
    assert repr(shopify) == "Source('shopify')"
    assert json.dumps({"source": shopify}) == '{"source": "shopify"}'


def test_a_source_survives_copies_and_pickling_as_itself() -> None:
    square = Source("square")
    assert copy.copy(square) is square
    assert copy.deepcopy(square) is square
    assert pickle.loads(pickle.dumps(square)) is square


def test_a_source_name_is_an_identifier() -> None:
    for bad in ("", "Shopify", "shop ify", "1st", "a-b"):
        with pytest.raises(ValueError, match="not a valid source name"):
            Source(bad)


def test_pydantic_validates_a_source_from_its_name_and_dumps_the_name() -> None:
    adapter = TypeAdapter(tuple[Source, str])
    value = adapter.validate_python(["klaviyo", "K1"])
    assert value[0] is Source("klaviyo")
    assert adapter.dump_python(value, mode="json") == ["klaviyo", "K1"]
    assert type(adapter.dump_python(value, mode="json")[0]) is str
