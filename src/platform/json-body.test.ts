import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from './errors.ts';
import { findJsonProblem, JSON_MAX_DEPTH, parseJsonBody } from './json-body.ts';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('findJsonProblem', () => {
  test('accepts ordinary JSON, exact numbers and a __proto__ key', () => {
    for (const ok of [
      '{"a":1,"b":[1,2,{"c":"d"}],"e":null,"f":true,"g":false}',
      '[0.1, 1.5, -0, 1e2, 1E+2, 2.50, 5e-324, 9007199254740992, 1.7976931348623157e308, 1234567890123456e-10, 0e999]',
      '{"__proto__": {"polluted": true}, "constructor": {"prototype": {}}}',
      '{"a": {"x": 1}, "b": {"x": 2}}',
      '"\\ud83d\\ude00 \\u00e9 \\n \\" \\\\"',
      '{"k\\u0061": 1, "kb": 2}',
      nested(JSON_MAX_DEPTH),
    ]) {
      assert.equal(findJsonProblem(ok), null, ok);
    }
  });

  test('refuses nesting deeper than the limit, naming where', () => {
    assert.match(findJsonProblem(nested(JSON_MAX_DEPTH + 1)) ?? '', /nested more than 64 levels deep/);
    assert.match(findJsonProblem(`{"firebase_data": ${nested(5000)}}`) ?? '', /64 levels deep \(at firebase_data\[0\]\[0\]/);
    assert.match(findJsonProblem(`{"a": ${'{"b":'.repeat(100)}1${'}'.repeat(100)}}`) ?? '', /at a\.b\.b/);
  });

  test('refuses numbers a double does not hold exactly', () => {
    assert.match(findJsonProblem('{"n": 12345678901234567890}') ?? '', /number 12345678901234567890 at n cannot be stored exactly \(it would become 12345678901234567000\)/);
    assert.match(findJsonProblem('[1, 1e309]') ?? '', /number 1e309 at \[1\] is beyond the range/);
    assert.match(findJsonProblem('[-1e400]') ?? '', /beyond the range/);
    assert.match(findJsonProblem('{"a": [0.10000000000000001]}') ?? '', /at a\[0\] cannot be stored exactly/);
    assert.match(findJsonProblem('1e-400') ?? '', /it would become 0/);
    assert.match(findJsonProblem('9007199254740993') ?? '', /at the top level/);
    const long = `[${'1'.repeat(500)}]`;
    const msg = findJsonProblem(long) ?? '';
    assert.ok(msg.length < 200, 'a long number is truncated in the message');
    assert.match(msg, /1{40}…/);
  });

  test('refuses duplicate keys, also when escaped differently', () => {
    assert.match(findJsonProblem('{"a": 1, "a": 2}') ?? '', /object at the top level has the key "a" more than once/);
    assert.match(findJsonProblem('{"x": {"k": 1, "\\u006b": 2}}') ?? '', /object at x has the key "k" more than once/);
    assert.match(findJsonProblem('[{"a":1},{"b":1,"b":2}]') ?? '', /object at \[1\] has the key "b"/);
  });

  test('refuses NUL and unpaired surrogates in strings and keys', () => {
    assert.match(findJsonProblem('{"name": "a\\u0000b"}') ?? '', /string at name contains a NUL character/);
    assert.match(findJsonProblem('{"a\\u0000": 1}') ?? '', /a key in the object at the top level contains a NUL/);
    assert.match(findJsonProblem('["\\ud800"]') ?? '', /string at \[0\] contains an unpaired surrogate \(\\ud800\)/);
    assert.match(findJsonProblem('["\\udc00x"]') ?? '', /unpaired surrogate/);
    assert.match(findJsonProblem('["\\ud800\\u0041"]') ?? '', /unpaired surrogate/);
    assert.match(findJsonProblem('["\ud800"]') ?? '', /unpaired surrogate/);
  });

  test('leaves syntax errors to JSON.parse', () => {
    for (const bad of ['{', '{"a":', '[1,,]', '"abc', 'nope', '{"a" 1}', '-', '"\\u12"']) assert.equal(findJsonProblem(bad), null, bad);
  });
});

describe('parseJsonBody', () => {
  const refuse = (raw: Buffer | string, re: RegExp) =>
    assert.throws(() => parseJsonBody(raw), (err: unknown) => err instanceof AppError && err.status === 400 && re.test(err.message));

  test('parses, and an empty body is no body', () => {
    assert.deepEqual(parseJsonBody(Buffer.from('{"a":[1,"é"]}')), { a: [1, 'é'] });
    assert.equal(parseJsonBody(Buffer.alloc(0)), undefined);
  });

  test('keeps __proto__ as an own property without touching any prototype', () => {
    const v = parseJsonBody(Buffer.from('{"__proto__": {"polluted": 1}}')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(v), ['__proto__']);
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(JSON.stringify(v), '{"__proto__":{"polluted":1}}');
  });

  test('refuses invalid UTF-8, malformed JSON and scanner problems with a 400', () => {
    refuse(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), /not valid UTF-8/);
    refuse(Buffer.from('{"a": 1'), /^malformed JSON body/);
    refuse(Buffer.from('{"a": 1, "a": 2}'), /^JSON body refused: .*more than once/);
  });
});
