/** What the smoke checks take and what they report, and the report as PASS/FAIL lines. */

export interface SmokeInputs {
  /** API Management's gateway, for example `https://apim-x.azure-api.net`. */
  readonly gatewayUrl: string;
  /** The API's path in API Management, for example `api`. */
  readonly apiPath: string;
  /** The Function App itself, for example `https://func-x.azurewebsites.net`. */
  readonly functionUrl: string;
  readonly subscriptionKey: string;
  /** API Management's managed identity (principal id): the `oid` the function must see. */
  readonly expectedObjectId: string;
  /** The app role API Management's identity must hold. */
  readonly role: string;
}

export interface SmokeOptions {
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  /**
   * How long the checks through API Management keep retrying while the role assignment and
   * API Management's cached managed identity token propagate. Default 10 minutes.
   */
  readonly propagationTimeoutMs?: number;
  readonly initialRetryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
  readonly requestTimeoutMs?: number;
  /**
   * NETWORK_ISOLATION=true: direct calls to the Function App must be refused by the network
   * layer (network-isolation.ts), not answered 401 by App Service Authentication.
   */
  readonly networkIsolation?: boolean;
  /** Progress lines (retries); never receives the key. */
  readonly log?: (line: string) => void;
}

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface SmokeReport {
  readonly ok: boolean;
  readonly results: readonly CheckResult[];
  /** What the run showed about Easy Auth: does it forward the token, does it block on Flex Consumption. */
  readonly findings: readonly string[];
}

export function formatReport(report: SmokeReport): string[] {
  const lines = report.results.map((r) => `${r.ok ? 'PASS' : 'FAIL'} ${r.name}: ${r.detail}`);
  for (const finding of report.findings) {
    lines.push(`NOTE ${finding}`);
  }
  const failed = report.results.filter((r) => !r.ok).length;
  lines.push(
    failed === 0
      ? `Smoke test passed: ${report.results.length} checks.`
      : `Smoke test FAILED: ${failed} of ${report.results.length} checks.`,
  );
  return lines;
}
