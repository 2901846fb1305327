// Calls the official Node SDK (@alicloud/ecs20140526) as a plan says and prints one JSON result.
//
// Usage: node sdk_calls.js '<plan JSON>'
// plan: {"endpoint": "127.0.0.1:PORT", "accessKeyId": "...", "accessKeySecret": "...",
//        "calls": [{"name": "...", "action": "RebootInstance" | "DescribeInstances",
//                   "instanceId": "i-1", "forceStop": true, "dryRun": false,
//                   "signatureAlgorithm": "v2" (optional)}]}
// Output: {"node": "<version>", "results": {"<name>": {"ok": true, "body": {...}} |
//          {"ok": false, "error": {"name", "code", "message", "dataMessage", "requestId",
//                                  "dataRequestId", "statusCode"}}}}
// NODE_PATH points at the cached node_modules (the test installs the SDK there once).
'use strict';

const Ecs = require('@alicloud/ecs20140526');
const OpenApi = require('@alicloud/openapi-client');

const Client = Ecs.default || Ecs;

function clientFor(plan, signatureAlgorithm) {
  const config = new OpenApi.Config({
    accessKeyId: plan.accessKeyId,
    accessKeySecret: plan.accessKeySecret,
    regionId: 'cn-hangzhou',
    endpoint: plan.endpoint,
    protocol: 'http',
    readTimeout: 5000,
    connectTimeout: 5000,
  });
  if (signatureAlgorithm) {
    config.signatureAlgorithm = signatureAlgorithm;
  }
  return new Client(config);
}

function describeError(err) {
  const data = err.data || {};
  return {
    name: err.name,
    code: err.code,
    message: err.message,
    dataMessage: data.Message,
    requestId: err.requestId,
    dataRequestId: data.RequestId,
    statusCode: err.statusCode !== undefined ? err.statusCode : data.statusCode,
  };
}

async function call(plan, spec) {
  const client = clientFor(plan, spec.signatureAlgorithm);
  if (spec.action === 'DescribeInstances') {
    const request = new Ecs.DescribeInstancesRequest({
      regionId: 'cn-hangzhou',
      instanceIds: JSON.stringify([spec.instanceId]),
    });
    const response = await client.describeInstances(request);
    return response.body.toMap();
  }
  const request = new Ecs.RebootInstanceRequest({
    instanceId: spec.instanceId,
    forceStop: spec.forceStop,
    dryRun: spec.dryRun,
  });
  const response = await client.rebootInstance(request);
  return response.body.toMap();
}

async function main() {
  const plan = JSON.parse(process.argv[2]);
  const results = {};
  for (const spec of plan.calls) {
    try {
      results[spec.name] = { ok: true, body: await call(plan, spec) };
    } catch (err) {
      results[spec.name] = { ok: false, error: describeError(err) };
    }
  }
  process.stdout.write(JSON.stringify({ node: process.version, results }) + '\n');
}

main().catch((err) => {
  process.stderr.write(String((err && err.stack) || err) + '\n');
  process.exit(1);
});
