// The baseline: a bare node:http server that answers what authpipe's demo `echo` answers,
// with the same body checks a careful hand-written endpoint would do (method, tenant,
// content type, JSON parse, string values). Anything authpipe costs beyond this is ours.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let status = 200;
    let body;
    try {
      if (req.method !== 'PUT' || req.headers.tenant !== 'demo' || !String(req.headers['content-type']).startsWith('application/json'))
        throw new Error('refused');
      const data = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (typeof data.username !== 'string') throw new Error('refused');
      body = { username: data.username, message: data.message, tenant: 'demo' };
    } catch {
      status = 403;
      body = { status: 'Failure', errorTranslationKeys: ['INVALID_REQUEST'] };
    }
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
      'x-request-id': randomUUID(),
    });
    res.end(text);
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => process.send?.({ port: server.address().port }));
