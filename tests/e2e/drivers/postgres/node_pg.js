// The driver matrix scenario (README.md) with node `pg`: parameterised queries go out as
// Parse/Bind/Describe/Execute/Flush then Sync without waiting; a named query (`name`) is
// parsed once per connection and bound again after.
const { Client } = require('pg');

async function main() {
  const port = Number(process.argv[2]);
  const extra = process.argv[3] || 'SELECT 42 AS answer';
  const t = 'items_node_pg';
  const c = new Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await c.connect();
  console.log('ping', (await c.query('SELECT 1 AS one')).rows[0].one);
  await c.query(`DROP TABLE IF EXISTS ${t}`);
  await c.query(`CREATE TABLE ${t} (id int PRIMARY KEY, name text, price numeric(6,2))`);
  for (let i = 1; i <= 6; i++) {
    await c.query(`INSERT INTO ${t} VALUES ($1, $2, $3)`, [i, `item-${i}`, i === 4 ? null : i * 1.25]);
  }
  for (let i = 1; i <= 6; i++) {
    const r = await c.query({ name: 'item-by-id', text: `SELECT name, price FROM ${t} WHERE id = $1`, values: [i] });
    console.log('row', i, JSON.stringify(r.rows[0]));
  }
  await c.query('BEGIN');
  await c.query(`UPDATE ${t} SET name = $1 WHERE id = $2`, ['changed', 1]);
  await c.query('ROLLBACK');
  console.log('after rollback', (await c.query(`SELECT name FROM ${t} WHERE id = $1`, [1])).rows[0].name);
  try {
    await c.query('SELECT 1/0');
  } catch (e) {
    console.log('error', e.code);
  }
  try {
    console.log('extra', JSON.stringify((await c.query(extra)).rows));
  } catch (e) {
    console.log('extra failed', e.code);
    await c.end();
    process.exit(3);
  }
  await c.end();
}

main().catch((e) => { console.error(e); process.exit(1); });
