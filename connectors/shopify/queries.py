"""Every GraphQL document the connector sends, in one place.

Keeping them as constants (no string building) means the contract tests can validate each one
against Shopify's official SDL and the sandbox's trimmed SDL, and the client can cost them. Page
sizes and nested list sizes are variables, so the connector can size a call to stay under the
1,000-point single-query limit without changing the document.

Only current fields are used: ``defaultEmailAddress``/``defaultPhoneNumber`` rather than the
deprecated ``email``/``phone``/``emailMarketingConsent``/``smsMarketingConsent`` of 2026-01.
"""

from __future__ import annotations

CUSTOMER_FIELDS = """
fragment CustomerFields on Customer {
  id
  firstName
  lastName
  note
  createdAt
  updatedAt
  defaultEmailAddress {
    emailAddress
    marketingState
    marketingOptInLevel
    marketingUpdatedAt
  }
  defaultPhoneNumber {
    phoneNumber
    marketingState
    marketingOptInLevel
    marketingUpdatedAt
    marketingCollectedFrom
  }
  defaultAddress {
    address1
    address2
    city
    provinceCode
    zip
    countryCodeV2
  }
}
"""

LINE_ITEM_FIELDS = """
fragment LineItemFields on LineItem {
  sku
  name
  quantity
  currentQuantity
  originalUnitPriceSet {
    shopMoney {
      amount
      currencyCode
    }
  }
}
"""

ORDER_FIELDS = (
    """
fragment OrderFields on Order {
  id
  name
  createdAt
  updatedAt
  processedAt
  cancelledAt
  displayFinancialStatus
  sourceName
  email
  phone
  currencyCode
  discountCodes
  customer {
    id
  }
  retailLocation {
    id
  }
  totalPriceSet {
    shopMoney {
      amount
      currencyCode
    }
  }
  totalRefundedSet {
    shopMoney {
      amount
      currencyCode
    }
  }
  lineItems(first: $lineItems) {
    nodes {
      ...LineItemFields
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
"""
    + LINE_ITEM_FIELDS
)

CUSTOMERS_BY_IDS = (
    """
query CustomersByIds($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on Customer {
      ...CustomerFields
    }
  }
}
"""
    + CUSTOMER_FIELDS
)

CUSTOMER_BY_IDENTIFIER = (
    """
query CustomerByIdentifier($identifier: CustomerIdentifierInput!) {
  customerByIdentifier(identifier: $identifier) {
    ...CustomerFields
  }
}
"""
    + CUSTOMER_FIELDS
)

SEARCH_CUSTOMERS = (
    """
query SearchCustomers($query: String!, $first: Int!, $after: String) {
  customers(first: $first, after: $after, query: $query) {
    nodes {
      ...CustomerFields
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
"""
    + CUSTOMER_FIELDS
)

CUSTOMERS_BY_UPDATE = (
    """
query CustomersByUpdate($query: String, $first: Int!, $after: String) {
  customers(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes {
      ...CustomerFields
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
"""
    + CUSTOMER_FIELDS
)

SEARCH_ORDERS = (
    """
query SearchOrders($query: String!, $first: Int!, $after: String, $lineItems: Int!) {
  orders(first: $first, after: $after, query: $query, sortKey: CREATED_AT) {
    nodes {
      ...OrderFields
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
"""
    + ORDER_FIELDS
)

CUSTOMER_BUNDLE = (
    """
query CustomerBundle(
  $ids: [ID!]!
  $ordersQuery: String!
  $ordersFirst: Int!
  $guestQuery: String!
  $guestFirst: Int!
  $lineItems: Int!
) {
  customers: nodes(ids: $ids) {
    ... on Customer {
      ...CustomerFields
    }
  }
  orders: orders(first: $ordersFirst, query: $ordersQuery, sortKey: CREATED_AT) {
    nodes {
      ...OrderFields
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
  guestOrders: orders(first: $guestFirst, query: $guestQuery, sortKey: CREATED_AT) {
    nodes {
      ...OrderFields
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
"""
    + CUSTOMER_FIELDS
    + ORDER_FIELDS
)
"""A few customers, their orders and the orders placed with their emails, in one request:
the first page of what ``CustomersByIds`` and two ``SearchOrders`` would fetch (a cold
360's Shopify reads). Later pages continue with ``SearchOrders`` from the end cursors."""

