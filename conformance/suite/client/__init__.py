"""The client suite: the toolkit plays the server and judges a client through its adapter.

python -m pytest --pyargs conformance.suite.client --ecs-client reference
"""
