import request from 'supertest';

/** The admin key every test Hive is started with (HIVE_ADMIN_API_KEY); at least 32 characters, like production. */
export const TEST_ADMIN_KEY = 'hive_test_admin_key_0123456789abcdefghijklmnop';

export type Role = 'admin' | 'operator' | 'viewer';

/** Creates a key of `role` through the API (as admin) and returns it with its id. */
export async function createKey(url: string, role: Role, name = `${role} key`): Promise<{ id: string; key: string }> {
  const res = await request(url).post('/api/keys').set('x-api-key', TEST_ADMIN_KEY).send({ name, role }).expect(201);
  const body = res.body as { id: string; key: string };
  return { id: body.id, key: body.key };
}
