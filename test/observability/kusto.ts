/**
 * KQL for the tests of infra/queries: the real parser and semantic analyzer (Microsoft's
 * Kusto.Language, npm @kusto/language-service-next), and a small evaluator of the subset the
 * queries use, over rows the built-in host writes (scripts/local/host/telemetry.ts).
 *
 * The evaluator walks the parser's syntax tree; what it does not know it refuses with an error
 * that names the node, so a query that grows past the subset fails its test instead of being
 * half-evaluated. Semantics follow the KQL reference (learn.microsoft.com/kusto/query): `order by`
 * is descending unless `asc`; `take` keeps the first rows; `summarize` names an unnamed aggregate
 * `<function>_<column>` and a `bin(<column>, …)` key after its column; `join kind=leftanti` keeps
 * the left rows with no match; `tostring` of null is "", `isempty` is true for "" and null.
 */
import { createRequire } from 'node:module';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-call -- the parser is a Bridge.NET build with loose typings. */

type Node = any;
export type Row = Record<string, unknown>;
export type Tables = Readonly<Record<string, readonly Row[]>>;

let kusto: any;
function language(): any {
  if (!kusto) {
    const require = createRequire(__filename);
    require('@kusto/language-service-next/bridge.js');
    require('@kusto/language-service-next/Kusto.Language.Bridge.js');
    kusto = (globalThis as any).Kusto.Language;
  }
  return kusto;
}

/** KQL type of a value the host writes. */
function kqlType(value: unknown): string {
  if (value instanceof Date) return 'datetime';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'long' : 'real';
  if (typeof value === 'string') return 'string';
  return 'dynamic';
}

/** A schema of the tables from sample rows: the columns are the rows' keys, no more. */
export function schemaOf(tables: Tables): any {
  const K = language();
  const S = K.Symbols;
  const members = new ((globalThis as any).System.Collections.Generic.List$1(S.Symbol).ctor)();
  for (const [name, rows] of Object.entries(tables)) {
    const columns = new Map<string, string>();
    for (const row of rows) {
      for (const [column, value] of Object.entries(row)) columns.set(column, kqlType(value));
    }
    const spec = [...columns].map(([column, type]) => `${column}:${type}`).join(', ');
    members.add(S.TableSymbol.From(`(${spec})`).WithName(name));
  }
  return K.GlobalState.Default.WithDatabase(new S.DatabaseSymbol.$ctor1('logs', members, false));
}

export interface Diagnostic {
  readonly severity: string;
  readonly message: string;
  readonly text: string;
}

/** Parses and analyzes `query` against `schema`; returns every diagnostic. */
export function analyze(query: string, schema: any): Diagnostic[] {
  const code = language().KustoCode.ParseAndAnalyze(query, schema);
  const diagnostics = code.GetDiagnostics();
  const found: Diagnostic[] = [];
  for (let i = 0; i < diagnostics.Count; i += 1) {
    const d = diagnostics.getItem(i);
    found.push({
      severity: String(d.Severity),
      message: String(d.Message),
      text: query.substr(d.Start, d.Length),
    });
  }
  return found;
}

/** The class name of a node without namespace or generic arguments, for example `SyntaxList`. */
const kindOf = (node: Node): string =>
  String(node.constructor.$$name).split('$')[0]!.split(/[.+]/).pop()!;

/** The children of a node, with list and separator wrappers flattened away. */
function children(node: Node): Node[] {
  const out: Node[] = [];
  for (let i = 0; i < node.ChildCount; i += 1) {
    const child = node.GetChild(i);
    if (!child) continue;
    const kind = kindOf(child);
    if (kind.startsWith('SyntaxList') || kind.startsWith('SeparatedElement'))
      out.push(...children(child));
    else out.push(child);
  }
  return out;
}
const nodes = (node: Node): Node[] => children(node).filter((c) => !c.IsToken);
const tokens = (node: Node): string[] =>
  children(node)
    .filter((c) => c.IsToken)
    .map((c) => String(c.Text));

function nameOf(node: Node): string {
  const kind = kindOf(node);
  if (node.IsToken) return String(node.Text);
  if (kind === 'NameReference' || kind === 'NameDeclaration' || kind === 'TokenName')
    return nameOf(children(node)[0]);
  throw new Error(`not a name: ${kind}`);
}

