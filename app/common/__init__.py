"""Building blocks shared by every resource: API, schemas, money, paging, auth."""
