"""The logic behind the fields: identity resolution, profiles, stock, holds, loyalty."""
