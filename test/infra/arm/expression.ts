/** Parses the body of an ARM template expression (`[...]` without the brackets) into a tree. */
import { TemplateError } from './model';

export type Expr =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'call'; name: string; args: Expr[] }
  | { kind: 'property'; target: Expr; name: string }
  | { kind: 'index'; target: Expr; index: Expr };

export function parseExpression(source: string): Expr {
  let pos = 0;
  const peek = (): string => source[pos] ?? '';
  const skipSpace = (): void => {
    while (/\s/.test(peek())) pos += 1;
  };
  const expect = (char: string): void => {
    skipSpace();
    if (peek() !== char) throw new TemplateError(`Expected '${char}' at ${pos} in ${source}`);
    pos += 1;
  };
  const parsePrimary = (): Expr => {
    skipSpace();
    const char = peek();
    if (char === "'") {
      pos += 1;
      let value = '';
      for (;;) {
        if (pos >= source.length) throw new TemplateError(`Unterminated string in ${source}`);
        const c = source[pos] ?? '';
        pos += 1;
        if (c === "'") {
          if (peek() === "'") {
            value += "'";
            pos += 1;
          } else break;
        } else value += c;
      }
      return { kind: 'string', value };
    }
    const number = /^-?\d+/.exec(source.slice(pos));
    if (number !== null) {
      pos += number[0].length;
      return { kind: 'number', value: Number(number[0]) };
    }
    const name = /^[A-Za-z_][\w.]*/.exec(source.slice(pos));
    if (name === null) throw new TemplateError(`Unexpected '${char}' at ${pos} in ${source}`);
    pos += name[0].length;
    expect('(');
    const args: Expr[] = [];
    skipSpace();
    if (peek() === ')') pos += 1;
    else {
      for (;;) {
        args.push(parseChain());
        skipSpace();
        if (peek() === ',') pos += 1;
        else if (peek() === ')') {
          pos += 1;
          break;
        } else throw new TemplateError(`Expected ',' or ')' at ${pos} in ${source}`);
      }
    }
    return { kind: 'call', name: name[0], args };
  };
  const parseChain = (): Expr => {
    let expr = parsePrimary();
    for (;;) {
      skipSpace();
      if (peek() === '.') {
        pos += 1;
        const name = /^[A-Za-z_$][\w$-]*/.exec(source.slice(pos));
        if (name === null)
          throw new TemplateError(`Expected a property name at ${pos} in ${source}`);
        pos += name[0].length;
        expr = { kind: 'property', target: expr, name: name[0] };
      } else if (peek() === '[') {
        pos += 1;
        const index = parseChain();
        expect(']');
        expr = { kind: 'index', target: expr, index };
      } else return expr;
    }
  };
  const expr = parseChain();
  skipSpace();
  if (pos !== source.length) throw new TemplateError(`Unexpected text at ${pos} in ${source}`);
  return expr;
}
