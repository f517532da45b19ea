"""The retailer's fixed facts: its locations and its product catalogue.

These do not depend on the seed. A SKU such as ``TEE-ORG-BLK-M`` or the store code ``BKN``
means the same thing in every demo world, so docs, demos and tests can name them; only the
vendor ids, stock and people vary with the seed.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.records import LocationKind

RETAILER_NAME = "Fernhill Supply Co."
#: An RFC 2606 ``.example`` domain: store emails look real but can never reach anyone.
RETAILER_DOMAIN = "fernhill.example"
CURRENCY = "USD"


@dataclass(frozen=True, slots=True)
class LocationSpec:
    code: str
    name: str
    kind: LocationKind
    line1: str
    city: str
    region: str
    postal_code: str
    latitude: float
    longitude: float
    timezone: str
    #: "square" or "shopify_pos" for stores, "" for the warehouse.
    pos: str
    pickup_enabled: bool
    fulfils_online: bool
    phone: str
    #: The metro whose residents walk into this store (see ``names.METROS``).
    metro: str
    opened: str
    #: Shopify's ``DeliveryLocalPickupTime`` for a pickup location.
    pickup_time: str = "ONE_HOUR"


LOCATIONS: tuple[LocationSpec, ...] = (
    LocationSpec("BKN", "Fernhill Williamsburg", LocationKind.STORE, "142 N 6th St", "Brooklyn",
                 "NY", "11249", 40.71812, -73.95930, "America/New_York", "square", True, False,
                 "+17185550142", "NYC", "2019-04-12"),
    LocationSpec("SOH", "Fernhill SoHo", LocationKind.STORE, "112 Prince St", "New York", "NY",
                 "10012", 40.72490, -73.99870, "America/New_York", "square", True, False,
                 "+12125550112", "NYC", "2020-09-01", "TWO_HOURS"),
    LocationSpec("BOS", "Fernhill Back Bay", LocationKind.STORE, "245 Newbury St", "Boston",
                 "MA", "02116", 42.34937, -71.08356, "America/New_York", "shopify_pos", True,
                 True, "+16175550145", "BOS", "2021-03-19"),
    LocationSpec("PHL", "Fernhill Rittenhouse", LocationKind.STORE, "1720 Walnut St",
                 "Philadelphia", "PA", "19103", 39.94985, -75.17055, "America/New_York",
                 "shopify_pos", True, False, "+12155550117", "PHL", "2022-05-06"),
    LocationSpec("CHI", "Fernhill Wicker Park", LocationKind.STORE, "1541 N Milwaukee Ave",
                 "Chicago", "IL", "60622", 41.90970, -87.67705, "America/Chicago",
                 "shopify_pos", True, True, "+17735550154", "CHI", "2022-10-14"),
    LocationSpec("DCA", "Fernhill Georgetown", LocationKind.STORE, "3222 M St NW", "Washington",
                 "DC", "20007", 38.90500, -77.06240, "America/New_York", "shopify_pos", True,
                 False, "+12025550132", "DCA", "2023-11-03", "FOUR_HOURS"),
    LocationSpec("WHS", "Fernhill Fulfillment Center", LocationKind.WAREHOUSE, "400 Castle Rd",
                 "Secaucus", "NJ", "07094", 40.78660, -74.05230, "America/New_York", "", False,
                 True, "+12015550100", "", "2019-01-07"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ProductSpec:
    code: str
    title: str
    product_type: str
    price: str
    #: Space-separated option tokens; each becomes the SKU ``{code}-{token}``.
    variants: str


PRODUCTS: tuple[ProductSpec, ...] = (
    ProductSpec("TEE-ORG", "Organic Cotton Tee", "T-Shirts", "28.00", "BLK-S BLK-M BLK-L WHT-M"),
    ProductSpec("TEE-PKT", "Pocket Tee", "T-Shirts", "32.00", "NVY-M NVY-L OAT-M OAT-L"),
    ProductSpec("TEE-LSV", "Long Sleeve Tee", "T-Shirts", "38.00", "CHR-M CHR-L CRM-M"),
    ProductSpec("TEE-SLB", "Slub Linen Tee", "T-Shirts", "42.00", "SGE-S SGE-M SGE-L"),
    ProductSpec("TNK-RIB", "Ribbed Tank", "T-Shirts", "24.00", "BLK-S WHT-S WHT-M"),
    ProductSpec("SWT-CRW", "Fleece Crewneck", "Sweatshirts", "68.00", "GRY-M GRY-L NVY-M NVY-XL"),
    ProductSpec("SWT-HOD", "Heavyweight Hoodie", "Sweatshirts", "88.00", "BLK-M BLK-L OLV-L"),
    ProductSpec("SWT-ZIP", "Half-Zip Pullover", "Sweatshirts", "84.00", "OAT-M RST-M"),
    ProductSpec("KNT-MER", "Merino Crew Sweater", "Knitwear", "118.00",
                "CHR-S CHR-M CRM-M CRM-L"),
    ProductSpec("KNT-CRD", "Chunky Cardigan", "Knitwear", "148.00", "OAT-M OAT-L"),
    ProductSpec("JKT-CHR", "Chore Coat", "Outerwear", "168.00", "IND-M IND-L TAN-L"),
    ProductSpec("JKT-PUF", "Recycled Puffer", "Outerwear", "198.00", "BLK-M BLK-L OLV-M"),
    ProductSpec("JKT-RAN", "Packable Rain Shell", "Outerwear", "128.00", "NVY-M SGE-M"),
    ProductSpec("VST-FLC", "Fleece Vest", "Outerwear", "78.00", "GRY-M"),
    ProductSpec("PNT-CHN", "Stretch Chino", "Pants", "78.00", "TAN-30 TAN-32 NVY-32 NVY-34"),
    ProductSpec("PNT-DEN", "Straight Selvedge Denim", "Pants", "128.00", "IND-30 IND-32 IND-34"),
    ProductSpec("PNT-LNG", "Easy Lounge Pant", "Pants", "58.00", "CHR-M OAT-M"),
    ProductSpec("SHT-OXF", "Oxford Shirt", "Shirts", "72.00", "BLU-M BLU-L WHT-M WHT-L"),
    ProductSpec("SHT-FLN", "Brushed Flannel Shirt", "Shirts", "76.00", "RST-M RST-L"),
    ProductSpec("SHT-LIN", "Linen Camp Shirt", "Shirts", "82.00", "SGE-M NAT-M"),
    ProductSpec("HAT-BNE", "Ribbed Beanie", "Accessories", "28.00", "BLK RST OAT"),
    ProductSpec("HAT-CAP", "Canvas Ball Cap", "Accessories", "32.00", "NVY TAN"),
    ProductSpec("SCF-WOL", "Lambswool Scarf", "Accessories", "58.00", "CHR TRC"),
    ProductSpec("GLV-KNT", "Touchscreen Knit Gloves", "Accessories", "34.00", "BLK-SM BLK-ML"),
    ProductSpec("SOC-CRW", "Everyday Crew Socks 3-Pack", "Socks", "22.00", "MIX-M MIX-L"),
    ProductSpec("SOC-WOL", "Wool Hiking Socks", "Socks", "18.00", "GRY-M OLV-M"),
    ProductSpec("TOT-CNV", "Canvas Tote", "Bags", "36.00", "NAT BLK"),
    ProductSpec("BAG-DUF", "Waxed Canvas Duffle", "Bags", "168.00", "OLV"),
    ProductSpec("BAG-SLG", "Nylon Sling Bag", "Bags", "54.00", "BLK SGE"),
    ProductSpec("HOM-THR", "Wool Throw Blanket", "Home", "128.00", "OAT CHR"),
    ProductSpec("HOM-PIL", "Linen Pillow Cover", "Home", "48.00", "SGE NAT RST"),
    ProductSpec("HOM-TWL", "Waffle Bath Towel", "Home", "38.00", "WHT SGE"),
    ProductSpec("HOM-RUG", "Jute Runner Rug", "Home", "98.00", "NAT"),
    ProductSpec("HOM-PLN", "Terracotta Planter", "Home", "34.00", "TRC-6IN TRC-10IN"),
    ProductSpec("CND-SOY", "Soy Candle", "Candles", "32.00", "FIG CED SEA"),
    ProductSpec("CND-TRV", "Travel Tin Candle", "Candles", "16.00", "FIG CED"),
    ProductSpec("DIF-REE", "Reed Diffuser", "Candles", "44.00", "CED"),
    ProductSpec("KIT-MUG", "Stoneware Mug", "Kitchen", "24.00", "STN CRM"),
    ProductSpec("KIT-TEA", "Linen Tea Towel Set", "Kitchen", "26.00", "NAT"),
    ProductSpec("KIT-BRD", "Olivewood Serving Board", "Kitchen", "58.00", "NAT"),
)  # fmt: skip

OPTION_LABELS: dict[str, str] = {
    "BLK": "Black", "WHT": "White", "NVY": "Navy", "OAT": "Oatmeal", "OLV": "Olive",
    "GRY": "Heather Grey", "RST": "Rust", "SGE": "Sage", "CRM": "Cream", "CHR": "Charcoal",
    "IND": "Indigo", "TAN": "Tan", "NAT": "Natural", "TRC": "Terracotta", "STN": "Stone",
    "BLU": "Light Blue", "MIX": "Assorted", "FIG": "Fig & Cassis", "CED": "Cedar & Smoke",
    "SEA": "Sea Salt", "S": "S", "M": "M", "L": "L", "XL": "XL", "30": "30", "32": "32",
    "34": "34", "SM": "S/M", "ML": "M/L", "6IN": '6"', "10IN": '10"',
}  # fmt: skip

#: Relative popularity (online, in store) of a product type. What sells where differs on
#: purpose, so "what sells in store vs online" analytics has something to find.
CHANNEL_WEIGHTS: dict[str, tuple[int, int]] = {
    "T-Shirts": (10, 6),
    "Sweatshirts": (8, 5),
    "Knitwear": (5, 4),
    "Outerwear": (4, 3),
    "Pants": (6, 4),
    "Shirts": (5, 3),
    "Accessories": (4, 8),
    "Socks": (5, 7),
    "Bags": (3, 5),
    "Home": (3, 7),
    "Candles": (2, 9),
    "Kitchen": (2, 7),
}


#: Local part of each location's email (``brooklyn@fernhill.example``). Cashiers type the
#: store's own address for customers who will not give theirs, so it is a placeholder too.
EMAIL_LOCAL: dict[str, str] = {
    "BKN": "brooklyn",
    "SOH": "soho",
    "BOS": "backbay",
    "PHL": "rittenhouse",
    "CHI": "wickerpark",
    "DCA": "georgetown",
    "WHS": "fulfillment",
}


def option_names(spec: ProductSpec) -> tuple[str, ...]:
    """Shopify-style option names for a product, inferred from its type and token count."""
    tokens = spec.variants.split()[0].split("-")
    first = "Scent" if spec.product_type == "Candles" else "Color"
    if len(tokens) == 1:
        return (first,)
    return (first, "Waist" if spec.product_type == "Pants" else "Size")