ORDERS_BY_IDS = (
    """
query OrdersByIds($ids: [ID!]!, $lineItems: Int!) {
  nodes(ids: $ids) {
    ... on Order {
      ...OrderFields
    }
  }
}
"""
    + ORDER_FIELDS
)

ORDER_LINE_ITEMS = (
    """
query OrderLineItems($id: ID!, $first: Int!, $after: String) {
  order(id: $id) {
    id
    lineItems(first: $first, after: $after) {
      nodes {
        ...LineItemFields
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
}
"""
    + LINE_ITEM_FIELDS
)

LOCATIONS = """
query Locations($first: Int!, $after: String) {
  locations(first: $first, after: $after, includeInactive: true) {
    nodes {
      id
      name
      isActive
      fulfillsOnlineOrders
      address {
        address1
        address2
        city
        provinceCode
        zip
        countryCode
        latitude
        longitude
        phone
      }
      localPickupSettingsV2 {
        pickupTime
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
"""

INVENTORY_LEVEL_FIELDS = """
fragment InventoryLevelFields on InventoryLevel {
  updatedAt
  location {
    id
  }
  quantities(names: $names) {
    name
    quantity
  }
}
"""

INVENTORY_BY_SKU = (
    """
query InventoryBySku(
  $query: String!
  $first: Int!
  $after: String
  $levels: Int!
  $names: [String!]!
) {
  inventoryItems(first: $first, after: $after, query: $query) {
    nodes {
      id
      sku
      inventoryLevels(first: $levels) {
        nodes {
          ...InventoryLevelFields
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
"""
    + INVENTORY_LEVEL_FIELDS
)

INVENTORY_ITEM_LEVELS = (
    """
query InventoryItemLevels($id: ID!, $first: Int!, $after: String, $names: [String!]!) {
  inventoryItem(id: $id) {
    id
    sku
    inventoryLevels(first: $first, after: $after) {
      nodes {
        ...InventoryLevelFields
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
}
"""
    + INVENTORY_LEVEL_FIELDS
)

INVENTORY_LEVELS_ALL = (
    """
query InventoryLevelsAll($first: Int!, $after: String, $levels: Int!, $names: [String!]!) {
  inventoryItems(first: $first, after: $after) {
    nodes {
      id
      sku
      inventoryLevels(first: $levels) {
        nodes {
          ...InventoryLevelFields
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
"""
    + INVENTORY_LEVEL_FIELDS
)

INVENTORY_ITEM_SKUS = """
query InventoryItemSkus($first: Int!, $after: String) {
  inventoryItems(first: $first, after: $after) {
    nodes {
      id
      sku
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
"""

CATALOG_VARIANTS = """
query CatalogVariants($first: Int!, $after: String) {
  shop {
    currencyCode
  }
  productVariants(first: $first, after: $after, sortKey: ID) {
    nodes {
      id
      sku
      displayName
      price
      updatedAt
      inventoryItem {
        id
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
"""

#: Operation name -> document, for the contract tests and the sandbox's own checks.
DOCUMENTS: dict[str, str] = {
    "CustomersByIds": CUSTOMERS_BY_IDS,
    "CustomerByIdentifier": CUSTOMER_BY_IDENTIFIER,
    "SearchCustomers": SEARCH_CUSTOMERS,
    "CustomersByUpdate": CUSTOMERS_BY_UPDATE,
    "SearchOrders": SEARCH_ORDERS,
    "CustomerBundle": CUSTOMER_BUNDLE,
    "OrdersByIds": ORDERS_BY_IDS,
    "OrderLineItems": ORDER_LINE_ITEMS,
    "Locations": LOCATIONS,
    "InventoryBySku": INVENTORY_BY_SKU,
    "InventoryItemLevels": INVENTORY_ITEM_LEVELS,
    "InventoryItemSkus": INVENTORY_ITEM_SKUS,
    "InventoryLevelsAll": INVENTORY_LEVELS_ALL,
    "CatalogVariants": CATALOG_VARIANTS,
}
