"""A deterministic demo world shared by the Shopify, Square and Klaviyo sandboxes.

``generate(people, seed)`` builds one retailer (Fernhill Supply Co.: six stores, a warehouse,
forty products) and a population whose records differ across vendors the way real ones do:
upper-case emails and local phone formats at the POS, guest checkouts, two emails for one
person, a family sharing a phone, subscribers who never bought, duplicate POS records and
placeholder contacts. ``DemoWorld.quirks`` says where each planted case is, and ``Person``
is the truth identity resolution is tested against.

From the product it imports only ``connectors.records`` (lint-imports enforces it);
sandboxes render the world into their own wire formats.
"""

from sandboxes.demo.generator import MIN_PEOPLE, generate
from sandboxes.demo.ids import IdFactory, ShopifyKind, shopify_gid
from sandboxes.demo.quirks import PLACEHOLDER_EMAIL, PLACEHOLDER_PHONE
from sandboxes.demo.world import (
    DEMO_NOW,
    HISTORY_DAYS,
    DeliveryMethod,
    DemoLocation,
    DemoProduct,
    DemoVariant,
    DemoWorld,
    GuestCheckoutQuirk,
    KlaviyoCampaign,
    KlaviyoEvent,
    KlaviyoMetric,
    KlaviyoProfile,
    LocalPhoneQuirk,
    Person,
    Persona,
    PlaceholderQuirk,
    PosDuplicatesQuirk,
    PosSystem,
    Quirks,
    SharedPhoneQuirk,
    ShopifyCustomer,
    ShopifyLineItem,
    ShopifyOrder,
    ShopifyRefund,
    ShopifyRefundLine,
    SquareCustomer,
    SquareLineItem,
    SquareOrder,
    SquareRefund,
    SquareReturnLine,
    StockLevel,
    StockScenarios,
    SubscriberOnlyQuirk,
    TwoEmailsQuirk,
    UpperCaseEmailQuirk,
)

__all__ = [
    "DEMO_NOW",
    "HISTORY_DAYS",
    "MIN_PEOPLE",
    "PLACEHOLDER_EMAIL",
    "PLACEHOLDER_PHONE",
    "DeliveryMethod",
    "DemoLocation",
    "DemoProduct",
    "DemoVariant",
    "DemoWorld",
    "GuestCheckoutQuirk",
    "IdFactory",
    "KlaviyoCampaign",
    "KlaviyoEvent",
    "KlaviyoMetric",
    "KlaviyoProfile",
    "LocalPhoneQuirk",
    "Person",
    "Persona",
    "PlaceholderQuirk",
    "PosDuplicatesQuirk",
    "PosSystem",
    "Quirks",
    "SharedPhoneQuirk",
    "ShopifyCustomer",
    "ShopifyKind",
    "ShopifyLineItem",
    "ShopifyOrder",
    "ShopifyRefund",
    "ShopifyRefundLine",
    "SquareCustomer",
    "SquareLineItem",
    "SquareOrder",
    "SquareRefund",
    "SquareReturnLine",
    "StockLevel",
    "StockScenarios",
    "SubscriberOnlyQuirk",
    "TwoEmailsQuirk",
    "UpperCaseEmailQuirk",
    "generate",
    "shopify_gid",
]
