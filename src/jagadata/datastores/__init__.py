"""The organisation's own databases: recognising personal data in them (`detect`); mapping,
planning and executing requests across them arrive with the datastore engine."""
