/**
 * The saved queries (infra/queries/*.kql): each parses and passes semantic analysis with
 * Microsoft's own KQL parser against tables that hold only the columns the app and the host write,
 * reads only fields a refusal record or the host's rows hold, and finds what it should in the rows
 * the built-in host writes for real requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  REFUSAL_RECORD_FIELDS,
  RequestRow,
  TraceRow,
  hostStartedRow,
  requestRow,
  traceRow,
} from '../../scripts/local/host/telemetry';
import { JwksServer, startJwksServer } from '../support/jwks-server';
import {
  createTestKey,
  OTHER_OID,
  sign,
  TestKey,
  v2AppSettings,
  v2Claims,
} from '../support/tokens';
import { analyze, evaluate, memberReads, schemaOf, type Row, type Tables } from './kusto';
import { CapturedHost, query, queryFiles, startCapturedHost } from './local-stack';

/** One row of each kind the host writes: the columns and properties the queries may read. */
function sampleTables(): Tables {
  const invocation = { functionName: 'hello', invocationId: 'i', operationId: 'o' };
  return {
    AppTraces: [{ ...traceRow('warning', 'm', invocation) }, { ...hostStartedRow(1) }],
    AppRequests: [
      {
        ...requestRow({
          ...invocation,
          startedAt: new Date(),
          parentId: 'p',
          url: 'http://x/',
          status: 200,
          durationMs: 1,
        }),
      },
    ],
  };
}

const PROPERTIES = [
  ...new Set(
    Object.values(sampleTables()).flatMap((rows) =>
      rows.flatMap((row) => Object.keys(row.Properties as object)),
    ),
  ),
];

/** What a query reads that neither the record nor the host's rows hold. */
function unknownReads(text: string): string[] {
  const reads = memberReads(text);
  const unknown: string[] = [];
  for (const [root, members] of Object.entries(reads)) {
    const known =
      root === 'Properties' ? PROPERTIES : root === 'record' ? REFUSAL_RECORD_FIELDS : [];
    for (const member of members) if (!known.includes(member)) unknown.push(`${root}.${member}`);
  }
  return unknown;
}

describe('every query file', () => {
  const files = queryFiles();
  const schema = schemaOf(sampleTables());

  it('exists for each saved query and the alert', () => {
    expect(Object.keys(files).sort()).toEqual([
      'calls-without-api-management',
      'first-refusal-after-deployment',
      'latest-refusal-end-to-end',
      'refusal-alert',
      'refusals-by-reason',
      'signing-keys-unavailable',
    ]);
  });

  it.each(Object.keys(files))('%s parses and reads only columns the host writes', (name) => {
    expect(analyze(files[name]!, schema)).toEqual([]);
  });

  it.each(Object.keys(files))('%s reads only fields the app writes', (name) => {
    const reads = memberReads(files[name]!);
    expect(Object.keys(reads).every((root) => root === 'record' || root === 'Properties')).toBe(
      true,
    );
    expect(unknownReads(files[name]!)).toEqual([]);
  });

  it('the checks catch a column, a record field and a property nobody writes', () => {
    const wrong =
      "AppTraces | where Mesage != '' | extend record = parse_json(Message) | where record.token != '' or Properties.Secret != ''";
    expect(analyze(wrong, schema)).toEqual([
      expect.objectContaining({ text: 'Mesage', severity: 'Error' }),
    ]);
    expect(unknownReads(wrong).sort()).toEqual(['Properties.Secret', 'record.token']);
  });
});

