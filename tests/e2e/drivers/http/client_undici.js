// The driver matrix's HTTP scenario with the undici package's request():
// NODE_PATH=.../node_modules node client_undici.js BASE [EXTRA_PATH]
const { Agent, request } = require('undici');

const [base, extra] = process.argv.slice(2);
const dispatcher = new Agent();

async function call(path, options = {}) {
  const r = await request(base + path, { dispatcher, ...options });
  return { status: r.statusCode, headers: r.headers, text: await r.body.text() };
}

async function main() {
  let r = await call('/items/42');
  console.log('GET /items/42', r.status, r.text);
  r = await call('/echo', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ word: 'hello', n: 7 }),
  });
  console.log('POST /echo', r.status, r.text);
  r = await call('/missing');
  console.log('GET /missing', r.status, r.text);
  r = await call('/headers');
  console.log('GET /headers', r.status, r.text, `x-reel-trace=${r.headers['x-reel-trace'] ?? '-'}`);
  if (extra) console.log('GET', extra, (await call(extra)).status);
  await dispatcher.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
