import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyLoadError } from '../../../scripts/local/gateway/errors';
import {
  GLOBAL_POLICY_XML,
  SECTIONS,
  effectiveSection,
  parsePolicy,
  type PolicyDocument,
  type Statement,
} from '../../../scripts/local/gateway/policy';
import authenticationManagedIdentity from '../../../scripts/local/gateway/policies/authentication-managed-identity';
import setHeader from '../../../scripts/local/gateway/policies/set-header';
import { describeSkipped } from '../../../scripts/local/gateway/not-run';
import type { Scope } from '../../../scripts/local/gateway/policies/element';
import { APIM_DIR } from './support';

const OPTIONS = {
  namedValues: {
    'api-app-client-id': '3f9c2e71-5a4b-4c8d-9e10-2b3c4d5e6f70',
    'an-expression': '@(1 + 1)',
  },
  backendIds: ['function-app'],
};

/** A policy whose inbound section is `inbound` (line 3 onwards), all other sections plain. */
function policy(...inbound: string[]): string {
  return [
    '<policies>',
    '  <inbound>',
    ...inbound,
    '  </inbound>',
    '  <backend><base /></backend>',
    '  <outbound><base /></outbound>',
    '  <on-error><base /></on-error>',
    '</policies>',
  ].join('\n');
}

function loadError(xml: string): PolicyLoadError {
  try {
    parsePolicy(xml, 'test.xml', OPTIONS);
  } catch (error: unknown) {
    if (error instanceof PolicyLoadError) return error;
    throw error;
  }
  throw new Error('the policy loaded; a refusal was expected');
}

describe('the shipped policies', () => {
  it.each(['api.xml', 'product.xml'])('%s loads with the local named values', (name) => {
    const file = path.join(APIM_DIR, 'policies', name);
    const namedValues = JSON.parse(
      fs.readFileSync(path.join(APIM_DIR, 'named-values.local.json'), 'utf8'),
    );
    const document = parsePolicy(
      fs.readFileSync(file, 'utf8'),
      `apim/policies/${name}`,
      { namedValues, backendIds: ['function-app'] },
      name === 'api.xml' ? 'api' : 'product',
    );
    for (const section of ['inbound', 'outbound', 'on-error'] as const) {
      expect(document.sections[section].filter((s) => s.kind === 'base')).toHaveLength(1);
    }
    // The API's backend section replaces the default forward-request with one that sets its timeout.
    const backend = document.sections.backend.map((s) => (s.kind === 'base' ? 'base' : s.element));
    expect(backend).toEqual(name === 'api.xml' ? ['forward-request'] : ['base']);
  });

  it('resolves {{api-app-client-id}} in the managed identity resource', () => {
    const xml = fs.readFileSync(path.join(APIM_DIR, 'policies', 'api.xml'), 'utf8');
    const document = parsePolicy(xml, 'api.xml', OPTIONS);
    const statement = document.sections.inbound.find(
      (s) => s.kind === 'statement' && s.element === 'authentication-managed-identity',
    ) as Statement;
    expect(authenticationManagedIdentity.configOf(statement)).toEqual({
      resource: '3f9c2e71-5a4b-4c8d-9e10-2b3c4d5e6f70',
      ignoreError: false,
    });
    expect(statement.at.line).toBe(
      xml.split('\n').findIndex((line) => line.includes('<authentication-managed-identity')) + 1,
    );
  });
});

/**
 * Elements the gateway does not run, which the schema accepts (or which hold only a value it
 * refuses): [what, policy text, element, its line, text the reason must contain].
 */
