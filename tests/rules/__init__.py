"""Tests of the pure rules core: legal cases as data, properties and sources."""
