// The driver matrix's HTTP scenario with Node's built-in fetch: node client_fetch.js BASE [EXTRA_PATH]
const [base, extra] = process.argv.slice(2);

async function main() {
  let r = await fetch(`${base}/items/42`);
  console.log('GET /items/42', r.status, await r.text());
  r = await fetch(`${base}/echo`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ word: 'hello', n: 7 }),
  });
  console.log('POST /echo', r.status, await r.text());
  r = await fetch(`${base}/missing`);
  console.log('GET /missing', r.status, await r.text());
  r = await fetch(`${base}/headers`);
  console.log('GET /headers', r.status, await r.text(), `x-reel-trace=${r.headers.get('x-reel-trace') ?? '-'}`);
  if (extra) {
    r = await fetch(base + extra);
    await r.text();
    console.log('GET', extra, r.status);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
