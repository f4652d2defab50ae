/** Where a policy statement or a problem in a policy file is: `apim/policies/api.xml:14`. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
}

export function formatLocation(at: SourceLocation): string {
  return `${at.file}:${at.line}`;
}

/** Why the gateway refuses a policy file. Stable, so tests assert on it rather than on prose. */
export type PolicyLoadErrorCode =
  | 'invalid_xml'
  | 'invalid_structure'
  | 'unsupported_element'
  | 'unsupported_attribute'
  | 'policy_expression'
  | 'unknown_named_value'
  | 'invalid_value'
  | 'unknown_backend';

/**
 * Something in a policy file the gateway does not run, naming the file and line and the element,
 * attribute, expression or named value at fault. Inside one policy element it makes the loader
 * skip that element (and name it at start); in the document's own structure (not XML, another
 * root, an unknown or repeated section) it stops the load, as the policy schema refuses those too.
 */
export class PolicyLoadError extends Error {
  constructor(
    readonly code: PolicyLoadErrorCode,
    readonly at: SourceLocation,
    /** The message without its location. */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${formatLocation(at)}: ${detail}`, options);
    this.name = 'PolicyLoadError';
  }
}

/** An OpenAPI document the gateway cannot route from. */
export class OpenApiLoadError extends Error {
  constructor(
    readonly file: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${detail}`, options);
    this.name = 'OpenApiLoadError';
  }
}

/** Normalises anything thrown into an Error. */
export { ensureError } from '../../../functions/lib/errors';
