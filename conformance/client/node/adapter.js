#!/usr/bin/env node
// Client adapter for @alicloud/ecs20140526 (docs/contracts.md#client-adapters): reads one
// RebootCall as JSON on stdin, makes the call with the official Node SDK, prints one Outcome as
// JSON on stdout.
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

async function main() {
  const call = JSON.parse(await readStdin());
  const timeouts = typeof call.timeout_s === 'number'
    ? { readTimeout: Math.max(1, Math.round(call.timeout_s * 1000)),
        connectTimeout: Math.max(1, Math.round(call.timeout_s * 1000)) }
    : {};
  const Ecs = require('@alicloud/ecs20140526');
  const OpenApi = require('@alicloud/openapi-core');
  const $dara = require('@darabonba/typescript');
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
  let outcome;
  try {
    const response = await client.rebootInstanceWithOptions(request, runtime);
    const requestId = response && response.body ? nonEmpty(response.body.requestId) : null;
    outcome = requestId ? { ok: true, request_id: requestId }
      : { ok: false, code: null, message: 'the success response has no RequestId',
          request_id: null, http_status: response ? response.statusCode : null };
  } catch (err) {
    outcome = errorOutcome(err);
  }
  process.stdout.write(JSON.stringify(outcome) + '\n');
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
  process.exit(1);
});
