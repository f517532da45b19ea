"""Customer 360: the unified profile, how it is built from every source, cached and served."""
