"""Stock: the view of every SKU at every unified location that the gateway keeps current,
pickup holds against it, and the changes pushed to subscribers."""
