"""Plain functions of the domain, used by the web app, the CLI and the workers.

They take what they need (a member, a bulletin id, an actor) and never touch Flask's
request objects.
"""
