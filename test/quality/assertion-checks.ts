/**
 * The two checks of test files that `@vitest/eslint-plugin` (eslint.config.mjs) cannot express,
 * as functions of the file text, so that the tests can run them on every test file and on small
 * bad examples (proving each check can fail): `toBeDefined()` on a value the test also asserts
 * with `!` (it needs the variable's other uses), and a test whose every assertion is under a
 * condition (`vitest/no-conditional-expect` refuses any conditional assertion, also beside
 * unconditional ones). Each returns the problems it found, as `line: what`; an empty list means
 * the file passes.
 */
import ts from 'typescript';

const TEST_CALLS = new Set(['it', 'test']);

function lineOf(source: ts.SourceFile, node: ts.Node): number {
  return source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
}

/** `expect(...)` and `expect.soft(...)`, the start of every assertion chain. */
function isExpectCall(node: ts.Node): node is ts.CallExpression {
  if (!ts.isCallExpression(node)) return false;
  const callee = node.expression;
  if (ts.isIdentifier(callee)) return callee.text === 'expect';
  return (
    ts.isPropertyAccessExpression(callee) &&
    ts.isIdentifier(callee.expression) &&
    callee.expression.text === 'expect'
  );
}

/** The matcher called on `expect(value)`, if the chain is `expect(value)[.not].matcher(...)`. */
function matcherOf(expectCall: ts.CallExpression): string | undefined {
  let node: ts.Node = expectCall;
  while (ts.isPropertyAccessExpression(node.parent)) {
    const name = node.parent.name.text;
    if (name !== 'not' && name !== 'resolves' && name !== 'rejects') {
      return ts.isCallExpression(node.parent.parent) ? name : undefined;
    }
    node = node.parent;
  }
  return undefined;
}

/** The body of an `it(name, fn)` / `test(name, fn)` call (with `.each`, `.skipIf(...)` and so on). */
function testBody(node: ts.CallExpression): ts.Node | undefined {
  let callee: ts.Expression = node.expression;
  for (;;) {
    if (ts.isCallExpression(callee)) callee = callee.expression;
    else if (ts.isPropertyAccessExpression(callee)) callee = callee.expression;
    else break;
  }
  if (!ts.isIdentifier(callee) || !TEST_CALLS.has(callee.text)) return undefined;
  const fn = node.arguments.find((a) => ts.isArrowFunction(a) || ts.isFunctionExpression(a));
  return fn === undefined ? undefined : fn.body;
}

function isConditional(node: ts.Node): boolean {
  return (
    ts.isIfStatement(node) ||
    ts.isConditionalExpression(node) ||
    (ts.isBinaryExpression(node) &&
      [
        ts.SyntaxKind.AmpersandAmpersandToken,
        ts.SyntaxKind.BarBarToken,
        ts.SyntaxKind.QuestionQuestionToken,
      ].includes(node.operatorToken.kind))
  );
}

/** Whether `node` only runs under a condition inside `body` (an if, `? :`, `&&`, `||`, `??`). */
function underCondition(node: ts.Node, body: ts.Node): boolean {
  for (let at = node.parent; at !== body; at = at.parent) {
    if (isConditional(at)) return true;
  }
  return false;
}

function collect<T extends ts.Node>(root: ts.Node, match: (node: ts.Node) => node is T): T[] {
  const found: T[] = [];
  const visit = (node: ts.Node): void => {
    if (match(node)) found.push(node);
    ts.forEachChild(node, visit);
  };
  visit(root);
  return found;
}

function enclosingFunction(node: ts.Node): ts.Node {
  let at = node.parent;
  while (!ts.isSourceFile(at) && !ts.isFunctionLike(at)) at = at.parent;
  return at;
}

/** Whether `name` is declared from a `!` expression, or used as `name!`, in the same function. */
function nonNullInScope(scope: ts.Node, name: string): boolean {
  return (
    collect(
      scope,
      (node): node is ts.Node =>
        (ts.isVariableDeclaration(node) &&
          ts.isIdentifier(node.name) &&
          node.name.text === name &&
          node.initializer !== undefined &&
          ts.isNonNullExpression(node.initializer)) ||
        (ts.isNonNullExpression(node) &&
          ts.isIdentifier(node.expression) &&
          node.expression.text === name),
    ).length > 0
  );
}

export function assertionProblems(text: string, fileName = 'test.ts'): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
  const problems: string[] = [];
  const expects = collect(source, isExpectCall);

  for (const call of expects) {
    const matcher = matcherOf(call);
    const value = call.arguments[0];
    if (matcher === 'toBeDefined' && value !== undefined) {
      const nonNull =
        ts.isNonNullExpression(value) ||
        (ts.isIdentifier(value) && nonNullInScope(enclosingFunction(call), value.text));
      if (nonNull) {
        problems.push(
          `${lineOf(source, call)}: toBeDefined() on a value the code already asserted non-null with '!': use defined() from test/support/assert.ts`,
        );
      }
    }
  }

  const tests = collect(source, ts.isCallExpression).flatMap((call) => {
    const body = testBody(call);
    return body === undefined ? [] : [{ call, body }];
  });
  for (const { call, body } of tests) {
    const inside = expects.filter((e) => e.pos >= body.pos && e.end <= body.end);
    if (inside.length > 0 && inside.every((e) => underCondition(e, body))) {
      problems.push(
        `${lineOf(source, call)}: every assertion of this test is under a condition, so it can pass asserting nothing`,
      );
    }
  }
  return problems;
}