function allNodes(node: Node, visit: (n: Node) => void): void {
  visit(node);
  if (node.IsToken) return;
  for (let i = 0; i < node.ChildCount; i += 1) {
    const child = node.GetChild(i);
    if (child) allNodes(child, visit);
  }
}

/**
 * The members read from `<root>.<member>` paths of the query, for each root name: for example
 * `{ record: ['code', 'status'], Properties: ['EventName'] }`.
 */
export function memberReads(query: string): Record<string, string[]> {
  const code = language().KustoCode.Parse(query);
  const reads: Record<string, Set<string>> = {};
  allNodes(code.Syntax, (node) => {
    if (node.IsToken || kindOf(node) !== 'PathExpression') return;
    const [root, member] = nodes(node);
    if (kindOf(root) !== 'NameReference') return;
    (reads[nameOf(root)] ??= new Set()).add(nameOf(member));
  });
  return Object.fromEntries(Object.entries(reads).map(([k, v]) => [k, [...v].sort()]));
}

const TIMESPAN_MS: Readonly<Record<string, number>> = {
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
};

function literal(text: string): unknown {
  if (/^'.*'$/s.test(text)) return text.slice(1, -1).replace(/\\(.)/g, '$1');
  if (/^".*"$/s.test(text)) return JSON.parse(text) as string;
  if (text === 'true' || text === 'false') return text === 'true';
  const span = /^(\d+)(d|h|ms|m|s)$/.exec(text);
  if (span) return Number(span[1]) * TIMESPAN_MS[span[2]!]!;
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  throw new Error(`literal not in the subset: ${text}`);
}

/** A comparable form: dates as their time. */
const plain = (value: unknown): unknown => (value instanceof Date ? value.getTime() : value);
function toText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}

interface Scope {
  readonly lets: Map<string, unknown>;
  readonly tables: Tables;
}

function scalar(node: Node, row: Row, scope: Scope): unknown {
  const kind = kindOf(node);
  switch (kind) {
    case 'LiteralExpression':
      return literal(tokens(node)[0]!);
    case 'NameReference': {
      const name = nameOf(node);
      if (name in row) return row[name];
      if (scope.lets.has(name)) return scope.lets.get(name);
      throw new Error(`unknown name ${name}`);
    }
    case 'ParenthesizedExpression':
      return scalar(nodes(node)[0], row, scope);
    case 'ToScalarExpression': {
      const first = tabular(nodes(node).at(-1), scope)[0];
      return first === undefined ? null : (Object.values(first)[0] ?? null);
    }
    case 'PathExpression': {
      const [target, member] = nodes(node);
      const value = scalar(target, row, scope);
      return value !== null && typeof value === 'object'
        ? ((value as Record<string, unknown>)[nameOf(member)] ?? null)
        : null;
    }
    case 'BinaryExpression': {
      const [left, right] = nodes(node);
      const operator = tokens(node)[0]!;
      const a = plain(scalar(left, row, scope));
      if (operator === 'and') return a === true && plain(scalar(right, row, scope)) === true;
      if (operator === 'or') return a === true || plain(scalar(right, row, scope)) === true;
      const b = plain(scalar(right, row, scope));
      switch (operator) {
        case '==':
          return a === b;
        case '!=':
          return a !== b;
        case '>=':
          return (a as number) >= (b as number);
        case '>':
          return (a as number) > (b as number);
        case '<=':
          return (a as number) <= (b as number);
        case '<':
          return (a as number) < (b as number);
        case 'startswith':
          return toText(a).toLowerCase().startsWith(toText(b).toLowerCase());
        default:
          throw new Error(`operator not in the subset: ${operator}`);
      }
    }
    case 'FunctionCallExpression': {
      const [name, list] = nodes(node);
      const fn = nameOf(name);
      const args = nodes(list);
      const values = args.map((arg) => scalar(arg, row, scope));
      switch (fn) {
        case 'parse_json':
          try {
            return JSON.parse(toText(values[0])) as unknown;
          } catch {
            return toText(values[0]);
          }
        case 'tostring':
          return toText(values[0]);
        case 'toint': {
          const n = Number(plain(values[0]));
          return values[0] === null || Number.isNaN(n) ? null : Math.trunc(n);
        }
        case 'isempty':
          return values[0] === null || values[0] === undefined || values[0] === '';
        case 'isnotempty':
          return !(values[0] === null || values[0] === undefined || values[0] === '');
        case 'bin': {
          const size = values[1] as number;
          const value = plain(values[0]) as number;
          const binned = Math.floor(value / size) * size;
          return values[0] instanceof Date ? new Date(binned) : binned;
        }
        default:
          throw new Error(`function not in the subset: ${fn}`);
      }
    }
    default:
      throw new Error(`expression not in the subset: ${kind}`);
  }
}

