/**
 * What the built-in host would send to Application Insights, as rows of the Log Analytics tables
 * the queries in infra/queries/ read (AppTraces, AppRequests). The Functions host writes:
 *
 * - each log line of a function as an AppTraces row: the line is the `Message`, nothing else of
 *   it is kept (the Node.js worker sends a message only), `Properties` hold `Category`
 *   (`Function.<name>.User`), `LogLevel` and `InvocationId`, and `OperationId`/`OperationName`
 *   are the invocation's trace id and function name (azure-functions-host
 *   src/WebJobs.Script.Grpc/Channel/GrpcWorkerChannel.cs `Log`; azure-webjobs-sdk
 *   src/Microsoft.Azure.WebJobs.Logging.ApplicationInsights/ApplicationInsightsLogger.cs `LogTrace`,
 *   `ApplyScopeProperties`, `ApplyKnownProperties`);
 * - each invocation of an HTTP trigger as an AppRequests row whose `Properties` carry its
 *   `InvocationId` (`ApplyFunctionResultActivityTags`), with the trace id of the incoming W3C
 *   `traceparent` as `OperationId` when the caller sent one (API Management does);
 * - "Host started (<n>ms)" when the host starts, with `EventName` `ScriptHostStarted`
 *   (azure-functions-host src/WebJobs.Script/Diagnostics/Extensions/LoggerExtension.cs).
 *
 * Not emulated: sampling (`ItemCount` is always 1), the other columns of these tables, and the
 * host's own lines for each invocation ("Executing ...", "Executed ...").
 */
import { randomBytes } from 'node:crypto';
import {
  REFUSAL_EVENT,
  RefusalRecord,
  refusalRecord,
} from '../../../functions/telemetry/refusal-record';

/** Severity levels of Application Insights traces, by the worker's log level. */
const SEVERITY: Readonly<Record<string, number>> = {
  trace: 0,
  debug: 0,
  information: 1,
  warning: 2,
  error: 3,
  critical: 4,
};
/** The host's names for the worker's log levels (Microsoft.Extensions.Logging LogLevel). */
const LOG_LEVEL: Readonly<Record<string, string>> = {
  trace: 'Trace',
  debug: 'Debug',
  information: 'Information',
  warning: 'Warning',
  error: 'Error',
  critical: 'Critical',
};

export interface TraceRow {
  readonly Type: 'AppTraces';
  readonly TimeGenerated: Date;
  readonly Message: string;
  readonly SeverityLevel: number;
  readonly Properties: Readonly<Record<string, string>>;
  readonly OperationId: string;
  readonly OperationName: string;
  readonly AppRoleName: string;
  readonly ItemCount: 1;
}

export interface RequestRow {
  readonly Type: 'AppRequests';
  readonly TimeGenerated: Date;
  readonly Id: string;
  readonly Name: string;
  readonly Url: string;
  readonly Success: boolean;
  readonly ResultCode: string;
  readonly DurationMs: number;
  readonly Properties: Readonly<Record<string, string>>;
  readonly OperationId: string;
  readonly OperationName: string;
  readonly ParentId: string;
  readonly AppRoleName: string;
  readonly ItemCount: 1;
}

export type TelemetryRow = TraceRow | RequestRow;

/** The role name the Functions host reports: the app's name in Azure, `local` here. */
export const LOCAL_ROLE_NAME = 'local';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/** The operation of a request: the trace id and parent span of its `traceparent`, or a new trace. */
export function operationOf(traceparent: string | null): { operationId: string; parentId: string } {
  const match = traceparent === null ? null : TRACEPARENT.exec(traceparent.trim());
  if (match && !/^0+$/.test(match[1]!) && !/^0+$/.test(match[2]!)) {
    return { operationId: match[1]!, parentId: match[2]! };
  }
  const operationId = randomBytes(16).toString('hex');
  return { operationId, parentId: operationId };
}

export function traceRow(
  level: string,
  message: string,
  invocation: { functionName: string; invocationId: string; operationId: string },
): TraceRow {
  return {
    Type: 'AppTraces',
    TimeGenerated: new Date(),
    Message: message,
    SeverityLevel: SEVERITY[level] ?? 1,
    Properties: {
      Category: `Function.${invocation.functionName}.User`,
      LogLevel: LOG_LEVEL[level] ?? 'Information',
      InvocationId: invocation.invocationId,
    },
    OperationId: invocation.operationId,
    OperationName: invocation.functionName,
    AppRoleName: LOCAL_ROLE_NAME,
    ItemCount: 1,
  };
}

/** The row of one invocation; `TimeGenerated` is when the request started, as Application Insights records it. */
export function requestRow(request: {
  startedAt: Date;
  functionName: string;
  invocationId: string;
  operationId: string;
  parentId: string;
  url: string;
  status: number;
  durationMs: number;
}): RequestRow {
  return {
    Type: 'AppRequests',
    TimeGenerated: request.startedAt,
    Id: randomBytes(8).toString('hex'),
    Name: request.functionName,
    Url: request.url,
    // Application Insights counts an HTTP request as failed from status 400 on; the Functions host
    // reports it the same way, whatever the function thought of it.
    Success: request.status < 400,
    ResultCode: String(request.status),
    DurationMs: request.durationMs,
    Properties: { InvocationId: request.invocationId },
    OperationId: request.operationId,
    OperationName: request.functionName,
    ParentId: request.parentId,
    AppRoleName: LOCAL_ROLE_NAME,
    ItemCount: 1,
  };
}

export function hostStartedRow(ms: number): TraceRow {
  const operationId = randomBytes(16).toString('hex');
  return {
    Type: 'AppTraces',
    TimeGenerated: new Date(),
    Message: `Host started (${ms}ms)`,
    SeverityLevel: 1,
    Properties: { LogLevel: 'Information', EventId: '413', EventName: 'ScriptHostStarted' },
    OperationId: operationId,
    OperationName: '',
    AppRoleName: LOCAL_ROLE_NAME,
    ItemCount: 1,
  };
}

/** The names of the fields a refusal record holds, in order: those refusalRecord writes. */
export const REFUSAL_RECORD_FIELDS: readonly string[] = Object.keys(refusalRecord(undefined, '-'));

/** The refusal record a log line holds (functions/telemetry/refusal-record.ts), or undefined. */
export function parseRefusalRecord(message: string): RefusalRecord | undefined {
  if (!message.startsWith(`{"event":"${REFUSAL_EVENT}"`)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== REFUSAL_RECORD_FIELDS.length) return undefined;
  if (!keys.every((key, i) => key === REFUSAL_RECORD_FIELDS[i])) return undefined;
  return value as RefusalRecord;
}
