"""`make bench`: the real bot against a fake Bot API and a private Redis, beside its peers."""
