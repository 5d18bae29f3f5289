"""Domain and request objects, validated once and used by the checks, the lifecycle and the store:
proposal requests (``proposal``), contracts and their events (``contract``), parks, parcels and
plans (``parks``)."""
