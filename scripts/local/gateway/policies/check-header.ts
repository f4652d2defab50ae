import type { Element } from '@xmldom/xmldom';
import { PolicyFailure } from '../failure';
import { apimResponse } from '../messages';
import type { PolicyReader } from '../policy-reader';
import { policyElement } from './element';

/**
 * `check-header` (learn.microsoft.com/azure/api-management/check-header-policy): inbound. The
 * request must have header `name`, and, when `<value>`s are given, one of them (compared
 * case-insensitively when `ignore-case` is true). Otherwise the request ends with
 * `failed-check-httpcode` and `failed-check-error-message`, and goes to on-error with the
 * reasons api-management-error-handling-policies.md lists: `HeaderNotFound` or
 * `HeaderValueNotAllowed` (source `check-header`). The body uses API Management's error shape
 * `{"statusCode": ..., "message": ...}` as its other built-in refusals do.
 */

export interface CheckHeaderConfig {
  readonly name: string;
  readonly status: number;
  readonly message: string;
  readonly ignoreCase: boolean;
  readonly values: readonly string[];
}

function values(reader: PolicyReader, element: Element): string[] {
  return reader.elementChildren(element, '<check-header>').map((child) => {
    if (child.tagName !== 'value') {
      reader.fail(
        'unsupported_element',
        child,
        `<${child.tagName}> inside <check-header> is not allowed (only <value>).`,
      );
    }
    reader.attributes(child, []);
    return reader.resolve(reader.text(child), child, '<value> of <check-header>');
  });
}

export default policyElement<CheckHeaderConfig>({
  name: 'check-header',
  sections: ['inbound'],
  attributes: ['name', 'failed-check-httpcode', 'failed-check-error-message', 'ignore-case'],
  parse(element, attributes, context) {
    const reader: PolicyReader = context.reader;
    const name = reader.required(element, attributes, 'name').trim();
    const status = reader.wholeNumber(element, attributes, 'failed-check-httpcode', {
      min: 100,
      max: 599,
    });
    const message = reader.required(element, attributes, 'failed-check-error-message');
    const ignoreCaseRaw = reader.required(element, attributes, 'ignore-case').trim();
    if (ignoreCaseRaw !== 'true' && ignoreCaseRaw !== 'false') {
      reader.fail(
        'invalid_value',
        element,
        '"ignore-case" on <check-header> must be true or false.',
      );
    }
    return {
      name,
      status,
      message,
      ignoreCase: ignoreCaseRaw === 'true',
      values: values(reader, element),
    };
  },
  execute(config, { state }) {
    const present = state.request.headers.get(config.name);
    const refuse = (reason: string): never => {
      throw new PolicyFailure('check-header', reason, apimResponse(config.status, config.message));
    };
    if (!present || present.length === 0) refuse('HeaderNotFound');
    if (config.values.length === 0) return;
    const fold = (value: string) => (config.ignoreCase ? value.toLowerCase() : value);
    const allowed = config.values.map(fold);
    if (!present!.every((value) => allowed.includes(fold(value)))) refuse('HeaderValueNotAllowed');
  },
});
