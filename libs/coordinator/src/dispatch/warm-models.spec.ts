import type { ClaimableAgent } from '@hive/database';
import { KEEP_ALIVE_MS, recentAfter, WarmModels } from './warm-models.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');

type Memory = Pick<ClaimableAgent, 'loaded_models' | 'loaded_capacity' | 'recent_models' | 'models_probed_at'>;

const memory = (fields: Partial<Memory>): Memory => ({
  loaded_models: [],
  loaded_capacity: 0,
  recent_models: {},
  models_probed_at: null,
  ...fields,
});

/** A model /api/ps listed, kept loaded until `expiresAt`. */
const loaded = (name: string, expiresAt: number) => ({ name, expires_at: new Date(expiresAt).toISOString() });

describe('WarmModels', () => {
  it('counts the models the last probe listed until they expire, the one used last first', () => {
    const warm = new WarmModels(
      memory({
        loaded_models: [
          loaded('older', NOW + 60_000),
          loaded('expired', NOW - 1),
          loaded('newer', NOW + 120_000),
          loaded('at-expiry', NOW),
        ],
      }),
      NOW,
    );
    expect(warm.models()).toEqual(['newer', 'older']);
    expect(warm.has('older')).toBe(true);
    expect(warm.has('expired')).toBe(false);
    expect(warm.has('at-expiry')).toBe(false);
  });

  it('ranks a model sent since the probe above those the probe listed, however long the agent keeps them', () => {
    // The agent keeps models for a day (OLLAMA_KEEP_ALIVE=24h); the probe was a minute ago; 'sent' went there since.
    const warm = new WarmModels(
      memory({
        loaded_models: [loaded('listed', NOW + 24 * 3_600_000)],
        models_probed_at: new Date(NOW - 60_000),
        recent_models: { sent: NOW - 30_000 },
        loaded_capacity: 1,
      }),
      NOW,
    );
    expect(warm.models()).toEqual(['sent']);
  });

  it('ignores a listed model whose expiry is not a date', () => {
    const warm = new WarmModels(memory({ loaded_models: [{ name: 'odd', expires_at: 'soon' }] }), NOW);
    expect(warm.models()).toEqual([]);
  });

  it('counts the models Hive sent within the keep-alive, the one sent last first', () => {
    const recent_models = {
      first: NOW - 4 * 60_000,
      last: NOW - 1_000,
      gone: NOW - KEEP_ALIVE_MS,
      edge: NOW - KEEP_ALIVE_MS + 1,
    };
    expect(new WarmModels(memory({ recent_models }), NOW).models()).toEqual(['last', 'first', 'edge']);
  });

  it('takes the later of what the probe saw and what Hive sent', () => {
    // Listed as last used 4 minutes ago (expires in 1), sent 10 s ago; other was sent 1 minute ago.
    const warm = new WarmModels(
      memory({
        loaded_models: [loaded('llama3', NOW + 60_000)],
        recent_models: { llama3: NOW - 10_000, other: NOW - 60_000 },
      }),
      NOW,
    );
    expect(warm.models()).toEqual(['llama3', 'other']);
  });

  it('counts at most as many models as the agent was seen holding at once, dropping the least recently used', () => {
    const agent = memory({
      loaded_models: [loaded('a', NOW + 60_000)],
      recent_models: { b: NOW - 1_000, c: NOW - 2_000 },
      loaded_capacity: 2,
    });
    const warm = new WarmModels(agent, NOW);
    expect(warm.models()).toEqual(['b', 'c']);
    expect(warm.has('a')).toBe(false);
  });

  it('counts every recent model while the capacity is unknown', () => {
    const recent_models = Object.fromEntries(['a', 'b', 'c', 'd'].map((m, i) => [m, NOW - i * 1_000]));
    expect(new WarmModels(memory({ recent_models }), NOW).models()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('puts a model used now first in line, evicting the least recently used beyond capacity', () => {
    const warm = new WarmModels(memory({ recent_models: { a: NOW - 2_000, b: NOW - 1_000 }, loaded_capacity: 2 }), NOW);
    warm.use('a');
    expect(warm.models()).toEqual(['a', 'b']);
    warm.use('c');
    expect(warm.models()).toEqual(['c', 'a']);
    expect(warm.has('b')).toBe(false);
  });

  it('counts the model used last as loaded when several are used in the same claim', () => {
    const warm = new WarmModels(memory({ loaded_capacity: 1 }), NOW);
    warm.use('a');
    warm.use('b');
    expect(warm.models()).toEqual(['b']);
    warm.use('a');
    expect(warm.models()).toEqual(['a']);
  });

  it("leaves the agent's record as it was", () => {
    const agent = memory({ recent_models: { a: NOW - 1_000 } });
    new WarmModels(agent, NOW).use('b');
    expect(agent.recent_models).toEqual({ a: NOW - 1_000 });
  });
});

describe('recentAfter', () => {
  it('records when each model was sent', () => {
    expect(recentAfter({}, ['llama3', 'mistral'], NOW)).toEqual({ llama3: NOW, mistral: NOW });
    expect(recentAfter({ llama3: NOW - 60_000 }, ['mistral'], NOW)).toEqual({ llama3: NOW - 60_000, mistral: NOW });
  });

  it('writes a model again only once its record is a second old', () => {
    expect(recentAfter({ llama3: NOW - 999 }, ['llama3'], NOW)).toBeUndefined();
    expect(recentAfter({ llama3: NOW - 1_000 }, ['llama3'], NOW)).toEqual({ llama3: NOW });
  });

  it('drops the models past their keep-alive, which is a change worth a write', () => {
    const recent = { gone: NOW - KEEP_ALIVE_MS, kept: NOW - KEEP_ALIVE_MS + 1 };
    expect(recentAfter(recent, [], NOW)).toEqual({ kept: NOW - KEEP_ALIVE_MS + 1 });
    expect(recentAfter({ gone: NOW - KEEP_ALIVE_MS, llama3: NOW - 10 }, ['llama3'], NOW)).toEqual({ llama3: NOW - 10 });
  });

  it('is undefined when nothing changed', () => {
    expect(recentAfter({}, [], NOW)).toBeUndefined();
    expect(recentAfter({ llama3: NOW - 60_000 }, [], NOW)).toBeUndefined();
  });

  it('leaves the record it was given as it was', () => {
    const recent = { gone: NOW - KEEP_ALIVE_MS, llama3: NOW - 5_000 };
    recentAfter(recent, ['llama3', 'mistral'], NOW);
    expect(recent).toEqual({ gone: NOW - KEEP_ALIVE_MS, llama3: NOW - 5_000 });
  });
});
