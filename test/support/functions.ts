import { HttpRequest, InvocationContext } from '@azure/functions';

export interface LogLine {
  level: string;
  message: string;
}

/** A real InvocationContext whose log lines are captured. */
export function captureContext(functionName = 'test'): {
  context: InvocationContext;
  logs: LogLine[];
} {
  const logs: LogLine[] = [];
  const context = new InvocationContext({
    invocationId: `inv-${Math.random().toString(16).slice(2)}`,
    functionName,
    logHandler: (level, ...args) => logs.push({ level, message: args.map(String).join(' ') }),
  });
  return { context, logs };
}

/** A real HttpRequest, as the Functions host builds it. */
export function request(
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): HttpRequest {
  const url = new URL(path, 'http://localhost:7071');
  return new HttpRequest({
    method,
    url: url.toString(),
    headers,
    query: Object.fromEntries(url.searchParams),
  });
}
