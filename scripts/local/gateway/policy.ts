import { DOMParser, type Element, type Node } from '@xmldom/xmldom';
import { PolicyLoadError, type SourceLocation } from './errors';

/**
 * The API Management policy documents, parsed into the statements the local gateway executes.
 *
 * The gateway runs only what this module understands. Anything else in a policy file (an element,
 * an attribute, a policy expression, an unknown named value) stops the load with a PolicyLoadError
 * naming the file and line: a policy is never silently ignored.
 */

export const SECTIONS = ['inbound', 'backend', 'outbound', 'on-error'] as const;
export type Section = (typeof SECTIONS)[number];

export type ExistsAction = 'override' | 'skip' | 'append' | 'delete';

export type Statement =
  | { readonly kind: 'base'; readonly at: SourceLocation }
  | {
      readonly kind: 'set-header';
      readonly at: SourceLocation;
      readonly name: string;
      readonly action: ExistsAction;
      readonly values: readonly string[];
    }
  | {
      readonly kind: 'set-query-parameter';
      readonly at: SourceLocation;
      readonly name: string;
      readonly action: ExistsAction;
      readonly values: readonly string[];
    }
  | {
      readonly kind: 'set-backend-service';
      readonly at: SourceLocation;
      readonly backendId: string;
    }
  | {
      readonly kind: 'authentication-managed-identity';
      readonly at: SourceLocation;
      readonly resource: string;
      readonly ignoreError: boolean;
    }
  | {
      readonly kind: 'rate-limit';
      readonly at: SourceLocation;
      readonly calls: number;
      readonly renewalPeriodSeconds: number;
    }
  | { readonly kind: 'set-body'; readonly at: SourceLocation; readonly body: string }
  | {
      readonly kind: 'forward-request';
      readonly at: SourceLocation;
      readonly timeoutSeconds: number | undefined;
    };

export type StatementKind = Statement['kind'];

/** One policy document (one scope): its statements per section, in document order. */
export interface PolicyDocument {
  readonly file: string;
  readonly sections: Readonly<Record<Section, readonly Statement[]>>;
}

export interface LoadPolicyOptions {
  /** Values for `{{name}}` references. */
  readonly namedValues: Readonly<Record<string, string>>;
  /** Backend ids that `set-backend-service backend-id` may name. */
  readonly backendIds: readonly string[];
}

/** Where each implemented element may appear (as in API Management's reference for each policy). */
const ALLOWED_SECTIONS: Readonly<Record<StatementKind, readonly Section[]>> = {
  base: SECTIONS,
  'set-header': SECTIONS,
  'set-query-parameter': ['inbound', 'backend'],
  'set-backend-service': ['inbound', 'backend'],
  'authentication-managed-identity': ['inbound'],
  'rate-limit': ['inbound'],
  'set-body': SECTIONS,
  'forward-request': ['backend'],
};

/** The elements the gateway implements, for messages and the README. */
export const IMPLEMENTED_ELEMENTS: readonly StatementKind[] = Object.keys(
  ALLOWED_SECTIONS,
) as StatementKind[];

const EXISTS_ACTIONS: readonly ExistsAction[] = ['override', 'skip', 'append', 'delete'];

/** Headers API Management does not let set-header touch. */
const PROTECTED_HEADERS = ['connection', 'content-length', 'keep-alive', 'transfer-encoding'];

