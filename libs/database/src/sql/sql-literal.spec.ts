import { escapeLiteral } from 'pg';
import { sqlLiteral } from './sql-literal.js';

describe('sqlLiteral', () => {
  it('quotes text, doubling quotes and escaping backslashes', () => {
    expect(sqlLiteral("it's")).toBe("'it''s'");
    expect(sqlLiteral('a\\b')).toBe(" E'a\\\\b'");
  });

  it('writes numbers, booleans and null as PostgreSQL reads them', () => {
    expect(sqlLiteral(45_000)).toBe("'45000'");
    expect(sqlLiteral(true)).toBe("'true'");
    expect(sqlLiteral(null)).toBe('NULL');
    expect(sqlLiteral(undefined)).toBe('NULL');
  });

  it('writes arrays as array literals, each element quoted and escaped, null as NULL', () => {
    expect(sqlLiteral([])).toBe("'{}'");
    expect(sqlLiteral(['x', 'a"b', null])).toBe(` E'{"x","a\\\\"b",NULL}'`);
    expect(sqlLiteral(['a\\b'])).toBe(` E'{"a\\\\\\\\b"}'`);
  });

  it('writes objects as JSON and dates in ISO form', () => {
    expect(sqlLiteral({ k: "v'" })).toBe(`'{"k":"v''"}'`);
    expect(sqlLiteral(new Date('2026-01-02T03:04:05.000Z'))).toBe("'2026-01-02T03:04:05.000Z'");
  });

  it('quotes text exactly as node-postgres escapeLiteral does', () => {
    const texts = ['', 'plain', "'", "''", '\\', "a'b\\c'd\\", '{"k":"v\\n\'x"}', 'é 漢字 😀', '\u0000 and \n'];
    for (const text of texts) expect(sqlLiteral(text)).toBe(escapeLiteral(text));
  });
});
