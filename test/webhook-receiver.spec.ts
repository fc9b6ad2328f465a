import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

describe('webhook receiver (real HTTP)', () => {
  let receiver: WebhookReceiver;

  const post = (body = '{}', headers: Record<string, string> = {}, url = receiver.url): Promise<Response> =>
    fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
  const statusOf = async (res: Promise<Response>): Promise<number> => {
    const answer = await res;
    await answer.arrayBuffer();
    return answer.status;
  };

  afterEach(async () => {
    await receiver.close();
  });

  it('answers from the queue in order, then the default; respondWith and setDefault change both', async () => {
    receiver = await startWebhookReceiver({ responses: [{ status: 500 }, { status: 200 }] });
    expect(await statusOf(post())).toBe(500);
    expect(await statusOf(post())).toBe(200);
    expect(await statusOf(post())).toBe(200); // queue empty: the initial default

    receiver.setDefault({ status: 410 });
    receiver.respondWith({ status: 503 }, { status: 202, delayMs: 50 });
    expect(await statusOf(post())).toBe(503);
    expect(await statusOf(post())).toBe(202);
    expect(await statusOf(post())).toBe(410);

    expect(receiver.requests.map((r) => r.answeredWith)).toEqual([500, 200, 200, 503, 202, 410]);
  });

  it('records method, path, lower-case headers and the raw body byte for byte', async () => {
    receiver = await startWebhookReceiver();
    // Odd spacing and non-ASCII (2-, 3- and 4-byte characters): a re-serialised body would differ.
    const body = '{"event":  "task.completed",\n "text": "héllo € 😀 日本"}\r\n';
    const res = await post(body, { 'Webhook-Id': 'msg_1', 'X-Custom-Header': 'Value' }, `${receiver.url}/a?b=1`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();

    await receiver.waitForRequests(1);
    const [request] = receiver.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/hooks/a?b=1', body, answeredWith: 200 });
    expect(Buffer.from(request?.body ?? '', 'utf8').equals(Buffer.from(body, 'utf8'))).toBe(true);
    expect(request?.headers).toMatchObject({
      'webhook-id': 'msg_1',
      'x-custom-header': 'Value',
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
    });
    expect(typeof request?.receivedAt).toBe('number');
  });

  it('waits for requests arriving later, and says how many arrived when they do not', async () => {
    receiver = await startWebhookReceiver();
    const two = receiver.waitForRequests(2);
    await statusOf(post('1'));
    await statusOf(post('2'));
    await expect(two).resolves.toBeUndefined();
    expect(receiver.requests.map((r) => r.body)).toEqual(['1', '2']);

    await expect(receiver.waitForRequests(3, 50)).rejects.toThrow(/expected 3 requests within 50 ms, got 2/);
  });

  it('resets the connection for a reset response', async () => {
    receiver = await startWebhookReceiver({ responses: [{ kind: 'reset' }] });
    await expect(post()).rejects.toMatchObject({ message: 'fetch failed', cause: { code: 'ECONNRESET' } });
    expect(await statusOf(post())).toBe(200);
    expect(receiver.requests.map((r) => r.answeredWith)).toEqual(['reset', 200]);
  });

  it('never answers a hanging request, and close() ends it promptly', async () => {
    receiver = await startWebhookReceiver();
    receiver.setDefault({ kind: 'hang' });
    const pending = post('{"n":1}');
    const outcome = pending.then(
      () => 'answered',
      () => 'failed',
    );
    await receiver.waitForRequests(1);
    expect(receiver.requests[0]?.answeredWith).toBe('hang');

    await receiver.close(); // would wait forever if the hanging socket stayed open
    await expect(outcome).resolves.toBe('failed');
  });
});
