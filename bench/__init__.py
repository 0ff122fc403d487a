"""The benchmark (`make bench`): seeding, load scenarios and baselines. Never part of the tests."""
