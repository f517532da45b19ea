"""The operation the report runs: every figure it draws, in one request."""

REPORT_QUERY = """
query OmnigateReport($from: DateTime, $to: DateTime, $locationIds: [ID!]) {
  analytics(from: $from, to: $to, locationIds: $locationIds) {
    from
    to
    locationIds
    customers { count multiSourceShare bothChannelsShare }
    customerClasses {
      omnichannel { ...Class }
      onlineOnly { ...Class }
      inStoreOnly { ...Class }
    }
    channelMonths { month buyers crossChannelShare storeToOnline onlineToStore }
    loyalty {
      earnedByChannel { channel points }
      redeemedByChannel { channel points }
      redeemedPoints
      crossChannelPoints
      crossChannelShare
    }
    pickup {
      locationId holds units completed expired released active unitsPickedUp
      conversionRate expiryRate
    }
    stock(first: 10) {
      locationId sku unitsSold unitsReceived availableAtStart sellThrough outOfStockHours
    }
  }
}

fragment Class on CustomerClass {
  count
  revenue { mean median }
  orders { mean }
  averageOrderValue { mean }
}
"""
