"""Clients the toolkit ships: the reference client, adapters for the official SDKs, and the
faulty variants of the reference that the client suite must catch.

* `conformance.client.reference`: `ReferenceClient` (httpx; V2 or V3; GET or POST);
* `conformance.client.official`: aliyun-python-sdk-ecs and alibabacloud-ecs20140526 adapters;
* `conformance.client.node`: the command adapter for the Node.js SDK @alicloud/ecs20140526;
* `conformance.client.faulty`: `FAULTY`, named faulty variants and the requirements they break.

Adapters are chosen by name through `conformance.targets.adapters.load_adapter`.
"""

from __future__ import annotations

__all__: list[str] = []
