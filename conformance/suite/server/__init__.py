"""The server suite: thin pytest modules that judge a RebootInstance server against the spec.

Run it with `pytest --pyargs conformance.suite.server --ecs-target embedded|URL`.
"""