/** The column name and value expression of a projected or aggregated expression. */
function named(node: Node): { name: string | undefined; expression: Node } {
  if (kindOf(node) === 'SimpleNamedExpression') {
    const [declaration, expression] = nodes(node);
    return { name: nameOf(declaration), expression };
  }
  return { name: undefined, expression: node };
}

function defaultName(expression: Node): string {
  const kind = kindOf(expression);
  if (kind === 'NameReference') return nameOf(expression);
  if (kind === 'FunctionCallExpression') {
    const [name, list] = nodes(expression);
    const fn = nameOf(name);
    const first = nodes(list)[0];
    if (fn === 'bin' && first) return defaultName(first);
    return first && kindOf(first) === 'NameReference' ? `${fn}_${nameOf(first)}` : fn;
  }
  if (kind === 'PathExpression') return nameOf(nodes(expression)[1]);
  throw new Error(`cannot name ${kind}`);
}

function aggregate(expression: Node, group: Row[], scope: Scope): unknown {
  const [name, list] = nodes(expression);
  const fn = nameOf(name);
  const args = nodes(list);
  const each = (arg: Node) => group.map((row) => scalar(arg, row, scope));
  switch (fn) {
    case 'count':
      return group.length;
    case 'sum':
      return each(args[0]).reduce((s: number, v) => s + Number(plain(v) ?? 0), 0);
    case 'sumif':
      return group.reduce(
        (s, row) =>
          scalar(args[1], row, scope) === true ? s + Number(plain(scalar(args[0], row, scope))) : s,
        0,
      );
    case 'max':
    case 'min': {
      const values = each(args[0]).filter((v) => v !== null && v !== undefined);
      if (values.length === 0) return null;
      return values.reduce((best, v) =>
        (fn === 'max' ? plain(v)! > plain(best)! : plain(v)! < plain(best)!) ? v : best,
      );
    }
    default:
      throw new Error(`aggregate not in the subset: ${fn}`);
  }
}

function compare(a: unknown, b: unknown): number {
  const x = plain(a);
  const y = plain(b);
  if (x === y) return 0;
  if (x === null || x === undefined) return -1;
  if (y === null || y === undefined) return 1;
  return (x as number) < (y as number) ? -1 : 1;
}

