import type { Element } from '@xmldom/xmldom';
import type { PolicyReader } from '../policy-reader';
import type { ParseContext } from './element';

/** What set-header and set-query-parameter read: a name, an exists-action and `<value>`s. */

export const EXISTS_ACTIONS = ['override', 'skip', 'append', 'delete'] as const;
export type ExistsAction = (typeof EXISTS_ACTIONS)[number];

export interface NameValueConfig {
  readonly name: string;
  readonly action: ExistsAction;
  readonly values: readonly string[];
}

export const NAME_VALUE_ATTRIBUTES = ['name', 'exists-action'] as const;

export function parseNameValue(
  element: Element,
  attributes: ReadonlyMap<string, string>,
  context: ParseContext,
): NameValueConfig {
  const reader: PolicyReader = context.reader;
  const name = reader.required(element, attributes, 'name').trim();
  const raw = attributes.get('exists-action') ?? 'override';
  const action = EXISTS_ACTIONS.find((candidate) => candidate === raw);
  if (!action) {
    reader.fail(
      'invalid_value',
      element,
      `exists-action "${raw}" on <${element.tagName}> must be one of ${EXISTS_ACTIONS.join(', ')}.`,
    );
  }
  const values = reader.elementChildren(element, `<${element.tagName}>`).map((child) => {
    if (child.tagName !== 'value') {
      reader.fail(
        'unsupported_element',
        child,
        `<${child.tagName}> inside <${element.tagName}> is not implemented by the local gateway.`,
      );
    }
    reader.attributes(child, []);
    return reader.resolve(reader.text(child), child, `<value> of <${element.tagName}>`);
  });
  if (action === 'delete' && values.length > 0) {
    reader.fail(
      'invalid_value',
      element,
      `<${element.tagName} exists-action="delete"> must not have <value> elements.`,
    );
  }
  if (action !== 'delete' && values.length === 0) {
    reader.fail(
      'invalid_value',
      element,
      `<${element.tagName} exists-action="${action}"> needs at least one <value>.`,
    );
  }
  return { name, action, values };
}