const NAMED_VALUE = /\{\{([^{}]*)\}\}/g;
const NAMED_VALUE_NAME = /^[A-Za-z0-9\-._]+$/;
const EXPRESSION = /^\s*@[({]/;

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;
const PROCESSING_INSTRUCTION_NODE = 7;
const COMMENT_NODE = 8;
const DOCUMENT_TYPE_NODE = 10;

class Loader {
  constructor(
    private readonly file: string,
    private readonly options: LoadPolicyOptions,
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
      const value = this.options.namedValues[trimmed];
      if (value === undefined || !Object.hasOwn(this.options.namedValues, trimmed)) {
        this.fail(
          'unknown_named_value',
          node,
          `${what} uses the named value {{${trimmed}}}, which is not defined ` +
            `(local named values: ${Object.keys(this.options.namedValues).join(', ') || 'none'}).`,
        );
      }
      return value;
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

  required(element: Element, attributes: Map<string, string>, name: string): string {
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

  existsAction(element: Element, attributes: Map<string, string>): ExistsAction {
    const raw = attributes.get('exists-action') ?? 'override';
    const action = EXISTS_ACTIONS.find((candidate) => candidate === raw);
    if (!action) {
      this.fail(
        'invalid_value',
        element,
        `exists-action "${raw}" on <${element.tagName}> must be one of ${EXISTS_ACTIONS.join(', ')}.`,
      );
    }
    return action;
  }

  /** `<value>` children of set-header and set-query-parameter. */
  values(element: Element): string[] {
    return this.elementChildren(element, `<${element.tagName}>`).map((child) => {
      if (child.tagName !== 'value') {
        this.fail(
          'unsupported_element',
          child,
          `<${child.tagName}> inside <${element.tagName}> is not implemented by the local gateway.`,
        );
      }
      this.attributes(child, []);
      return this.resolve(this.text(child), child, `<value> of <${element.tagName}>`);
    });
  }

  nameValueStatement(
    element: Element,
    kind: 'set-header' | 'set-query-parameter',
    section: Section,
  ): Statement {
    const attributes = this.attributes(element, ['name', 'exists-action']);
    const name = this.required(element, attributes, 'name').trim();
    const action = this.existsAction(element, attributes);
    const values = this.values(element);
    if (kind === 'set-header' && PROTECTED_HEADERS.includes(name.toLowerCase())) {
      this.fail(
        'invalid_value',
        element,
        `API Management does not let set-header change "${name}".`,
      );
    }
    const onResponse = section === 'outbound' || section === 'on-error';
    if (
      kind === 'set-header' &&
      onResponse &&
      name.toLowerCase() === 'server' &&
      action === 'delete'
    ) {
      this.fail(
        'invalid_value',
        element,
        'API Management cannot delete the Server response header.',
      );
    }
    if (action === 'delete' && values.length > 0) {
      this.fail(
        'invalid_value',
        element,
        `<${kind} exists-action="delete"> must not have <value> elements.`,
      );
    }
    if (action !== 'delete' && values.length === 0) {
      this.fail(
        'invalid_value',
        element,
        `<${kind} exists-action="${action}"> needs at least one <value>.`,
      );
    }
    return { kind, at: this.at(element), name, action, values };
  }

  positiveInteger(element: Element, attributes: Map<string, string>, name: string): number {
    const raw = this.required(element, attributes, name).trim();
    const value = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || value < 1) {
      this.fail(
        'invalid_value',
        element,
        `"${name}" on <${element.tagName}> must be a positive whole number, got "${raw}".`,
      );
    }
    return value;
  }

  statement(element: Element, section: Section): Statement {
    const kind = IMPLEMENTED_ELEMENTS.find((candidate) => candidate === element.tagName);
    if (!kind) {
      this.fail(
        'unsupported_element',
        element,
        `<${element.tagName}> is not implemented by the local gateway (it implements: ${IMPLEMENTED_ELEMENTS.join(', ')}).`,
      );
    }
    if (!ALLOWED_SECTIONS[kind].includes(section)) {
      this.fail(
        'invalid_structure',
        element,
        `<${kind}> is not allowed in <${section}> (only in ${ALLOWED_SECTIONS[kind].join(', ')}).`,
      );
    }
    const at = this.at(element);
    switch (kind) {
      case 'base':
        this.attributes(element, []);
        this.noChildren(element);
        return { kind, at };
      case 'set-header':
      case 'set-query-parameter':
        return this.nameValueStatement(element, kind, section);
      case 'set-backend-service': {
        const attributes = this.attributes(element, ['backend-id']);
        const backendId = this.required(element, attributes, 'backend-id').trim();
        this.noChildren(element);
        if (!this.options.backendIds.includes(backendId)) {
          this.fail(
            'unknown_backend',
            element,
            `backend-id "${backendId}" is not a backend the local gateway knows (known: ${this.options.backendIds.join(', ')}).`,
          );
        }
        return { kind, at, backendId };
      }
      case 'authentication-managed-identity': {
        const attributes = this.attributes(element, ['resource', 'ignore-error']);
        const resource = this.required(element, attributes, 'resource').trim();
        const ignore = attributes.get('ignore-error') ?? 'false';
        if (ignore !== 'true' && ignore !== 'false') {
          this.fail(
            'invalid_value',
            element,
            `ignore-error must be "true" or "false", got "${ignore}".`,
          );
        }
        this.noChildren(element);
        return { kind, at, resource, ignoreError: ignore === 'true' };
      }
      case 'rate-limit': {
        const attributes = this.attributes(element, ['calls', 'renewal-period']);
        const calls = this.positiveInteger(element, attributes, 'calls');
        const renewalPeriodSeconds = this.positiveInteger(element, attributes, 'renewal-period');
        this.noChildren(element);
        return { kind, at, calls, renewalPeriodSeconds };
      }
      case 'set-body': {
        this.attributes(element, []);
        const body = this.resolve(this.text(element), element, '<set-body>');
        return { kind, at, body };
      }
      case 'forward-request': {
        const attributes = this.attributes(element, ['timeout']);
        this.noChildren(element);
        const timeoutSeconds = attributes.has('timeout')
          ? this.positiveInteger(element, attributes, 'timeout')
          : undefined;
        return { kind, at, timeoutSeconds };
      }
    }
  }

  document(xml: string): PolicyDocument {
    const parser = new DOMParser({
      onError: (level, message) => {
        throw new Error(`${level}: ${message}`);
      },
    });
    let root: Element | null;
    let documentNode;
    try {
      documentNode = parser.parseFromString(xml, 'text/xml');
      root = documentNode.documentElement;
    } catch (error: unknown) {
      const locator = (error as { locator?: { lineNumber?: number } }).locator;
      const reason =
        error instanceof Error
          ? error.cause instanceof Error
            ? error.cause.message
            : error.message
          : 'unreadable';
      throw new PolicyLoadError(
        'invalid_xml',
        { file: this.file, line: locator?.lineNumber ?? 1 },
        `not well-formed XML (${reason}).`,
        {
          cause: error,
        },
      );
    }
    for (let node = documentNode.firstChild; node; node = node.nextSibling) {
      if (node.nodeType === DOCUMENT_TYPE_NODE)
        this.fail('invalid_structure', node, 'a DOCTYPE is not allowed in a policy file.');
      if (node.nodeType === PROCESSING_INSTRUCTION_NODE && node.nodeName !== 'xml') {
        this.fail(
          'invalid_structure',
          node,
          `processing instruction <?${node.nodeName}?> is not allowed.`,
        );
      }
    }
    if (!root || root.tagName !== 'policies') {
      this.fail(
        'invalid_structure',
        root ?? undefined,
        `the root element must be <policies>, found <${root?.tagName ?? 'nothing'}>.`,
      );
    }
    this.attributes(root, []);
    const sections: Record<Section, Statement[]> = {
      inbound: [],
      backend: [],
      outbound: [],
      'on-error': [],
    };
    const seen = new Set<Section>();
    for (const child of this.elementChildren(root, '<policies>')) {
      const section = SECTIONS.find((candidate) => candidate === child.tagName);
      if (!section) {
        this.fail(
          'unsupported_element',
          child,
          `<${child.tagName}> is not a policy section (expected ${SECTIONS.join(', ')}).`,
        );
      }
      if (seen.has(section))
        this.fail('invalid_structure', child, `<${section}> appears more than once.`);
      seen.add(section);
      this.attributes(child, []);
      const statements = this.elementChildren(child, `<${section}>`).map((element) =>
        this.statement(element, section),
      );
      const bases = statements.filter((statement) => statement.kind === 'base');
      if (bases.length > 1) {
        this.fail(
          'invalid_structure',
          child,
          `<base /> appears ${bases.length} times in <${section}>.`,
        );
      }
      sections[section] = statements;
    }
    return { file: this.file, sections };
  }
}

function describe(node: Node): string {
  if (node.nodeType === ELEMENT_NODE) return `<${(node as Element).tagName}>`;
  if (node.nodeType === TEXT_NODE) return 'text';
  return node.nodeName;
}

/**
 * Parses one policy document. `file` is the name used in messages (a path relative to the
 * project root reads best). Throws a PolicyLoadError on anything the gateway would not run
 * exactly as API Management does.
 */
export function parsePolicy(xml: string, file: string, options: LoadPolicyOptions): PolicyDocument {
  return new Loader(file, options).document(xml);
}

/**
 * The statements one section runs, scopes given outermost first (global, product, API):
 * each `<base />` is replaced by the enclosing scope's section, as API Management does.
 */
export function effectiveSection(scopes: readonly PolicyDocument[], section: Section): Statement[] {
  const expand = (index: number): Statement[] => {
    const scope = scopes[index];
    if (!scope) return [];
    return scope.sections[section].flatMap((statement) =>
      statement.kind === 'base' ? expand(index - 1) : [statement],
    );
  };
  return expand(scopes.length - 1);
}

/** API Management's default global policy: forward the request, nothing else. */
export const GLOBAL_POLICY_XML = `<policies>
  <inbound />
  <backend>
    <forward-request />
  </backend>
  <outbound />
  <on-error />
</policies>
`;
