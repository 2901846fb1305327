"""The client side, in one room: the adapter contract, the ways to run an adapter, the registry
of shipped adapters, and the clients the toolkit ships.

* `contract`: `RebootCall`, `Outcome`, `ClientAdapter`, `ClientFailure`
  (docs/contracts.md#client-adapters);
* `adapters`: `CallableAdapter` (a Python callable) and `CommandAdapter` (`--command 'CMD'`);
* `registry`: one `AdapterEntry` per shipped adapter, `load_adapter` (name, `module:attr` or
  command);
* `reference`: `ReferenceClient` (httpx; V2 or V3; GET or POST);
* `official`: the aliyun-python-sdk-ecs and alibabacloud-ecs20140526 adapters;
* `node`: the command adapter for the Node.js SDK @alicloud/ecs20140526;
* `faulty`: `FAULTY`, named faulty variants of the reference and the requirements they break.

The contract types are exported from `conformance` too (`from conformance import RebootCall`).
"""

from __future__ import annotations

__all__: list[str] = []
