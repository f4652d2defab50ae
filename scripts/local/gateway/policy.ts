import { DOMParser, type Element } from '@xmldom/xmldom';
import { PolicyLoadError, type SourceLocation } from './errors';
import { SECTIONS, type Scope, type Section, type Statement } from './policies/element';
import { findPolicyElement } from './policies/registry';
import { type SkippedElement } from './not-run';
import { PolicyReader } from './policy-reader';

/**
 * The API Management policy documents, parsed into the statements the local gateway executes.
 *
 * The gateway runs only what it runs as API Management does. An element it cannot run so (one it
 * does not implement, or with an attribute, a policy expression, a value, a named value or a
 * backend it does not have) is skipped and listed with the reason, for the gateway to name at
 * start: a policy is never silently ignored, and a policy the schema accepts never stops it. What
 * the schema refuses in the document's own structure (not XML, another root, an unknown or
 * repeated section, text between elements) stops the load with a PolicyLoadError naming the line.
 */

export { SECTIONS, type Section, type Statement } from './policies/element';

/** Where a scope's `<base />` stands: the enclosing scope's section runs there. */
export interface Base {
  readonly kind: 'base';
  readonly at: SourceLocation;
}

export type Entry = Base | Statement | SkippedElement;

/** One policy document (one scope): its entries per section, in document order. */
export interface PolicyDocument {
  readonly file: string;
  readonly scope: Scope;
  /** A section the file leaves out holds a single `<base />`: it inherits the enclosing scope's. */
  readonly sections: Readonly<Record<Section, readonly Entry[]>>;
  /** The elements the gateway does not run, in document order. */
  readonly skipped: readonly SkippedElement[];
}

export interface LoadPolicyOptions {
  /** Values for `{{name}}` references. */
  readonly namedValues: Readonly<Record<string, string>>;
  /** Backend ids that `set-backend-service backend-id` may name. */
  readonly backendIds: readonly string[];
}

const PROCESSING_INSTRUCTION_NODE = 7;
const DOCUMENT_TYPE_NODE = 10;

/** Reads one element of a section: a statement, or the element skipped with the reason why. */
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
  try {
    return statement(reader, element, section, scope, options);
  } catch (error: unknown) {
    if (!(error instanceof PolicyLoadError)) throw error;
    const { line } = error.at;
    const where = line === element.lineNumber ? '' : ` (line ${line})`;
    return {
      kind: 'skipped',
      element: element.tagName,
      at: reader.at(element),
      reason: `${error.detail.replace(/\.$/, '')}${where}`,
    };
  }
}

function statement(
  reader: PolicyReader,
  element: Element,
  section: Section,
  scope: Scope,
  options: LoadPolicyOptions,
): Statement {
  const policy = findPolicyElement(element.tagName);
  if (!policy) {
    reader.fail('unsupported_element', element, 'the local gateway does not implement it');
  }
  if (!policy.sections.includes(section)) {
    reader.fail(
      'invalid_structure',
      element,
      `<${policy.name}> is not allowed in <${section}> (only in ${policy.sections.join(', ')}); API Management does not accept it there`,
    );
  }
  if (!policy.scopes.includes(scope)) {
    reader.fail(
      'invalid_structure',
      element,
      `<${policy.name}> is not allowed at ${scope} scope (only at ${policy.scopes.join(', ')}); API Management does not accept it there`,
    );
  }
  // "All policies have an optional id attribute" (api-management-error-handling-policies.md);
  // only context.LastError.PolicyId, a policy expression, reads it.
  const attributes = reader.attributes(element, [...policy.attributes, 'id']);
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
 * the project root reads best). Lists in `skipped` the elements it would not run exactly as API
 * Management does; throws a PolicyLoadError on a document whose structure the schema refuses.
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
    let bases = 0;
    const entries = reader.elementChildren(child, `<${section}>`).map((element): Entry => {
      const read = entry(reader, element, section, scope, options);
      if (read.kind !== 'base') return read;
      bases += 1;
      // The schema allows a second <base />; what API Management makes of it is not documented.
      return bases === 1
        ? read
        : {
            kind: 'skipped',
            element: 'base',
            at: read.at,
            reason: `a second <base /> in <${section}>`,
          };
    });
    sections[section] = entries;
  }
  const skipped = SECTIONS.flatMap((section) =>
    sections[section].filter((item): item is SkippedElement => item.kind === 'skipped'),
  ).sort((a, b) => a.at.line - b.at.line);
  return { file, scope, sections, skipped };
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
      item.kind === 'base' ? expand(index - 1) : item.kind === 'skipped' ? [] : [item],
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
