/** Polls /readyz until 200: a Redis-backed server is ready once its store connection is. */
export async function waitReady(url: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if ((await fetch(`${url}/readyz`)).status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms`);
}