const skips: [string, string, string, number, string][] = [
  [
    'an element it does not implement',
    policy('    <base />', '    <validate-jwt header-name="Authorization" />'),
    'validate-jwt',
    4,
    'the local gateway does not implement it',
  ],
  [
    'choose/when',
    policy('    <choose>', '      <when condition="true" />', '    </choose>'),
    'choose',
    3,
    'does not implement it',
  ],
  [
    'an attribute it does not implement',
    policy('    <set-header name="X-A" exists-action="delete" nonsense="x" />'),
    'set-header',
    3,
    'attribute "nonsense" on <set-header>',
  ],
  [
    'an output token variable',
    policy(
      '    <authentication-managed-identity resource="x"',
      '      output-token-variable-name="t" />',
    ),
    'authentication-managed-identity',
    3,
    'output-token-variable-name',
  ],
  [
    'a liquid template',
    policy('    <set-body template="liquid">{{body}}</set-body>'),
    'set-body',
    3,
    'template',
  ],
  [
    'a child it does not implement',
    policy(
      '    <rate-limit calls="5" renewal-period="60">',
      '      <api name="x" calls="1" renewal-period="60" />',
      '    </rate-limit>',
    ),
    'rate-limit',
    3,
    '<api> inside <rate-limit> is not implemented by the local gateway (line 4)',
  ],
  [
    'an expression in an attribute',
    policy('    <authentication-managed-identity resource="@(context.Api.Name)" />'),
    'authentication-managed-identity',
    3,
    '@(context.Api.Name)',
  ],
  [
    'a multi-statement expression in a value',
    policy(
      '    <set-header name="X-A" exists-action="override">',
      '      <value>@{ return "a"; }</value>',
      '    </set-header>',
    ),
    'set-header',
    3,
    '<value> of <set-header> is a policy expression (@{ return "a"; })',
  ],
  [
    'an expression in set-body',
    policy('    <set-body>@(context.Request.Body.As&lt;string&gt;())</set-body>'),
    'set-body',
    3,
    'does not evaluate policy expressions',
  ],
  [
    'an expression in exists-action',
    policy('    <set-header name="X-A" exists-action="@(&quot;delete&quot;)" />'),
    'set-header',
    3,
    'exists-action',
  ],
  [
    'an expression behind a named value',
    policy(
      '    <set-header name="X-A" exists-action="override">',
      '      <value>{{an-expression}}</value>',
      '    </set-header>',
    ),
    'set-header',
    3,
    'after named values',
  ],
  [
    'an unknown named value',
    policy('    <authentication-managed-identity', '      resource="{{api-app-object-id}}" />'),
    'authentication-managed-identity',
    3,
    '{{api-app-object-id}}, which is not defined',
  ],
  [
    'an unknown named value in text',
    policy('    <set-body>{"a":"{{nope}}"}</set-body>'),
    'set-body',
    3,
    '{{nope}}',
  ],
  [
    'an unknown backend',
    policy('    <set-backend-service backend-id="other-app" />'),
    'set-backend-service',
    3,
    'other-app',
  ],
  [
    'a backend by URL',
    policy('    <set-backend-service base-url="https://example.net" />'),
    'set-backend-service',
    3,
    'base-url',
  ],
  [
    'the token outside inbound',
    policy('    <base />').replace(
      '<outbound><base /></outbound>',
      '<outbound>\n<authentication-managed-identity resource="x" />\n</outbound>',
    ),
    'authentication-managed-identity',
    7,
    'not allowed in <outbound>',
  ],
  [
    'two <base />',
    policy('    <base />', '    <base />'),
    'base',
    4,
    'a second <base /> in <inbound>',
  ],
  [
    'an invalid exists-action',
    policy('    <set-header name="X-A" exists-action="remove" />'),
    'set-header',
    3,
    'exists-action "remove"',
  ],
  [
    'a header API Management protects',
    policy('    <set-header name="Content-Length" exists-action="delete" />'),
    'set-header',
    3,
    'Content-Length',
  ],
  [
    'delete with values',
    policy('    <set-header name="X-A" exists-action="delete"><value>a</value></set-header>'),
    'set-header',
    3,
    'must not have <value>',
  ],
  [
    'override without values',
    policy('    <set-header name="X-A" exists-action="override" />'),
    'set-header',
    3,
    'needs at least one <value>',
  ],
  [
    'a rate limit of zero',
    policy('    <rate-limit calls="0" renewal-period="60" />'),
    'rate-limit',
    3,
    '"calls"',
  ],
  [
    'a resource left empty',
    policy('    <authentication-managed-identity resource=" " />'),
    'authentication-managed-identity',
    3,
    '"resource"',
  ],
];

describe('the gateway skips what it does not run, naming the element, its line and why', () => {
  it.each(skips)('%s', (_what, xml, element, line, reason) => {
    const document = parsePolicy(xml, 'test.xml', OPTIONS);
    expect(document.skipped).toHaveLength(1);
    const [skipped] = document.skipped;
    expect(skipped).toMatchObject({ kind: 'skipped', element, at: { file: 'test.xml', line } });
    expect(skipped!.reason).toContain(reason);
    expect(describeSkipped(skipped!)).toMatch(
      new RegExp(`^test\\.xml:${line}: <${element}> not run locally \\(`),
    );
    // A skipped element runs nowhere: no section holds a statement of it.
    for (const section of SECTIONS) {
      const statements = effectiveSection([document], section);
      expect(statements.some((s) => s.at.line === line)).toBe(false);
    }
  });

  it('accepts the id attribute every policy may have', () => {
    const document = parsePolicy(
      policy('    <set-header name="X-A" exists-action="delete" id="drop-a" />'),
      'test.xml',
      OPTIONS,
    );
    expect(document.skipped).toEqual([]);
  });

  it('keeps running the rest of the document', () => {
    const document = parsePolicy(
      policy(
        '    <base />',
        '    <cors-something-new />',
        '    <set-header name="X-A" exists-action="delete" />',
      ),
      'test.xml',
      OPTIONS,
    );
    expect(document.skipped.map((s) => s.element)).toEqual(['cors-something-new']);
    expect(effectiveSection([document], 'inbound').map((s) => s.element)).toEqual(['set-header']);
  });
});

