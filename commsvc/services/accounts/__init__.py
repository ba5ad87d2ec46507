"""The accounts wing: who may act, and what they did.

actors (an account reduced to its role and regions; scoping), auth (passwords, API
keys, sessions), management (the admin's account pages, password resets), audit.
"""
