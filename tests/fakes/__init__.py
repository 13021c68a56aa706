"""Loopback stand-ins for the third-party services the project talks to.

Each is a real HTTP server on 127.0.0.1 in a thread of the test process, speaking the
service's wire format, so the project's real client code (the twilio library, urllib)
runs unchanged against it: only the address is different.
"""