/** Documents whose structure the schema refuses: [what, policy text, code, line, message text]. */
const refusals: [string, string, PolicyLoadError['code'], number, string][] = [
  [
    'a section twice',
    policy('    <base />').replace('</policies>', '  <inbound />\n</policies>'),
    'invalid_structure',
    8,
    '<inbound> appears more than once',
  ],
  [
    'an unknown section',
    policy('    <base />').replace('</policies>', '  <outbond />\n</policies>'),
    'unsupported_element',
    8,
    '<outbond>',
  ],
  [
    'a wrong root',
    '<policy>\n  <inbound />\n</policy>',
    'invalid_structure',
    1,
    'root element must be <policies>',
  ],
  [
    'malformed XML',
    policy('    <set-header name="X-A" name="X-B" exists-action="delete" />'),
    'invalid_xml',
    3,
    'Attribute name redefined',
  ],
  [
    'a DOCTYPE',
    `<!DOCTYPE policies>\n${policy('    <base />')}`,
    'invalid_structure',
    1,
    'DOCTYPE',
  ],
  [
    'text where statements go',
    policy('    <base />', '    hello'),
    'invalid_structure',
    3,
    'unexpected content in <inbound>',
  ],
];

describe('the gateway refuses a document whose structure is invalid, naming the line', () => {
  it.each(refusals)('%s', (_what, xml, code, line, mention) => {
    const error = loadError(xml);
    expect(error.code).toBe(code);
    expect(error.at).toEqual({ file: 'test.xml', line });
    expect(error.message).toContain(`test.xml:${line}: `);
    expect(error.message).toContain(mention);
  });
});

describe('effective sections', () => {
  const load = (xml: string, file: string, scope: Scope = 'api'): PolicyDocument =>
    parsePolicy(xml, file, OPTIONS, scope);
  const names = (statements: readonly Statement[]) =>
    statements.map((s) =>
      s.element === 'set-header' ? `set-header ${setHeader.configOf(s)!.name}` : s.element,
    );
  const global = load(GLOBAL_POLICY_XML, 'global', 'global');
  const product = load(
    policy('    <rate-limit calls="5" renewal-period="60" />', '    <base />'),
    'product',
    'product',
  );
  const api = load(
    policy(
      '    <set-header name="A" exists-action="delete" />',
      '    <base />',
      '    <set-header name="B" exists-action="delete" />',
    ),
    'api',
  );

  it('expand <base /> to the enclosing scope, in place', () => {
    expect(names(effectiveSection([global, product, api], 'inbound'))).toEqual([
      'set-header A',
      'rate-limit',
      'set-header B',
    ]);
  });

  it("reach API Management's default forward-request through the product scope", () => {
    expect(names(effectiveSection([global, product, api], 'backend'))).toEqual(['forward-request']);
  });

  it('skip the enclosing scope when a present section leaves <base /> out', () => {
    const noBase = load(policy('    <set-header name="A" exists-action="delete" />'), 'api');
    expect(names(effectiveSection([global, product, noBase], 'inbound'))).toEqual(['set-header A']);
    const emptyBackend = load(
      '<policies>\n  <inbound><base /></inbound>\n  <backend />\n</policies>',
      'product',
      'product',
    );
    expect(effectiveSection([global, emptyBackend, api], 'backend')).toEqual([]);
  });

  it('inherit the enclosing scope for a section the file leaves out, as if it held only <base />', () => {
    const onlyInbound = load(
      '<policies>\n  <inbound>\n    <base />\n    <rate-limit calls="5" renewal-period="60" />\n  </inbound>\n</policies>',
      'product',
      'product',
    );
    for (const document of [onlyInbound, load('<policies />', 'product', 'product')]) {
      expect(names(effectiveSection([global, document, api], 'backend'))).toEqual([
        'forward-request',
      ]);
      expect(document.sections.outbound).toEqual([
        { kind: 'base', at: { file: 'product', line: 1 } },
      ]);
    }
  });
});
