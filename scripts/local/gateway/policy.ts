import { DOMParser, type Element } from '@xmldom/xmldom';
import { PolicyLoadError, type SourceLocation } from './errors';
import { SECTIONS, type Scope, type Section, type Statement } from './policies/element';
import { findPolicyElement, POLICY_ELEMENTS } from './policies/registry';
import { PolicyReader } from './policy-reader';

/**
 * The API Management policy documents, parsed into the statements the local gateway executes.
 *
 * The gateway runs only what it understands. Anything else in a policy file (an element, an
 * attribute, a policy expression, an unknown named value) stops the load with a PolicyLoadError
 * naming the file and line: a policy is never silently ignored.
 */

export { SECTIONS, type Section, type Statement } from './policies/element';

/** Where a scope's `<base />` stands: the enclosing scope's section runs there. */
export interface Base {
  readonly kind: 'base';
  readonly at: SourceLocation;
}

export type Entry = Base | Statement;

/** One policy document (one scope): its entries per section, in document order. */
export interface PolicyDocument {
  readonly file: string;
  readonly scope: Scope;
  /** A section the file leaves out holds a single `<base />`: it inherits the enclosing scope's. */
  readonly sections: Readonly<Record<Section, readonly Entry[]>>;
}

export interface LoadPolicyOptions {
  /** Values for `{{name}}` references. */
  readonly namedValues: Readonly<Record<string, string>>;
  /** Backend ids that `set-backend-service backend-id` may name. */
  readonly backendIds: readonly string[];
}

/** The elements the gateway implements, `base` first, for messages and the documentation. */
export const IMPLEMENTED_ELEMENTS: readonly string[] = [
  'base',
  ...POLICY_ELEMENTS.map((element) => element.name),
];

const PROCESSING_INSTRUCTION_NODE = 7;
const DOCUMENT_TYPE_NODE = 10;

function entry(
  reader: PolicyReader,
  element: Element,
  section: Section,
  scope: Scope,
  options: LoadPolicyOptions,
): Entry {
  if (element.tagName === 'base') {
    reader.attributes(element, []);
    reader.noChildren(element);
    return { kind: 'base', at: reader.at(element) };
  }
  const policy = findPolicyElement(element.tagName);
  if (!policy) {
    reader.fail(
      'unsupported_element',
      element,
      `<${element.tagName}> is not implemented by the local gateway (it implements: ${IMPLEMENTED_ELEMENTS.join(', ')}).`,
    );
  }
  if (!policy.sections.includes(section)) {
    reader.fail(
      'invalid_structure',
      element,
      `<${policy.name}> is not allowed in <${section}> (only in ${policy.sections.join(', ')}).`,
    );
  }
  if (!policy.scopes.includes(scope)) {
    reader.fail(
      'invalid_structure',
      element,
      `<${policy.name}> is not allowed at ${scope} scope (only at ${policy.scopes.join(', ')}).`,
    );
  }
  const attributes = reader.attributes(element, policy.attributes);
  return policy.compile(
    element,
    attributes,
    { reader, section, scope, backendIds: options.backendIds },
    reader.at(element),
  );
}

function parseXml(xml: string, file: string): ReturnType<DOMParser['parseFromString']> {
  const parser = new DOMParser({
    onError: (level, message) => {
      throw new Error(`${level}: ${message}`);
    },
  });
  try {
    return parser.parseFromString(xml, 'text/xml');
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
      { file, line: locator?.lineNumber ?? 1 },
      `not well-formed XML (${reason}).`,
      { cause: error },
    );
  }
}

/**
 * Parses one policy document of `scope`. `file` is the name used in messages (a path relative to
 * the project root reads best). Throws a PolicyLoadError on anything the gateway would not run
 * exactly as API Management does.
 */
export function parsePolicy(
  xml: string,
  file: string,
  options: LoadPolicyOptions,
  scope: Scope = 'api',
): PolicyDocument {
  const reader: PolicyReader = new PolicyReader(file, options.namedValues);
  const documentNode = parseXml(xml, file);
  const root = documentNode.documentElement;
  for (let node = documentNode.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === DOCUMENT_TYPE_NODE)
      reader.fail('invalid_structure', node, 'a DOCTYPE is not allowed in a policy file.');
    if (node.nodeType === PROCESSING_INSTRUCTION_NODE && node.nodeName !== 'xml') {
      reader.fail(
        'invalid_structure',
        node,
        `processing instruction <?${node.nodeName}?> is not allowed.`,
      );
    }
  }
  if (!root || root.tagName !== 'policies') {
    reader.fail(
      'invalid_structure',
      root ?? undefined,
      `the root element must be <policies>, found <${root?.tagName ?? 'nothing'}>.`,
    );
  }
  reader.attributes(root, []);
  // A section left out inherits the enclosing scope's, as if it held only <base />
  // (Microsoft's own policy examples leave out <backend>); only a section that is present
  // without <base /> drops it.
  const inherit: Base = { kind: 'base', at: reader.at(root) };
  const sections: Record<Section, Entry[]> = {
    inbound: [inherit],
    backend: [inherit],
    outbound: [inherit],
    'on-error': [inherit],
  };
  const seen = new Set<Section>();
  for (const child of reader.elementChildren(root, '<policies>')) {
    const section = SECTIONS.find((candidate) => candidate === child.tagName);
    if (!section) {
      reader.fail(
        'unsupported_element',
        child,
        `<${child.tagName}> is not a policy section (expected ${SECTIONS.join(', ')}).`,
      );
    }
    if (seen.has(section))
      reader.fail('invalid_structure', child, `<${section}> appears more than once.`);
    seen.add(section);
    reader.attributes(child, []);
    const entries = reader
      .elementChildren(child, `<${section}>`)
      .map((element) => entry(reader, element, section, scope, options));
    const bases = entries.filter((item) => item.kind === 'base');
    if (bases.length > 1) {
      reader.fail(
        'invalid_structure',
        child,
        `<base /> appears ${bases.length} times in <${section}>.`,
      );
    }
    sections[section] = entries;
  }
  return { file, scope, sections };
}

/**
 * The statements one section runs, scopes given outermost first (global, product, API): each
 * `<base />` is replaced by the enclosing scope's section, as API Management does.
 */
export function effectiveSection(scopes: readonly PolicyDocument[], section: Section): Statement[] {
  const expand = (index: number): Statement[] => {
    const scope = scopes[index];
    if (!scope) return [];
    return scope.sections[section].flatMap((item) =>
      item.kind === 'base' ? expand(index - 1) : [item],
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
