"""The domain, pure: scopes, connector profiles, history planning, organization scoping.

Standard library only: no I/O, no clock, no AWS or database library. Every rule about what a
listing means for the inventory lives here, where it can be tested without a network.
"""
