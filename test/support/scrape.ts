/** GET /api/metrics of a running Hive; throws unless it answers 200 with Prometheus text. */
export async function scrape(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/metrics`);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`/api/metrics answered ${res.status}: ${text}`);
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('text/plain')) throw new Error(`/api/metrics answered ${type}, not Prometheus text`);
  return text;
}
