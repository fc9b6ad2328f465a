import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { openStoreWorld, type StoreWorld } from '../../../../test/support/store-fixture.js';
import type { NewApiKey } from './api-keys/api-key.types.js';

/** ApiKeyStore on a real PostgreSQL: keys are stored and found by their SHA-256 only. */
describe('ApiKeyStore', () => {
  let world: StoreWorld;

  beforeAll(async () => {
    world = await openStoreWorld();
  });
  afterAll(() => world.close());

  /** A key of its own: its hash and prefix, as the API makes them. */
  function newKey(overrides: Partial<NewApiKey> = {}): NewApiKey {
    const key = `hive_${randomBytes(24).toString('base64url')}`;
    return {
      name: `key ${randomUUID()}`,
      role: 'operator',
      hash: createHash('sha256').update(key).digest(),
      prefix: key.slice(0, 12),
      ...overrides,
    };
  }

  it('create stores a key and answers its view, never the hash', async () => {
    const expiresAt = new Date('2031-02-03T04:05:06.000Z');
    const key = newKey({ role: 'viewer', expiresAt });

    const view = await world.keys.create(key);

    expect(view).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
      name: key.name,
      role: 'viewer',
      key_prefix: key.prefix,
      created_at: expect.any(Date) as unknown,
      last_used_at: null,
      expires_at: expiresAt,
      revoked_at: null,
    });
    const [stored] = await world.sql<{ key_hash: Buffer }>(`SELECT key_hash FROM api_keys WHERE id = $1`, [view.id]);
    expect(stored?.key_hash.equals(key.hash)).toBe(true);
  });

  it('adopt stores a key once per hash', async () => {
    const key = newKey({ role: 'admin' });
    await expect(world.keys.adopt(key)).resolves.toBe(true);
    await expect(world.keys.adopt({ ...key, name: 'again' })).resolves.toBe(false);

    const created = newKey();
    await world.keys.create(created);
    await expect(world.keys.adopt(created)).resolves.toBe(false);

    const rows = await world.sql<{ name: string; role: string }>(
      `SELECT name, role FROM api_keys WHERE key_hash = ANY($1) ORDER BY name`,
      [[key.hash, created.hash]],
    );
    expect(rows).toEqual(
      [
        { name: key.name, role: 'admin' },
        { name: created.name, role: 'operator' },
      ].sort((a, b) => a.name.localeCompare(b.name)),
    );
  });

  it('list answers every key, newest first', async () => {
    const made = [];
    for (const role of ['admin', 'operator', 'viewer'] as const) made.push(await world.keys.create(newKey({ role })));

    const listed = await world.keys.list();

    const ids = made.map((k) => k.id);
    expect(listed.filter((k) => ids.includes(k.id))).toEqual([...made].reverse());
    const times = listed.map((k) => k.created_at.getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('revoke answers the hash, keeps the first revocation time, and undefined for an unknown key', async () => {
    const key = newKey();
    const { id } = await world.keys.create(key);

    const hash = await world.keys.revoke(id);

    expect(hash?.equals(key.hash)).toBe(true);
    const [first] = (await world.keys.list()).filter((k) => k.id === id);
    expect(first?.revoked_at).toEqual(expect.any(Date));
    expect((await world.keys.revoke(id))?.equals(key.hash)).toBe(true);
    const [second] = (await world.keys.list()).filter((k) => k.id === id);
    expect(second?.revoked_at).toEqual(first?.revoked_at);
    await expect(world.keys.revoke(randomUUID())).resolves.toBeUndefined();
  });

  it('findActive finds a key by its hash unless it is revoked', async () => {
    const expiresAt = new Date('2030-01-01T00:00:00.000Z');
    const key = newKey({ role: 'admin', expiresAt });
    const { id } = await world.keys.create(key);

    await expect(world.keys.findActive(key.hash)).resolves.toEqual({
      id,
      name: key.name,
      role: 'admin',
      expires_at: expiresAt,
    });
    await expect(world.keys.findActive(newKey().hash)).resolves.toBeUndefined();
    await world.keys.revoke(id);
    await expect(world.keys.findActive(key.hash)).resolves.toBeUndefined();
  });

  it('touch records when a key was used', async () => {
    const { id } = await world.keys.create(newKey());
    const other = await world.keys.create(newKey());

    await world.keys.touch(id);

    const listed = (await world.keys.list()).filter((k) => k.id === id || k.id === other.id);
    expect(listed.find((k) => k.id === id)?.last_used_at).toEqual(expect.any(Date));
    expect(listed.find((k) => k.id === other.id)?.last_used_at).toBeNull();
    await expect(world.keys.touch(randomUUID())).resolves.toBeUndefined();
  });
});
