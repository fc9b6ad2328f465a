import { statement } from './statement.js';

describe('statement', () => {
  it('names the statement in Hive’s namespace', () => {
    expect(statement('spec.select-one', 'SELECT 1')).toEqual({ name: 'hive.spec.select-one', text: 'SELECT 1' });
  });

  it('accepts a name declared again with the same text', () => {
    statement('spec.twice', 'SELECT 2');
    expect(statement('spec.twice', 'SELECT 2').text).toBe('SELECT 2');
  });

  it('refuses one name for two texts', () => {
    statement('spec.clash', 'SELECT 3');
    expect(() => statement('spec.clash', 'SELECT 4')).toThrow('Two statements are named hive.spec.clash');
  });
});
