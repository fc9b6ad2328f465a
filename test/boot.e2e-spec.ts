import request from 'supertest';
import { createTestDatabase, type TestDatabase } from './support/test-database.js';
import { startHive, type RunningHive } from './support/hive-app.js';

describe('boot (in process)', () => {
  let db: TestDatabase;
  let hive: RunningHive;

  beforeAll(async () => {
    db = await createTestDatabase();
    hive = await startHive({ DATABASE_URL: db.url });
  });
  afterAll(async () => {
    await hive.close();
    await db.drop();
  });

  it('answers liveness without the database', async () => {
    await request(hive.url).get('/health').expect(200, { status: 'ok' });
  });

  it('names the service and its version on /', async () => {
    const res = await request(hive.url).get('/').expect(200);
    expect(res.body).toEqual({ service: 'hive', version: expect.stringMatching(/^\d+\.\d+\.\d+/) as unknown });
  });

  it('echoes a well-formed x-request-id and makes one otherwise', async () => {
    await request(hive.url).get('/').set('x-request-id', 'trace-123').expect('x-request-id', 'trace-123');
    const res = await request(hive.url).get('/').set('x-request-id', 'bad id with spaces');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