function operate(rows: Row[], operator: Node, scope: Scope): Row[] {
  const kind = kindOf(operator);
  const parts = nodes(operator);
  switch (kind) {
    case 'FilterOperator':
      return rows.filter((row) => scalar(parts.at(-1), row, scope) === true);
    case 'ExtendOperator':
    case 'ProjectOperator':
      return rows.map((row) => {
        const out: Row = kind === 'ExtendOperator' ? { ...row } : {};
        for (const part of parts) {
          const { name, expression } = named(part);
          out[name ?? defaultName(expression)] = scalar(expression, row, scope);
        }
        return out;
      });
    case 'DistinctOperator': {
      const seen = new Map<string, Row>();
      for (const row of rows) {
        const out: Row = {};
        for (const part of parts) out[nameOf(part)] = row[nameOf(part)];
        seen.set(JSON.stringify(out), out);
      }
      return [...seen.values()];
    }
    case 'SummarizeOperator': {
      const by = parts.find((p) => kindOf(p) === 'SummarizeByClause');
      const aggregates = parts.filter((p) => kindOf(p) !== 'SummarizeByClause');
      const keys = by ? nodes(by).map(named) : [];
      const groups = new Map<string, { key: Row; rows: Row[] }>();
      for (const row of rows) {
        const key: Row = {};
        for (const k of keys)
          key[k.name ?? defaultName(k.expression)] = scalar(k.expression, row, scope);
        const id = JSON.stringify(key, (_k, v: unknown) => v);
        const group = groups.get(id) ?? { key, rows: [] };
        group.rows.push(row);
        groups.set(id, group);
      }
      if (keys.length === 0 && groups.size === 0) groups.set('{}', { key: {}, rows: [] });
      return [...groups.values()].map(({ key, rows: group }) => {
        const out: Row = { ...key };
        for (const a of aggregates) {
          const { name, expression } = named(a);
          out[name ?? defaultName(expression)] = aggregate(expression, group, scope);
        }
        return out;
      });
    }
    case 'SortOperator': {
      const orders = parts.map((part) => {
        const [expression] = nodes(part);
        const ordering = nodes(part).find((n) => kindOf(n) === 'OrderingClause');
        const direction = ordering && tokens(ordering).includes('asc') ? 1 : -1;
        return { expression: expression ?? part, direction };
      });
      return [...rows].sort((a, b) => {
        for (const { expression, direction } of orders) {
          const c = compare(scalar(expression, a, scope), scalar(expression, b, scope));
          if (c !== 0) return c * direction;
        }
        return 0;
      });
    }
    case 'TakeOperator':
      return rows.slice(0, scalar(parts[0], {}, scope) as number);
    case 'JoinOperator': {
      const kindParameter = parts.find((p) => kindOf(p) === 'NamedParameter');
      const joinKind = kindParameter ? tokens(nodes(kindParameter)[1])[0] : 'innerunique';
      if (joinKind !== 'leftanti') throw new Error(`join kind not in the subset: ${joinKind}`);
      const right = tabular(
        parts.find((p) => kindOf(p) !== 'NamedParameter' && kindOf(p) !== 'JoinOnClause'),
        scope,
      );
      const on = nodes(parts.find((p) => kindOf(p) === 'JoinOnClause')).map(nameOf);
      const keyOf = (row: Row) => JSON.stringify(on.map((column) => plain(row[column])));
      const present = new Set(right.map(keyOf));
      return rows.filter((row) => !present.has(keyOf(row)));
    }
    default:
      throw new Error(`operator not in the subset: ${kind}`);
  }
}

function tabular(node: Node, scope: Scope): Row[] {
  const kind = kindOf(node);
  if (kind === 'PipeExpression') {
    const [source, operator] = nodes(node);
    return operate(tabular(source, scope), operator, scope);
  }
  if (kind === 'ParenthesizedExpression') return tabular(nodes(node)[0], scope);
  if (kind === 'UnionOperator') {
    // A column one table lacks is null in its rows.
    const rows = nodes(node)
      .filter((n) => kindOf(n) !== 'NamedParameter')
      .flatMap((n) => tabular(n, scope));
    const columns = new Set(rows.flatMap((row) => Object.keys(row)));
    return rows.map((row) => Object.fromEntries([...columns].map((c) => [c, row[c] ?? null])));
  }
  if (kind === 'NameReference') {
    const name = nameOf(node);
    const table = scope.lets.get(name) ?? scope.tables[name];
    if (!Array.isArray(table)) throw new Error(`no table ${name}`);
    return table as Row[];
  }
  throw new Error(`tabular expression not in the subset: ${kind}`);
}

/** Runs `query` over `tables` and returns the rows of its result. */
export function evaluate(query: string, tables: Tables): Row[] {
  const code = language().KustoCode.Parse(query);
  const scope: Scope = { lets: new Map(), tables };
  let result: Row[] | undefined;
  for (const statement of nodes(code.Syntax)) {
    const kind = kindOf(statement);
    if (kind === 'LetStatement') {
      const [declaration, expression] = nodes(statement);
      const name = nameOf(declaration);
      const isTabular = ['PipeExpression', 'ParenthesizedExpression'].includes(kindOf(expression));
      scope.lets.set(name, isTabular ? tabular(expression, scope) : scalar(expression, {}, scope));
    } else if (kind === 'ExpressionStatement') {
      result = tabular(nodes(statement)[0], scope);
    } else if (!kind.startsWith('Directive')) {
      throw new Error(`statement not in the subset: ${kind}`);
    }
  }
  if (!result) throw new Error('the query has no result');
  return result;
}
