/** Checks a parameter value against its declaration, as ARM does before it deploys. */
import { TemplateError, type Json, type JsonObject } from './model';

export function validateParameter(name: string, definition: JsonObject, value: Json): void {
  const fail = (why: string): never => {
    throw new TemplateError(`Parameter '${name}': ${why}`);
  };
  const type = typeof definition.type === 'string' ? definition.type.toLowerCase() : '';
  const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  const expected: Record<string, string> = {
    string: 'string',
    securestring: 'string',
    int: 'number',
    bool: 'boolean',
    object: 'object',
    secureobject: 'object',
    array: 'array',
  };
  if (type !== '' && expected[type] !== actual) fail(`expected ${type}, got ${actual}`);
  if (
    Array.isArray(definition.allowedValues) &&
    !definition.allowedValues.some((v) => v === value)
  ) {
    fail(`${JSON.stringify(value)} is not one of ${JSON.stringify(definition.allowedValues)}`);
  }
  const length = typeof value === 'string' || Array.isArray(value) ? value.length : undefined;
  if (
    typeof definition.minLength === 'number' &&
    length !== undefined &&
    length < definition.minLength
  ) {
    fail(`length ${length} is less than the minimum ${definition.minLength}`);
  }
  if (
    typeof definition.maxLength === 'number' &&
    length !== undefined &&
    length > definition.maxLength
  ) {
    fail(`length ${length} is more than the maximum ${definition.maxLength}`);
  }
  if (
    typeof definition.minValue === 'number' &&
    typeof value === 'number' &&
    value < definition.minValue
  ) {
    fail(`${value} is less than the minimum ${definition.minValue}`);
  }
  if (
    typeof definition.maxValue === 'number' &&
    typeof value === 'number' &&
    value > definition.maxValue
  ) {
    fail(`${value} is more than the maximum ${definition.maxValue}`);
  }
}
