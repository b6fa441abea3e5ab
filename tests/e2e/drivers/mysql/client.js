// The driver matrix scenario with node mysql2: query() (text protocol) and execute() (binary
// protocol, server-side prepared statements, cached and reused by the driver).
// Usage: node client.js PORT PASSWORD TABLE [IDS]: IDS (comma-separated, default 1..6) are looked up.
const mysql = require('mysql2/promise');

const [port, password, table, idList] = process.argv.slice(2);
const ids = (idList || '1,2,3,4,5,6').split(',').map(Number);
const proc = 'p' + table.slice(1);
const show = (row) => Object.values(row).map((v) => (v === null ? 'NULL' : String(v))).join(' ');

async function main() {
  const conn = await mysql.createConnection({
    host: '127.0.0.1', port: Number(port), user: 'app', password, database: 'shop',
    dateStrings: true, supportBigNumbers: true,
  });
  await conn.ping();
  const [health] = await conn.query('SELECT 1 AS health');
  console.log('health', health[0].health);
  await conn.query(`DROP TABLE IF EXISTS ${table}`);
  await conn.query(`DROP PROCEDURE IF EXISTS ${proc}`);
  await conn.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(20), price DECIMAL(8,2), seen DATETIME)`);
  const rows = [[1, 'one', '1.50', '2024-01-02 03:04:05'], [2, 'two', null, '2024-02-03 04:05:06'],
    [3, null, '3.00', null], [4, 'four', '4.25', '2024-04-05 06:07:08'],
    [5, 'five', '-5.10', '2024-05-06 07:08:09'], [6, 'six', '6.00', '2024-06-07 08:09:10']];
  const [ins] = await conn.query(`INSERT INTO ${table} VALUES ?`, [rows]);
  console.log('inserted', ins.affectedRows);
  for (const id of ids) {
    const [got] = await conn.execute(`SELECT id, name, price, seen FROM ${table} WHERE id = ?`, [id]);
    console.log('get', id, got.length ? show(got[0]) : 'none');
  }
  await conn.beginTransaction();
  const [upd] = await conn.execute(`UPDATE ${table} SET name = ? WHERE id = ?`, ['changed', 1]);
  console.log('updated', upd.affectedRows);
  await conn.rollback();
  const [after] = await conn.execute(`SELECT name FROM ${table} WHERE id = ?`, [1]);
  console.log('after rollback', after[0].name);
  for (const how of ['query', 'execute']) {
    try {
      await conn[how]('SELECT * FROM no_such_table');
    } catch (e) {
      console.log('error', how, e.errno);
    }
  }
  const [all] = await conn.execute(`SELECT id, name, price, seen FROM ${table} WHERE id > ? ORDER BY id`, [0]);
  for (const row of all) console.log('row', show(row));
  const [text] = await conn.query(`SELECT id, name, price, seen FROM ${table} ORDER BY id DESC`);
  for (const row of text) console.log('text row', show(row));
  await conn.query(`CREATE PROCEDURE ${proc}() BEGIN SELECT id, price FROM ${table} WHERE price IS NOT NULL ` +
    `ORDER BY id; SELECT COUNT(*) AS n, SUM(price) AS total FROM ${table}; END`);
  for (const how of ['query', 'execute']) {
    const [sets] = await conn[how](`CALL ${proc}()`);
    sets.forEach((set, n) => {
      if (Array.isArray(set)) for (const row of set) console.log('result', how, n + 1, show(row));
    });
  }
  await conn.end();
  console.log('done');
}

main().catch((e) => {
  console.log('failed', e.errno || '', e.message);
  process.exit(1);
});
