#!/usr/bin/env node
// Client adapter for @alicloud/ecs20140526 (docs/contracts.md#client-adapters): reads one
// RebootCall as JSON on stdin, makes the call with the official Node SDK, prints one Outcome as
// JSON on stdout. When the suite offers the persistent protocol (ECS_CONFORMANCE_PERSISTENT
// names version 1; docs/contracts.md#persistent-commands) it prints the hello line, then
// answers one call per line until stdin closes, so that Node and the SDK load once per run.
// Errors surface as ClientError / ServerError / ThrottlingError (docs/protocol.md#official-sdks):
// .code, .data.Message, .requestId (or data.RequestId), .statusCode. Retries are off; the
// call's timeout hint (timeout_s, seconds) becomes the read/connect timeouts, and without one
// the SDK keeps its defaults (3 s, httpx's TIMEOUT).
'use strict';

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

function nonEmpty(value) {
  return value === undefined || value === null || value === '' || value === 'undefined'
    ? null : String(value);
}

function errorOutcome(err) {
  const data = err && typeof err.data === 'object' && err.data !== null ? err.data : {};
  const code = nonEmpty(err.code) || nonEmpty(data.Code);
  const status = Number.isInteger(err.statusCode) ? err.statusCode
    : (Number.isInteger(data.statusCode) ? data.statusCode : null);
  if (!code || !('Code' in data || 'code' in data)) {
    return { ok: false, code: null, message: String(err.message || err), request_id: null,
             http_status: status };
  }
  return {
    ok: false,
    code,
    message: typeof data.Message === 'string' ? data.Message : null,
    request_id: nonEmpty(data.RequestId) || nonEmpty(err.requestId),
    http_status: status,
  };
}

const HELLO = { ecs_conformance: 'persistent', version: 1 };

let sdk = null;
function loadSdk() {
  if (sdk === null) {
    sdk = {
      Ecs: require('@alicloud/ecs20140526'),
      OpenApi: require('@alicloud/openapi-core'),
      $dara: require('@darabonba/typescript'),
    };
  }
  return sdk;
}

async function makeCall(call) {
  const timeouts = typeof call.timeout_s === 'number'
    ? { readTimeout: Math.max(1, Math.round(call.timeout_s * 1000)),
        connectTimeout: Math.max(1, Math.round(call.timeout_s * 1000)) }
    : {};
  const { Ecs, OpenApi, $dara } = loadSdk();
  const Client = Ecs.default;
  const config = new OpenApi.$OpenApiUtil.Config({
    accessKeyId: call.access_key_id,
    accessKeySecret: call.access_key_secret,
    regionId: call.region_id,
    endpoint: call.endpoint,
    protocol: call.protocol,
    ...timeouts,
  });
  const client = new Client(config);
  const fields = { instanceId: call.instance_id };
  if (call.force_stop !== null && call.force_stop !== undefined) fields.forceStop = call.force_stop;
  if (call.dry_run !== null && call.dry_run !== undefined) fields.dryRun = call.dry_run;
  const request = new Ecs.RebootInstanceRequest(fields);
  const runtime = new $dara.RuntimeOptions({
    autoretry: false, maxAttempts: 0, ...timeouts,
  });
  try {
    const response = await client.rebootInstanceWithOptions(request, runtime);
    const requestId = response && response.body ? nonEmpty(response.body.requestId) : null;
    return requestId ? { ok: true, request_id: requestId }
      : { ok: false, code: null, message: 'the success response has no RequestId',
          request_id: null, http_status: response ? response.statusCode : null };
  } catch (err) {
    return errorOutcome(err);
  }
}

function offered() {
  const versions = (process.env.ECS_CONFORMANCE_PERSISTENT || '').split(',');
  return versions.includes(String(HELLO.version));
}

async function persistent() {
  process.stdout.write(JSON.stringify(HELLO) + '\n');
  const lines = require('readline').createInterface({ input: process.stdin, crlfDelay: Infinity });
  // One call at a time, in order: the suite sends the next line only after this answer.
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const outcome = await makeCall(JSON.parse(line));
    process.stdout.write(JSON.stringify(outcome) + '\n');
  }
}

async function main() {
  if (offered()) {
    await persistent();
    return;
  }
  const outcome = await makeCall(JSON.parse(await readStdin()));
  process.stdout.write(JSON.stringify(outcome) + '\n');
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
  process.exit(1);
});