describe('the queries over what the local host writes', () => {
  let jwks: JwksServer;
  let key: TestKey;
  let stack: CapturedHost;

  beforeAll(async () => {
    key = createTestKey();
    jwks = await startJwksServer({ kind: 'keys', keys: [key.jwk] });
    Object.assign(process.env, v2AppSettings(jwks.url));
    stack = await startCapturedHost();
  });
  afterAll(async () => {
    await stack?.host.close();
    await jwks?.close();
  });

  const token = (overrides: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return `Bearer ${sign(v2Claims({ iat: now - 60, nbf: now - 60, exp: now + 3600, ...overrides }), key)}`;
  };

  it('refusals by reason, first refusal, calls without the gateway, and the alert', async () => {
    expect(await stack.call('/api/hello')).toBe(401);
    expect(await stack.call('/api/hello', { authorization: 'Bearer x.y.z' })).toBe(401);
    expect(await stack.call('/api/hello', { authorization: token({ oid: OTHER_OID }) })).toBe(403);
    expect(await stack.call('/api/hello', { authorization: token({ roles: [] }) })).toBe(403);
    expect(await stack.call('/api/hello', { authorization: token() })).toBe(200);
    // A call through the gateway: API Management sends a traceparent and logs its own request.
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const traceparent = `00-${traceId}-00f067aa0ba902b7-01`;
    expect(await stack.call('/api/hello', { authorization: token(), traceparent })).toBe(200);
    const gatewayRow: Row = { ...stack.rows.find((r) => r.Type === 'AppRequests')! };
    Object.assign(gatewayRow, { OperationId: traceId, Properties: {}, AppRoleName: 'apim' });

    const tables = stack.tables({ AppRequests: [gatewayRow] });
    const byReason = evaluate(query('refusals-by-reason'), tables).map(
      ({ Code, Status, Refusals }) => ({
        Code,
        Status,
        Refusals,
      }),
    );
    expect(byReason).toEqual([
      { Code: 'caller_not_allowed', Status: 403, Refusals: 1 },
      { Code: 'malformed_token', Status: 401, Refusals: 1 },
      { Code: 'missing_role', Status: 403, Refusals: 1 },
      { Code: 'missing_token', Status: 401, Refusals: 1 },
    ]);

    const started = stack.rows.find((r) => r.Properties.EventName === 'ScriptHostStarted')!;
    expect(evaluate(query('first-refusal-after-deployment'), tables)).toEqual([
      expect.objectContaining({
        Code: 'missing_token',
        Status: 401,
        TokenVersion: '',
        CallerObjectId: '',
        HostStartedAt: started.TimeGenerated,
      }),
    ]);
    const forbidden = evaluate(
      query('first-refusal-after-deployment').replace(
        '\'{"event":"auth_refusal"\'',
        '\'{"event":"auth_refusal","code":"caller\'',
      ),
      tables,
    );
    expect(forbidden).toEqual([
      expect.objectContaining({ TokenVersion: '2.0', CallerObjectId: OTHER_OID, Claim: 'oid' }),
    ]);

    const direct = evaluate(query('calls-without-api-management'), tables);
    expect(direct).toHaveLength(5);
    expect(direct.map((r) => r.OperationId)).not.toContain(traceId);
    expect(evaluate(query('calls-without-api-management'), stack.tables())).toHaveLength(6);

    // The latest refusal so far (missing_role), end to end. Then a refusal through the gateway.
    const latest = evaluate(query('latest-refusal-end-to-end'), tables);
    expect(latest.map((r) => r.Type)).toEqual(['AppRequests', 'AppTraces', 'AppTraces']);
    expect(latest[2]!.Message).toMatch(/"code":"missing_role"/);
    const refusedTrace = 'abcdef0123456789abcdef0123456789';
    const refused = { traceparent: `00-${refusedTrace}-00f067aa0ba902b7-01` };
    expect(await stack.call('/api/hello', refused)).toBe(401);
    const functionRequest = stack.rows.findLast((r) => r.Type === 'AppRequests')!;
    const gatewayRefused: Row = {
      ...gatewayRow,
      OperationId: refusedTrace,
      ResultCode: '401',
      // API Management's request starts before the one it forwards.
      TimeGenerated: new Date(functionRequest.TimeGenerated.getTime() - 5),
    };
    const endToEnd = evaluate(
      query('latest-refusal-end-to-end'),
      stack.tables({ AppRequests: [gatewayRow, gatewayRefused] }),
    );
    expect(endToEnd.map((r) => [r.Type, r.AppRoleName])).toEqual([
      ['AppRequests', 'apim'],
      ['AppRequests', 'local'],
      ['AppTraces', 'local'],
      ['AppTraces', 'local'],
    ]);
    expect(endToEnd[3]!.Message).toMatch(/^\{"event":"auth_refusal","code":"missing_token"/);
    expect(new Set(endToEnd.map((r) => r.OperationId))).toEqual(new Set([refusedTrace]));

    expect(evaluate(query('signing-keys-unavailable'), tables)).toEqual([]);
    expect(evaluate(query('refusal-alert'), tables)).toEqual([]);
    for (let i = 0; i < 15; i += 1) await stack.call('/api/hello');
    expect(evaluate(query('refusal-alert'), stack.tables())).toEqual([
      { Refusals: 20, SigningKeysUnavailable: 0 },
    ]);
  });

  it('each refusal record is the message of a trace of its invocation, in its operation', () => {
    const records = stack.rows.filter(
      (r): r is TraceRow =>
        r.Type === 'AppTraces' && r.Message.startsWith('{"event":"auth_refusal"'),
    );
    expect(records.length).toBeGreaterThan(0);
    for (const row of records) {
      const record = JSON.parse(row.Message) as Record<string, unknown>;
      expect(row.Properties.InvocationId).toBe(record.invocationId);
      const request = stack.rows.find(
        (r): r is RequestRow =>
          r.Type === 'AppRequests' && r.Properties.InvocationId === record.invocationId,
      );
      expect(request?.OperationId).toBe(row.OperationId);
      expect(request?.ResultCode).toBe(String(record.status));
    }
  });
});
