import type { Element, Node } from '@xmldom/xmldom';
import { PolicyLoadError, type SourceLocation } from './errors';

/**
 * Reading one policy file: attributes with `{{named values}}` resolved, text, child elements and
 * numbers, each refusing what the gateway does not evaluate (policy expressions, unknown named
 * values) with a PolicyLoadError naming the file and line.
 */

const NAMED_VALUE = /\{\{([^{}]*)\}\}/g;
const NAMED_VALUE_NAME = /^[A-Za-z0-9\-._]+$/;
const EXPRESSION = /^\s*@[({]/;

export const ELEMENT_NODE = 1;
export const TEXT_NODE = 3;
export const CDATA_SECTION_NODE = 4;
export const COMMENT_NODE = 8;

function describe(node: Node): string {
  if (node.nodeType === ELEMENT_NODE) return `<${(node as Element).tagName}>`;
  if (node.nodeType === TEXT_NODE) return 'text';
  return node.nodeName;
}

export class PolicyReader {
  constructor(
    readonly file: string,
    private readonly namedValues: Readonly<Record<string, string>>,
  ) {}

  at(node: Node | undefined, fallbackLine = 1): SourceLocation {
    return { file: this.file, line: node?.lineNumber ?? fallbackLine };
  }

  fail(code: PolicyLoadError['code'], node: Node | undefined, detail: string): never {
    throw new PolicyLoadError(code, this.at(node), detail);
  }

  /** Resolves `{{named values}}` in a literal and refuses policy expressions. */
  resolve(raw: string, node: Node, what: string): string {
    this.refuseExpression(raw, node, what);
    const resolved = raw.replace(NAMED_VALUE, (_match, name: string) => {
      const trimmed = name.trim();
      if (!NAMED_VALUE_NAME.test(trimmed)) {
        this.fail(
          'invalid_value',
          node,
          `${what} has an invalid named value reference {{${name}}}.`,
        );
      }
      if (!Object.hasOwn(this.namedValues, trimmed)) {
        this.fail(
          'unknown_named_value',
          node,
          `${what} uses the named value {{${trimmed}}}, which is not defined ` +
            `(local named values: ${Object.keys(this.namedValues).join(', ') || 'none'}).`,
        );
      }
      return this.namedValues[trimmed]!;
    });
    // A named value may itself hold an expression; API Management would evaluate it.
    if (resolved !== raw) this.refuseExpression(resolved, node, `${what} (after named values)`);
    return resolved;
  }

  refuseExpression(value: string, node: Node, what: string): void {
    if (EXPRESSION.test(value)) {
      const shown = value.trim().length > 60 ? `${value.trim().slice(0, 57)}...` : value.trim();
      this.fail(
        'policy_expression',
        node,
        `${what} is a policy expression (${shown}); the local gateway does not evaluate policy expressions.`,
      );
    }
  }

  /** Checks the attributes of `element` against `allowed` and returns their resolved values. */
  attributes(element: Element, allowed: readonly string[]): Map<string, string> {
    const values = new Map<string, string>();
    for (let i = 0; i < element.attributes.length; i += 1) {
      const attribute = element.attributes.item(i);
      if (!attribute) continue;
      if (!allowed.includes(attribute.name)) {
        this.fail(
          'unsupported_attribute',
          element,
          `attribute "${attribute.name}" on <${element.tagName}> is not implemented by the local gateway` +
            (allowed.length
              ? ` (it implements: ${allowed.join(', ')}).`
              : ' (it implements none).'),
        );
      }
      values.set(
        attribute.name,
        this.resolve(
          attribute.value,
          element,
          `attribute "${attribute.name}" on <${element.tagName}>`,
        ),
      );
    }
    return values;
  }

  required(element: Element, attributes: ReadonlyMap<string, string>, name: string): string {
    const value = attributes.get(name);
    if (value === undefined || value.trim() === '') {
      this.fail(
        'invalid_value',
        element,
        `<${element.tagName}> needs a non-empty "${name}" attribute.`,
      );
    }
    return value;
  }

  /** A whole number attribute of at least `min`; `fallback` when absent (required when none). */
  wholeNumber(
    element: Element,
    attributes: ReadonlyMap<string, string>,
    name: string,
    { min = 1, max, fallback }: { min?: number; max?: number; fallback?: number } = {},
  ): number {
    if (fallback !== undefined && !attributes.has(name)) return fallback;
    const raw = this.required(element, attributes, name).trim();
    const value = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || value < min || (max !== undefined && value > max)) {
      const range = max === undefined ? `at least ${min}` : `from ${min} to ${max}`;
      this.fail(
        'invalid_value',
        element,
        `"${name}" on <${element.tagName}> must be a whole number ${range}, got "${raw}".`,
      );
    }
    return value;
  }

  /** Element children of `element`; text other than whitespace, DTDs and other nodes are refused. */
  elementChildren(element: Element, where: string): Element[] {
    const children: Element[] = [];
    for (let node = element.firstChild; node; node = node.nextSibling) {
      if (node.nodeType === ELEMENT_NODE) children.push(node as Element);
      else if (node.nodeType === COMMENT_NODE) continue;
      else if (
        (node.nodeType === TEXT_NODE || node.nodeType === CDATA_SECTION_NODE) &&
        (node.nodeValue ?? '').trim() === ''
      )
        continue;
      else this.fail('invalid_structure', node, `unexpected content in ${where}.`);
    }
    return children;
  }

  /** The text of an element that may hold only text (and comments). */
  text(element: Element): string {
    let text = '';
    for (let node = element.firstChild; node; node = node.nextSibling) {
      if (node.nodeType === TEXT_NODE || node.nodeType === CDATA_SECTION_NODE)
        text += node.nodeValue ?? '';
      else if (node.nodeType === COMMENT_NODE) continue;
      else
        this.fail(
          node.nodeType === ELEMENT_NODE ? 'unsupported_element' : 'invalid_structure',
          node,
          `<${element.tagName}> may hold only text here; found ${describe(node)}.`,
        );
    }
    return text;
  }

  noChildren(element: Element): void {
    const children = this.elementChildren(element, `<${element.tagName}>`);
    if (children[0]) {
      this.fail(
        'unsupported_element',
        children[0],
        `<${children[0].tagName}> inside <${element.tagName}> is not implemented by the local gateway.`,
      );
    }
  }
}
